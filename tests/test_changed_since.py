"""``zoo verify --changed-since REF RUN...`` on a git repository of timm's real cards: only the
models whose claims (or tolerances, waivers, pinned conventions) changed since REF are measured,
the others are carried over from the last full run, and every verdict equals a full run's."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zoo.cli.main import cli
from zoo.runs.store import load_run
from zoo.verify import pipeline

CARDS = Path(__file__).parent / "fixtures" / "timm_cards"
KINDS = ["--only", "params,flops"]
MODELS = {"mobilenetv2_100", "mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140",
          "efficientnet_b1_pruned", "efficientnet_b2_pruned", "efficientnet_b3_pruned"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.email=zoo@example.invalid", "-c", "user.name=zoo", *args],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository of two of timm's cards (7 models) with tolerances, and a full run of it (runs/ID)."""
    repo = tmp_path_factory.mktemp("zoo") / "repo"
    (repo / "cards").mkdir(parents=True)
    for name in ("mobilenet-v2.yml", "efficientnet-pruned.yml"):
        shutil.copy(CARDS / name, repo / "cards" / name)
    (repo / "metadata").mkdir()
    (repo / "metadata" / "tolerances.yml").write_text(
        "tolerances:\n  parameters: {relative: 0.0}\n  flops: {relative: 0.02}\ngate: [top1, top5]\nwaivers: []\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "cards")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        done = CliRunner().invoke(cli, ["verify", "--all", "--index", "cards", *KINDS, "--results", "runs", "-q"])
    assert done.exit_code in (0, 1), (done.output, done.exception)
    [run] = [p.name for p in (repo / "runs").iterdir()]
    return repo, run


@pytest.fixture
def repo(origin: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository (history and the full run included), as the working directory."""
    copy = tmp_path / "repo"
    shutil.copytree(origin[0], copy)
    monkeypatch.chdir(copy)
    return copy


def verify(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, list[str]]:
    """``zoo verify ARGS`` in this process, and the models it measured (built and counted)."""
    measured: list[str] = []
    real = pipeline.measure_model

    def counting(card: Any, *rest: Any, **kw: Any) -> Any:
        measured.append(card.name)
        return real(card, *rest, **kw)

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "measure_model", counting)
        done = CliRunner().invoke(cli, ["verify", *args])
    return done, measured


def latest_record(repo: Path, before: set[str]) -> Any:
    [new] = [p for p in (repo / "runs").iterdir() if p.name not in before]
    return load_run(new)


def verdicts(record: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(v.model, v.metric): (v.status, v.compared_value, v.convention, v.explanation) for v in record.verdicts()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_one_changed_card_measures_only_its_models_and_judges_as_a_full_run(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    last = origin[1]
    edit(repo / "cards" / "mobilenet-v2.yml", "Parameters: 4520000", "Parameters: 4620000")  # mobilenetv2_110d's claim
    before = {p.name for p in (repo / "runs").iterdir()}
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--results", "runs", f"runs/{last}")
    assert done.exit_code == 0, (done.output, done.exception)
    assert measured == ["mobilenetv2_110d"]
    assert "measuring 1 of 7 models: mobilenetv2_110d (claims changed: Parameters); 6 carried over from run " + last in done.stderr
    changed = latest_record(repo, before)
    assert {r.card.name for r in changed.models} == MODELS
    assert changed.carried is not None and changed.carried.from_run == last and changed.carried.everything is None
    assert set(changed.carried.carried) == MODELS - {"mobilenetv2_110d"}
    assert list(changed.carried.measured) == ["mobilenetv2_110d"]
    # A full run of the changed cards gives every model the same verdicts.
    before = {p.name for p in (repo / "runs").iterdir()}
    done, measured = verify(monkeypatch, "--all", "--index", "cards", *KINDS, "--results", "runs")
    assert done.exit_code == 0 and sorted(measured) == sorted(MODELS)
    full = latest_record(repo, before)
    assert verdicts(changed) == verdicts(full)
    assert verdicts(changed)[("mobilenetv2_110d", "parameters")][0] == "drift"  # the changed claim is judged as it is now


def test_a_card_whose_claims_did_not_change_is_measured_again_under_another_timm(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    record = repo / "runs" / origin[1] / "run.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    data["environment"]["packages"]["timm"] = "0.9.2"
    record.write_text(json.dumps(data, indent=2), encoding="utf-8")
    before = {p.name for p in (repo / "runs").iterdir()}
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--results", "runs", f"runs/{origin[1]}")
    assert done.exit_code == 0, (done.output, done.exception)
    assert sorted(measured) == sorted(MODELS)  # nothing changed in the cards, everything measured
    assert f"measuring all 7 models: the environment of run {origin[1]} differs: timm 0.9.2 there, " in done.stderr
    carried = latest_record(repo, before).carried
    assert carried is not None and carried.carried == [] and "timm 0.9.2 there" in (carried.everything or "")


def test_other_measuring_options_or_kinds_measure_everything(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", "--only", "params,flops,config",
                            "--no-record", f"runs/{origin[1]}")
    assert done.exit_code == 0 and sorted(measured) == sorted(MODELS)
    assert f"run {origin[1]} did not measure config" in done.stderr


@pytest.mark.parametrize("change, expected, why", [
    ("waiver", {"efficientnet_b2_pruned"}, "waivers changed"),
    ("tolerance", MODELS, "tolerance changed: flops"),
    ("conventions", {"efficientnet_b1_pruned", "efficientnet_b2_pruned", "efficientnet_b3_pruned"},
     "FLOPs convention changed: none pinned -> macs @resize"),
    ("new model", {"mobilenetv2_075"}, "new since HEAD"),
])
def test_zoo_data_changed_since_ref_measures_the_models_it_concerns(
    repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, change: str, expected: set[str], why: str,
) -> None:
    tolerances = repo / "metadata" / "tolerances.yml"
    if change == "waiver":
        edit(tolerances, "waivers: []", "waivers:\n- {model: efficientnet_b2_pruned, metric: flops, reason: recounted, expires: '2099-01-01'}")
    elif change == "tolerance":
        edit(tolerances, "flops: {relative: 0.02}", "flops: {relative: 0.03}")
    elif change == "conventions":
        (repo / "cards" / "flops-conventions.yml").write_text(
            "tolerance: 0.02\ncollections:\n  EfficientNet Pruned:\n    convention: macs @resize\n", encoding="utf-8")
    else:
        card = repo / "cards" / "mobilenet-v2.yml"
        text = card.read_text(encoding="utf-8")
        block = text[text.index("- Name: mobilenetv2_100"):text.index("- Name: mobilenetv2_110d")]
        card.write_text(text + block.replace("mobilenetv2_100", "mobilenetv2_075"), encoding="utf-8")
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", "--format", "json",
                            f"runs/{origin[1]}")
    assert done.exit_code in (0, 1), (done.output, done.exception)
    assert set(measured) == expected
    assert why in done.stderr
    shown = {row["model"] for row in json.loads(done.stdout)["results"]}
    assert shown == MODELS | expected  # every model is judged


def test_a_model_missing_from_the_last_run_is_measured(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    record = repo / "runs" / origin[1] / "run.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    data["models"] = [m for m in data["models"] if m["card"]["name"] != "mobilenetv2_140"]
    record.write_text(json.dumps(data, indent=2), encoding="utf-8")
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", f"runs/{origin[1]}")
    assert done.exit_code == 0 and measured == ["mobilenetv2_140"]
    assert f"mobilenetv2_140 (not in run {origin[1]})" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--changed-since", "no-such-branch"], "--changed-since no-such-branch: not a commit of the git repository"),
    (["--changed-since", "HEAD"], "--changed-since needs the last full run's records"),
    (["--changed-since", "HEAD", "resnet50"], "'resnet50' is not a run record"),
    (["--changed-since", "HEAD", "--shard", "1/2"], "run it without --shard"),
])
def test_bad_usage_is_refused_with_what_to_do(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    run = [f"runs/{origin[1]}"] if args in (["--changed-since", "no-such-branch"], ["--changed-since", "HEAD", "--shard", "1/2"]) else []
    done, measured = verify(monkeypatch, *args, "--index", "cards", *KINDS, "--no-record", *run)
    assert done.exit_code == 2 and measured == []
    assert message in done.output + (done.stderr or "")


def test_a_changed_since_run_is_not_a_last_full_run(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p.name for p in (repo / "runs").iterdir()}
    done, _ = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--results", "runs", f"runs/{origin[1]}")
    assert done.exit_code == 0
    partial = latest_record(repo, before).run_id
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", f"runs/{partial}")
    assert done.exit_code == 2 and measured == []
    assert "was itself a --changed-since run" in done.output + done.stderr


def test_the_example_workflow_measures_changes_on_pull_requests_and_everything_on_schedule() -> None:
    import yaml

    workflow = yaml.safe_load((Path(__file__).parents[1] / ".github" / "workflows" / "zoo-gate.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    full = "\n".join(step.get("run", "") for step in jobs["verify"]["steps"])
    changed = "\n".join(step.get("run", "") for step in jobs["verify-changed"]["steps"])
    assert jobs["verify"]["if"] == "github.event_name != 'pull_request'" and "zoo verify --all --shard" in full
    assert jobs["verify-changed"]["if"] == "github.event_name == 'pull_request'"
    assert "zoo verify --changed-since FETCH_HEAD $last" in changed and "--event schedule" in changed
    assert set(jobs["gate"]["needs"]) == {"verify", "verify-changed"} and jobs["gate"]["if"] == "always()"


def test_a_card_that_builds_or_loads_another_model_with_the_same_claims_is_measured_again(
    repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Same claims, but the card now names another Hub repo for its weights: what is measured changed.
    edit(repo / "cards" / "mobilenet-v2.yml", "- Name: mobilenetv2_140\n  In Collection: MobileNet V2\n",
         "- Name: mobilenetv2_140\n  In Collection: MobileNet V2\n  Weights Hub: someone/mobilenetv2_140.retrained\n")
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", f"runs/{origin[1]}")
    assert done.exit_code == 0, (done.output, done.exception)
    assert measured == ["mobilenetv2_140"]
    assert "mobilenetv2_140 (what is built changed: Weights Hub)" in done.stderr


@pytest.mark.parametrize("key, value, flag", [
    ("local_weights", "('mobilenetv2_100', PosixPath('/tmp/own.pth'))", "--weights"),  # issue #21: an own checkpoint
    ("class_map", "/tmp/class_map.txt", "--class-map"),  # issue #21: another labelling of the folders
    ("weights_source", "hub", "--weights-source"),
    ("hub_repos", "('mobilenetv2_100', 'someone/mobilenetv2_100')", "--hub-repo"),
])
def test_a_last_run_made_with_another_checkpoint_class_map_or_weights_source_carries_nothing(
    repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, key: str, value: str, flag: str,
) -> None:
    record = repo / "runs" / origin[1] / "run.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    data["options"][key] = value
    record.write_text(json.dumps(data, indent=2), encoding="utf-8")
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", f"runs/{origin[1]}")
    assert done.exit_code == 0, (done.output, done.exception)
    assert sorted(measured) == sorted(MODELS)
    assert f"measured with other options: {flag} {value!r} there, None here" in done.stderr


def test_measuring_options_set_by_environment_variables_are_compared_too(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The example workflow sets the data by $ZOO_IMAGENET, not --data: a full run on one data set
    # must not lend its measurements to a run on another.
    before = {p.name for p in (repo / "runs").iterdir()}
    monkeypatch.setenv("ZOO_IMAGENET", "/data/imagenet-subset")
    done, _ = verify(monkeypatch, "--all", "--index", "cards", *KINDS, "--results", "runs", "-q")
    assert done.exit_code == 0, (done.output, done.exception)
    full = latest_record(repo, before)
    assert full.options["data"] == "/data/imagenet-subset"
    monkeypatch.setenv("ZOO_IMAGENET", "/data/imagenet")
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", f"runs/{full.run_id}")
    assert done.exit_code == 0, (done.output, done.exception)
    assert sorted(measured) == sorted(MODELS)
    assert "measured with other options: --data '/data/imagenet-subset' there, '/data/imagenet' here" in done.stderr
    monkeypatch.setenv("ZOO_IMAGENET", "/data/imagenet-subset")  # the same data: everything is carried over
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--no-record", f"runs/{full.run_id}")
    assert done.exit_code == 0 and measured == []


def test_a_changed_entry_of_the_lock_file_given_by_flag_is_seen(repo: Path, origin: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    entry = ("version: 1\nfiles:\n  mobilenetv2_100.pth:\n    sha256: {sha}\n    size: 10\n    models: [mobilenetv2_100]\n"
             "    url: https://example.invalid/mobilenetv2_100.pth\n")
    for name in ("metadata/weights.lock", "locks/weights.lock"):  # the default lock and the one the run is given, alike
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(entry.format(sha="a" * 64), encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "locks")
    (repo / "locks" / "weights.lock").write_text(entry.format(sha="b" * 64), encoding="utf-8")  # re-pinned since
    done, measured = verify(monkeypatch, "--changed-since", "HEAD", "--index", "cards", *KINDS, "--lock-file", "locks/weights.lock",
                            "--no-record", f"runs/{origin[1]}")
    assert done.exit_code == 0, (done.output, done.exception)
    assert measured == ["mobilenetv2_100"] and "mobilenetv2_100 (weights lock entry changed)" in done.stderr
