"""Hugging Face model cards as a claim source: README.md front matter in the Hub's schema, local or
fetched from a (loopback) Hub at a pinned commit, listed, verified and written back."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hf_cards_world import MOBILENET_README, line_of, readme, write_card
from zoo.cli import list_cmd, show_cmd
from zoo.index import load_index
from zoo.index.sources.hf_card import metric_of

REPO = "timm/mobilenetv2_100.ra_in1k"


def listed(*args: str):
    return CliRunner().invoke(list_cmd.command, list(args))


def test_the_mobilenet_readme_is_listed_with_each_claims_line(tmp_path):
    path = write_card(tmp_path / "mobilenetv2_100", MOBILENET_README)
    result = listed("--index", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    (card,) = json.loads(result.stdout)
    top1, top5 = card["claims"]["top1"], card["claims"]["top5"]
    assert (top1["value"], top1["precision"], top1["field"]) == (72.95, 0.01, "Top 1 Accuracy")
    assert (top5["value"], top5["precision"]) == (91.0, 0.1)
    assert top1["line"] == line_of(path, "value: 72.95") and top5["line"] == line_of(path, "value: 91.0")
    assert top1["source"] == f"{path}:{top1['line']}"
    assert (card["origin"], card["library"], card["builds"]) == ("hf-model-card", "timm", f"hf-hub:{REPO}")
    table = listed("--index", str(path))
    assert "hf-model-card · timm" in table.output and f"README.md:{line_of(path, '- name: mobilenetv2_100')}" in table.output


@pytest.mark.parametrize(
    "kind,name,metric",
    [
        ("accuracy", "Top 1 Accuracy", "top1"), ("accuracy", "Top 5 Accuracy", "top5"), ("accuracy", None, "top1"),
        ("top-1 accuracy", None, "top1"), ("acc@1", "Acc@1", "top1"), ("acc@5", None, "top5"),
        ("top_5_accuracy", None, "top5"), ("top1_acc", None, "top1"), ("accuracy", "Top-5", "top5"),
        ("f1", "F1", None), ("top1_error", None, None), ("loss", None, None), ("precision", "Top 1 precision", "top1"),
    ],
)
def test_metric_types_and_names_map_to_zoos_metrics(kind, name, metric):
    found = metric_of(kind, name)
    assert (found.name if found else None) == metric


@pytest.mark.parametrize("dataset", ["imagenet-1k", "ILSVRC/imagenet-1k", "timm/imagenet-1k-wds", "imagenet", "ImageNet-1k"])
def test_imagenet_dataset_names_are_claims(tmp_path, dataset):
    path = write_card(tmp_path, readme("m", "    - type: accuracy\n      value: 80.1\n", dataset=dataset))
    assert load_index([path]).get("m").number("top1") == pytest.approx(80.1)


def test_figures_zoo_does_not_measure_are_listed_as_not_checked_with_why(tmp_path):
    text = (
        "---\nlibrary_name: timm\nmodel-index:\n- name: m\n  results:\n"
        "  - task: {type: image-classification}\n    dataset: {type: imagenet-1k, name: ImageNet-1k, split: validation}\n"
        "    metrics:\n    - {type: accuracy, value: 80.5, name: Top 1 Accuracy}\n    - {type: f1, value: 0.7, name: F1}\n"
        "  - task: {type: image-classification}\n    dataset: {type: imagenet-v2, name: ImageNet V2, split: test}\n"
        "    metrics:\n    - {type: accuracy, value: 69.0, name: Top 1 Accuracy}\n"
        "  - task: {type: image-classification}\n    dataset: {type: imagenet-1k, name: ImageNet-1k, split: train}\n"
        "    metrics:\n    - {type: accuracy, value: 99.0}\n"
        "  - task: {type: text-classification}\n    dataset: {type: glue, name: GLUE}\n"
        "    metrics:\n    - {type: accuracy, value: 91.0}\n---\n"
    )
    path = write_card(tmp_path, text)
    card = load_index([path]).get("m")
    assert list(card.claims) == ["top1"] and card.number("top1") == 80.5
    reasons = {(u.field, u.raw): u.reason for u in card.unchecked}
    assert reasons[("F1", "0.7")] == "zoo does not measure 'f1'"
    assert "imagenet v2 / imagenet-v2 is not ImageNet-1k" in reasons[("Top 1 Accuracy", "69.0")]
    assert "split 'train'" in reasons[("accuracy", "99.0")]
    assert "is not image classification" in reasons[("accuracy", "91.0")]
    assert [u.source.line for u in card.unchecked][0] == line_of(path, "value: 0.7")
    table = listed("--index", str(path))
    assert table.exit_code == 0 and "Not checked" in table.output and f"F1 0.7 (line {line_of(path, 'value: 0.7')})" in table.output


def test_an_empty_value_is_not_claimed_and_a_bad_one_is_that_cards_error(tmp_path):
    write_card(tmp_path / "good", readme("good", "    - type: accuracy\n      value:\n      name: Top 1 Accuracy\n"
                                                 "    - type: accuracy\n      value: 90.1\n      name: Top 5 Accuracy\n"))
    bad = write_card(tmp_path / "bad", readme("bad", "    - type: accuracy\n      value: lots\n      name: Top 1 Accuracy\n"))
    index = load_index([tmp_path])
    good = index.get("good")
    assert list(good.claims) == ["top5"] and good.not_claimed == ("Top 1 Accuracy",)
    assert index.get("bad").claims == {} and "cannot read 'lots'" in index.get("bad").problems[0].message
    result = listed("--index", str(tmp_path))
    assert result.exit_code == 2
    assert "not claimed" in result.stdout and "good" in result.stdout and "bad" in result.stdout
    assert f"{bad}:{line_of(bad, 'value: lots')}: model 'bad': field 'value'" in result.output


def test_a_folder_of_model_folders_reads_each_readme_and_skips_cards_without_results(tmp_path):
    write_card(tmp_path / "mobilenetv2_100", MOBILENET_README)
    write_card(tmp_path / "other", readme("other", "    - type: acc@1\n      value: 0.801\n"))
    write_card(tmp_path / "plain", "---\nlicense: mit\n---\n# no results here\n")
    index = load_index([tmp_path])
    assert index.names() == ["mobilenetv2_100", "other"] and index.problems == []
    assert index.get("other").number("top1") == pytest.approx(80.1) and index.get("other").claim("top1").precision == pytest.approx(0.1)
    assert [s.endswith("plain/README.md") for s in index.skipped] == [True]


def test_a_readme_given_without_model_index_is_bad_input(tmp_path):
    path = write_card(tmp_path, "---\nlicense: mit\n---\n# prose\n")
    result = listed("--index", str(path))
    assert result.exit_code == 2 and "no model-index data" in result.output


def test_hf_index_fetches_only_the_readme_at_the_commit_and_reads_it_offline_later(hub, tmp_path, monkeypatch):
    repo = hub.repo(REPO)
    old = repo.commit("v1", {"README.md": MOBILENET_README.replace("72.95", "71.0").encode()}, branch="v1")
    commit = repo.commit("v2", {"README.md": MOBILENET_README.encode(), "model.safetensors": b"x" * 1000})
    result = listed("--index", f"hf:{REPO}", "--format", "json")
    assert result.exit_code == 0, result.output
    (card,) = json.loads(result.stdout)
    assert card["claims"]["top1"]["source"] == f"hf:{REPO}@{commit}/README.md:{MOBILENET_README.splitlines().index('      value: 72.95') + 1}"
    assert card["builds"] == f"hf-hub:{REPO}"
    assert hub.requests("HEAD", f"/{REPO}/resolve/{commit}/README.md") and not hub.requests(contains="model.safetensors")
    pinned = listed("--index", f"hf:{REPO}@{old}", "--format", "json")
    assert json.loads(pinned.stdout)[0]["claims"]["top1"]["value"] == 71.0
    assert f"@{old}/README.md" in json.loads(pinned.stdout)[0]["source"]
    served = len(hub.log)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = listed("--index", f"hf:{REPO}", "--format", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)[0]["claims"]["top1"]["source"].startswith(f"hf:{REPO}@{commit}/") and len(hub.log) == served


def test_an_unknown_hub_repo_is_named(hub):
    result = listed("--index", "hf:nobody/nothing")
    assert result.exit_code == 2 and "nobody/nothing" in result.output and "no such repo" in result.output
    malformed = listed("--index", "hf:not a repo")
    assert malformed.exit_code == 2 and "hf:not a repo" in malformed.output


def test_show_names_where_the_card_came_from_and_what_is_built(tmp_path):
    path = write_card(tmp_path / "m", MOBILENET_README)
    result = CliRunner().invoke(show_cmd.command, ["mobilenetv2_100", "--index", str(path)])
    assert result.exit_code == 0, result.output
    assert f"from: hf-model-card; built by timm as hf-hub:{REPO}" in result.output


def test_offline_without_the_readme_in_the_cache_says_how_to_get_it(hub, monkeypatch):
    hub.repo(REPO).commit("v1", {"README.md": MOBILENET_README.encode()})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = listed("--index", f"hf:{REPO}")
    assert result.exit_code == 3 and "not in the Hub cache" in result.output and f"zoo list --index hf:{REPO}" in result.output
    assert hub.log == []


@pytest.mark.slow
def test_the_mobilenet_card_is_verified_offline_against_a_generated_world_and_its_report_round_trips(hub, tmp_path, monkeypatch):
    """The card and a (seeded, untrained) mobilenetv2_100 checkpoint on a loopback Hub, grey ImageNet
    images on disk: fetched once, then listed, built, loaded and scored offline; the report's
    front matter, read back as a card, claims what was measured."""
    import timm
    import torch

    from accuracy_world import write_grey_class_folders
    from hub_world import safetensors_bytes
    from zoo.cli import fetch_cmd, report_cmd, verify_cmd

    torch.manual_seed(0)
    checkpoint = safetensors_bytes(timm.create_model("mobilenetv2_100", pretrained=False).state_dict(), tmp_path)
    commit = hub.repo(REPO).commit("v1", {"README.md": MOBILENET_README.encode(), "model.safetensors": checkpoint})
    images = write_grey_class_folders(tmp_path / "val")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    fetched = runner.invoke(fetch_cmd.command, ["--all", "--index", f"hf:{REPO}", "--source", "hub"])
    assert fetched.exit_code == 0, fetched.output
    served = len(hub.log)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(verify_cmd.command, [
        "--all", "--index", f"hf:{REPO}", "--only", "config,params,weights,accuracy", "--offline", "--weights-source", "hub",
        "--data", str(images), "--workers", "0",
        "--eval-batch-size", "20", "--results", str(tmp_path / "runs"), "--format", "json", "--no-color",
    ])
    assert len(hub.log) == served  # nothing asked of the Hub
    assert result.exit_code in (1, 3), result.output  # an untrained model: 72.95 drifts or is inconclusive on 40 images
    (row,) = json.loads(result.stdout)["results"]
    assert row["model"] == "mobilenetv2_100" and row["top1"] is not None and row["top1_verdict"] in ("drift", "unverified")
    (run,) = list((tmp_path / "runs").iterdir())
    record = json.loads((run / "run.json").read_text())
    (model,) = record["models"]
    assert model["card"]["claims"]["top1"]["source"]["path"] == f"hf:{REPO}@{commit}/README.md"
    built = next(m for m in model["measurements"] if m["metric"] == "parameters")["conditions"]
    assert built["built"] == "mobilenetv2_100.ra_in1k" and built["alias_path"] == f"mobilenetv2_100 -> hf-hub:{REPO} -> mobilenetv2_100.ra_in1k"

    written = runner.invoke(report_cmd.command, [str(run), "--format", "hf-model-index"])
    assert written.exit_code == 0, written.output
    card_path = write_card(tmp_path / "published", written.stdout)
    (back,) = json.loads(listed("--index", str(card_path), "--format", "json").stdout)
    assert back["name"] == "mobilenetv2_100" and back["library"] == "timm"
    assert back["claims"]["top1"]["value"] == pytest.approx(round(row["top1"], 2))
    assert back["claims"]["top5"]["value"] == pytest.approx(round(row["top5"], 2))


def test_cards_zoo_cannot_build_are_listed_and_judged_unverified_naming_why(tmp_path):
    from zoo.cli import verify_cmd

    metrics = "    - type: accuracy\n      value: 81.1\n"
    write_card(tmp_path / "vit", readme("vit-base", metrics, library="transformers"))
    write_card(tmp_path / "unnamed", readme("mystery", metrics).replace("library_name: timm\n", ""))
    listing = listed("--index", str(tmp_path))
    assert listing.exit_code == 0 and "hf-model-card · transformers" in listing.output and "hf-model-card · no library" in listing.output
    result = CliRunner().invoke(verify_cmd.command, ["--all", "--only", "accuracy", "--index", str(tmp_path), "--no-record", "-v"])
    assert result.exit_code == 3, result.output
    assert "no builder for transformers models: its library_name names transformers" in result.output
    assert "the card names no library (library_name)" in result.output


@pytest.mark.parametrize("sha", [None, "main", "../../../outside"])
def test_a_hub_answer_naming_no_commit_for_the_card_is_refused(hub, sha):
    """The weights path refuses a model_info that names no 40-hex commit (issue #20); so does the card's,
    whose claims would otherwise name "@main" or a made-up place, and whose ref would be recorded."""
    hub.repo(REPO).commit("v1", {"README.md": MOBILENET_README.encode()})
    hub.info_override = json.dumps({"id": REPO, "sha": sha, "siblings": [{"rfilename": "README.md"}]}).encode()
    result = listed("--index", f"hf:{REPO}", "--format", "json")
    assert result.exit_code == 3, result.output
    assert "names no commit" in result.output and "internal error" not in result.output


@pytest.mark.parametrize("command", ["verify", "fetch", "lock"])
def test_the_commands_offline_flag_holds_for_an_hf_card_too(hub, tmp_path, monkeypatch, command):
    """``--offline`` given as a flag (not HF_HUB_OFFLINE) keeps the card's README off the network too:
    the index is read with the command's own fetch options."""
    from zoo.cli import fetch_cmd, lock_cmd, verify_cmd

    hub.repo(REPO).commit("v1", {"README.md": MOBILENET_README.encode()})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    args = ["--all", "--index", f"hf:{REPO}", "--offline"]
    if command == "verify":
        args += ["--only", "config", "--no-record"]
    elif command == "lock":
        args += ["--lock-file", str(tmp_path / "weights.lock")]
    result = CliRunner().invoke({"verify": verify_cmd, "fetch": fetch_cmd, "lock": lock_cmd}[command].command, args)
    assert hub.log == [], result.output  # nothing asked of the Hub
    assert result.exit_code == 3 and "not in the Hub cache" in result.output and "--offline" in result.output, result.output
