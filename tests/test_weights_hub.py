"""The Hugging Face Hub source against a loopback stand-in: hashes, pins, offline, hostile answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from hub_world import HubStandIn, hub_env, pickle_bytes, safetensors_bytes, sha256
from conftest import TinyNet, card as make_card, fast_fetch_options
from weights_world import FaultyServer, checkpoint_bytes, hashed_name, trained_state
from zoo.cli import fetch_cmd, lock_cmd
from zoo.records import ModelCard, SourceRef
from zoo.measure.weights import measure_weights
from zoo.weights.errors import HashMismatchError, NotFoundError, OfflineMissingError, SizeMismatchError, UnreachableError
from zoo.weights.hub import HubRefError, fetch_hub, hub_ref_for
from zoo.weights.lockfile import load_lock
from zoo.weights.options import FetchOptions

REPO = "timm/tiny.hub_in1k"


@pytest.fixture()
def state():
    return trained_state(seed=5)


def hub_cache(tmp_path: Path) -> Path:
    return tmp_path / "hf-home" / "hub"


def cached_files(tmp_path: Path) -> list[str]:
    """Every regular file or link under the Hub cache's blobs/ and snapshots/ (what a rejected fetch must not leave)."""
    root = hub_cache(tmp_path)
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and ("blobs" in p.parts or "snapshots" in p.parts)
    )


def options(tmp_path: Path, **kw):
    values = dict(source="hub", hub_repos={"tiny": REPO})
    values.update(kw)
    return fast_fetch_options(tmp_path, **values)


def test_good_safetensors_file_passes_and_loads_from_the_resolved_commit(hub, state, tmp_path):
    good = safetensors_bytes(state, tmp_path)
    commit = hub.repo(REPO).commit("v1", {"model.safetensors": good, "pytorch_model.bin": pickle_bytes(state, tmp_path)})
    model = TinyNet()

    outcome = measure_weights(make_card("tiny", collection="Tiny", weights="https://example.invalid/tiny-12345678.pth", file_size=999), model, options(tmp_path))

    assert outcome.loaded
    weights = {m.metric: m for m in outcome.measurements}["weights"]
    assert weights.value == sha256(good)
    c = weights.conditions
    assert (c["hub_repo"], c["hub_commit"], c["hub_file"], c["hub_revision"]) == (REPO, commit, "model.safetensors", "main")
    assert c["verified_by"] == "hub-lfs-sha256" and c["hub_format"] == "safetensors"
    # The card's claims are about the card's own file: not checked, and said so.
    assert weights.status == "unavailable" and "card's own file" in weights.reason and commit[:12] in weights.reason
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    # The download was pinned to the commit the file list named, and no pickle was fetched.
    assert hub.requests("HEAD", f"/resolve/{commit}/model.safetensors")
    assert not hub.requests(contains="pytorch_model.bin")
    # The file lives in huggingface_hub's cache, not copied into zoo's.
    assert Path(c["path"]).is_relative_to(hub_cache(tmp_path))
    assert not (tmp_path / "cache").exists() or not any(p.is_file() for p in (tmp_path / "cache").iterdir())


def test_the_card_file_at_hand_is_checked_too_while_the_hub_file_is_loaded(hub, state, tmp_path):
    hub_data = safetensors_bytes(state, tmp_path)
    hub.repo(REPO).commit("v1", {"model.safetensors": hub_data})
    card_state = trained_state(seed=11)
    card_data = checkpoint_bytes(card_state, tmp_path)
    name = hashed_name("tiny", card_data)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / name).write_bytes(card_data)  # in zoo's cache, e.g. from an earlier `zoo fetch`
    model = TinyNet()

    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=f"https://example.invalid/{name}", file_size=len(card_data)), model, options(tmp_path))

    m = {x.metric: x for x in outcome.measurements}
    assert (m["file_size"].status, m["file_size"].value) == ("ok", len(card_data))
    assert (m["weights"].status, m["weights"].value) == ("ok", sha256(card_data))
    assert m["weights"].conditions["hub_sha256"] == sha256(hub_data) and m["weights"].conditions["hub_repo"] == REPO
    for key, value in model.state_dict().items():  # the model holds the Hub file's weights
        assert torch.equal(value, state[key]), key


def test_hf_home_alone_places_the_hub_cache(hub, state, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(state, tmp_path)})
    result = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    assert result.path.is_relative_to(tmp_path / "elsewhere" / "hub")


def test_pickle_is_the_fallback_and_is_recorded(hub, state, tmp_path):
    hub.repo(REPO).commit("v1", {"pytorch_model.bin": pickle_bytes(state, tmp_path)})
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=None), TinyNet(), options(tmp_path))
    weights = {m.metric: m for m in outcome.measurements}["weights"]
    assert outcome.loaded and weights.conditions["hub_file"] == "pytorch_model.bin"
    assert weights.conditions["hub_format"] == "pickle (weights_only)"


def test_wrong_bytes_are_rejected_with_the_hash_named_and_nothing_kept(hub, state, tmp_path):
    good = safetensors_bytes(state, tmp_path)
    hub.repo(REPO).commit("v1", {"model.safetensors": good})
    bad = bytes(b ^ 0x55 for b in good)  # same length, other bytes
    hub.served[sha256(good)] = bad

    with pytest.raises(HashMismatchError) as caught:
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))

    text = str(caught.value)
    assert sha256(good) in text and sha256(bad) in text and "deleted" in text
    assert cached_files(tmp_path) == []


def test_a_body_longer_than_announced_is_stopped(hub, state, tmp_path):
    good = safetensors_bytes(state, tmp_path)
    hub.repo(REPO).commit("v1", {"model.safetensors": good})
    hub.served[sha256(good)] = good + b"\0" * (4 << 20)

    with pytest.raises(SizeMismatchError, match="more than"):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    assert cached_files(tmp_path) == []


def test_an_etag_that_names_a_path_is_refused_before_anything_is_written(hub, state, tmp_path):
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(state, tmp_path)})
    hub.extra_headers["X-Linked-Etag"] = '"../../../../escaped"'

    with pytest.raises(UnreachableError, match="refused"):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    assert not list(tmp_path.rglob("escaped*")) and cached_files(tmp_path) == []


@pytest.mark.parametrize("body, complaint", [
    (b'{"id": "timm/tiny.hub_in1k", "sha": "../../x", "siblings": []}', "names no commit"),
    (b'{"id": "timm/tiny.hub_in1k", "sha": "%s", "siblings": [{"size": 1}]}' % (b"a" * 40), "not what huggingface_hub expects"),
    (b'[1, 2', "its JSON answer is unusable: it is not JSON"),  # the bounded JSON reader, before huggingface_hub parses it
])
def test_a_server_that_is_not_the_hub_is_an_explained_failure(hub, tmp_path, body, complaint):
    hub.info_override = body
    with pytest.raises(UnreachableError, match=complaint):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    assert cached_files(tmp_path) == []


def test_an_unreachable_hub_is_explained(tmp_path, monkeypatch):
    with HubStandIn() as gone:
        env = hub_env(gone, tmp_path)
    for key, value in env.items():  # the port is closed now
        monkeypatch.setenv(key, value)
    with pytest.raises(UnreachableError, match="could not be reached"):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))


def test_a_stalled_hub_times_out(hub, tmp_path):
    hub.stall_info = 5.0
    with pytest.raises(UnreachableError, match="in time"):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, read_timeout=0.5))


def test_hf_token_goes_to_the_hub_and_not_to_the_cdn(hub, state, tmp_path, monkeypatch):
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(state, tmp_path)})
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_123")
    fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    sent = {path: header for path, header in hub.auth}
    api = [p for p in sent if p.startswith("/api/models/")]
    resolve = [p for p in sent if "/resolve/" in p]
    cdn = [p for p in sent if p.startswith("/cdn/")]
    assert api and resolve and cdn
    assert all(sent[p] == "Bearer hf_test_token_123" for p in api + resolve)
    assert all(sent[p] is None for p in cdn)


def test_a_planted_link_in_the_hub_cache_is_rejected_and_its_target_left_alone(hub, state, tmp_path):
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(state, tmp_path)})
    good = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"not weights")
    good.path.unlink()
    good.path.symlink_to(precious)

    with pytest.raises(HashMismatchError):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, offline=True))
    assert precious.read_bytes() == b"not weights" and not good.path.is_symlink()


def test_offline_with_a_filled_cache(hub, state, tmp_path, monkeypatch):
    good = safetensors_bytes(state, tmp_path)
    commit = hub.repo(REPO).commit("v1", {"model.safetensors": good})
    online = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))
    hub.log.clear()

    offline = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, offline=True))

    assert hub.log == []  # not one request
    assert (offline.sha256, offline.hub.commit, offline.path) == (sha256(good), commit, online.path)
    assert offline.verified_by == "hub-cache-name"

    # HF_HUB_OFFLINE alone (read when options are made, not when huggingface_hub was imported) does the same.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from_env = FetchOptions.from_env(source="hub", hub_repos={"tiny": REPO}, lock_path=None, progress=False)
    assert fetch_hub(make_card("tiny", collection="Tiny", weights=None), from_env).sha256 == sha256(good) and hub.log == []

    with pytest.raises(OfflineMissingError, match="zoo fetch --source hub"):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, offline=True, hub_repos={"tiny": "timm/other"}))


def test_lock_pins_the_commit_and_later_runs_use_it_after_main_moved(hub, state, tmp_path):
    repo = hub.repo(REPO)
    first = safetensors_bytes(state, tmp_path)
    old = repo.commit("v1", {"model.safetensors": first})
    lock_path = tmp_path / "weights.lock"
    index = tmp_path / "model-index.yml"
    index.write_text(f"Models:\n- Name: tiny\n  Weights Hub: {REPO}\n", encoding="utf-8")
    args = ["tiny", "--index", str(index), "--lock-file", str(lock_path), "--cache-dir", str(tmp_path / "c"),
            "--weights-source", "hub"]

    pinned = CliRunner().invoke(lock_cmd.command, args, env={"ZOO_PROGRESS": "0"})
    assert pinned.exit_code == 0, pinned.output
    entry = load_lock(lock_path).get(f"{REPO}/model.safetensors")
    assert (entry.repo, entry.commit, entry.file, entry.sha256, entry.size) == (
        REPO, old, "model.safetensors", sha256(first), len(first))

    new = repo.commit("v2", {"model.safetensors": safetensors_bytes(trained_state(seed=9), tmp_path)})
    hub.log.clear()
    again = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, lock_path=lock_path))
    assert again.hub.commit == old and again.sha256 == sha256(first) and again.verified_by == "lock+hub-lfs-sha256"
    assert again.hub.branch_moved_to == new and any("has moved" in n for n in again.notes)
    assert not hub.requests(contains=f"/resolve/{new}/")

    offline = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, lock_path=lock_path, offline=True))
    assert offline.verified_by == "lock" and offline.hub.commit == old

    update = CliRunner().invoke(lock_cmd.command, [*args, "--update"], env={"ZOO_PROGRESS": "0"})
    assert update.exit_code == 0 and "re-pinned" in update.output
    assert load_lock(lock_path).get(f"{REPO}/model.safetensors").commit == new


def test_hub_repo_flag_pins_a_revision(hub, state, tmp_path):
    repo = hub.repo(REPO)
    first = safetensors_bytes(state, tmp_path)
    old = repo.commit("v1", {"model.safetensors": first})
    repo.commit("v2", {"model.safetensors": safetensors_bytes(trained_state(seed=2), tmp_path)})
    result = fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path, hub_repos={"tiny": f"{REPO}@{old}"}))
    assert (result.hub.commit, result.sha256) == (old, sha256(first))


def test_the_card_key_names_the_repo_and_a_bad_one_is_bad_input(hub, tmp_path):
    card = ModelCard(name="tiny", source=SourceRef("cards/tiny.yml", 3), metadata={"Weights Hub": f"{REPO}@main"},
                     field_lines={"Weights Hub": 7})
    ref = hub_ref_for(card, fast_fetch_options(tmp_path))
    assert (ref.repo_id, ref.revision) == (REPO, "main") and "cards/tiny.yml:7" in ref.origin

    bad = ModelCard(name="tiny", source=SourceRef("cards/tiny.yml", 3), metadata={"Weights Hub": "timm/x@../../etc"},
                    field_lines={"Weights Hub": 7})
    with pytest.raises(HubRefError, match="cards/tiny.yml:7") as caught:
        hub_ref_for(bad, fast_fetch_options(tmp_path))
    assert caught.value.exit_code == 2


def test_timm_pretrained_config_names_the_repo(tmp_path):
    ref = hub_ref_for(make_card("mobilenetv2_100", collection="Tiny", weights=None), fast_fetch_options(tmp_path))
    assert ref.repo_id == "timm/mobilenetv2_100.ra_in1k" and "pretrained config" in ref.origin


def test_unknown_repo_is_not_found(hub, tmp_path):
    with pytest.raises(NotFoundError, match="no such repo"):
        fetch_hub(make_card("tiny", collection="Tiny", weights=None), options(tmp_path))


def test_auto_tries_the_card_file_then_the_hub(hub, state, tmp_path):
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(state, tmp_path)})
    with FaultyServer() as card_server:
        url = card_server.serve("/tiny-12345678.pth", b"x", ["404"])
        outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=1), TinyNet(), options(tmp_path, source="auto"))
    weights = {m.metric: m for m in outcome.measurements}["weights"]
    assert outcome.loaded and weights.conditions["hub_repo"] == REPO
    assert any("card's own file could not be had" in n and "404" in n for n in weights.notes)


def test_zoo_fetch_source_hub_fills_the_cache(hub, state, tmp_path):
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(state, tmp_path)})
    index = tmp_path / "model-index.yml"
    index.write_text("Models:\n- Name: tiny\n", encoding="utf-8")
    result = CliRunner().invoke(
        fetch_cmd.command,
        ["tiny", "--index", str(index), "--source", "hub", "--hub-repo", f"tiny={REPO}", "--lock-file", str(tmp_path / "l")],
        env={"ZOO_PROGRESS": "0"},
    )
    assert result.exit_code == 0, result.output
    assert f"{REPO}@" in result.output and "hub-lfs-sha256" in result.output
    bad = CliRunner().invoke(fetch_cmd.command, ["tiny", "--index", str(index), "--hub-repo", "tiny=../x"])
    assert bad.exit_code == 2 and "--hub-repo" in bad.output and "not a Hub repo id" in bad.output


def test_zoo_verify_weights_from_the_hub_records_repo_commit_and_hash(hub, tmp_path):
    """The whole command in a fresh process, so huggingface_hub reads HF_ENDPOINT and friends at import."""
    import timm

    model = timm.create_model("mobilenetv2_100", pretrained=False)
    data = safetensors_bytes(model.state_dict(), tmp_path)
    commit = hub.repo("timm/mobilenetv2_100.ra_in1k").commit("v1", {"model.safetensors": data})
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, **hub_env(hub, tmp_path), "ZOO_PROGRESS": "0", "PYTHONPATH": str(root)}
    results = tmp_path / "runs"
    done = subprocess.run(
        [sys.executable, "-m", "zoo", "verify", "mobilenetv2_100", "--weights-source", "hub", "--only", "weights",
         "--index", str(root / "metadata"), "--results", str(results), "--lock-file", str(tmp_path / "none.lock"),
         "--cache-dir", str(tmp_path / "zoo-cache")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 3, done.stdout + done.stderr  # the card's own file was not checked: incomplete
    record = json.loads(next(results.rglob("run.json")).read_text())
    weights = next(m for m in record["models"][0]["measurements"] if m["metric"] == "weights")
    assert weights["value"] == sha256(data)
    assert (weights["conditions"]["hub_repo"], weights["conditions"]["hub_commit"]) == ("timm/mobilenetv2_100.ra_in1k", commit)
    assert "pretrained config" in weights["conditions"]["hub_repo_from"]
    verdicts = {v["metric"]: v for v in record["models"][0]["verdicts"]}
    assert verdicts["weights"]["status"] == "unverified" and "card's own file" in verdicts["weights"]["explanation"]
    assert verdicts["file_size"]["status"] == "unverified"

    # The report says, per model, which file was evaluated.
    from zoo.runs.store import load_run
    from zoo.views.html import render_html
    from zoo.views.markdown import render_markdown

    run = load_run(next(results.rglob("run.json")).parent)
    evaluated = f"Hugging Face Hub timm/mobilenetv2_100.ra_in1k@{commit} model.safetensors, sha256 {sha256(data)}"
    markdown = render_markdown(run)
    assert "### Weights evaluated" in markdown and evaluated in markdown
    assert evaluated in render_html([run], plots=[])


def test_a_hub_file_that_does_not_fit_is_an_error(hub, tmp_path):
    hub.repo(REPO).commit("v1", {"model.safetensors": safetensors_bytes(trained_state(width=6), tmp_path)})
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=None), TinyNet(width=4), options(tmp_path))
    weights = {m.metric: m for m in outcome.measurements}["weights"]
    assert not outcome.loaded and weights.status == "error" and "mis-shaped" in weights.reason


def test_a_bad_weights_source_is_bad_input(tmp_path):
    index = tmp_path / "model-index.yml"
    index.write_text("Models:\n- Name: tiny\n", encoding="utf-8")
    result = CliRunner().invoke(fetch_cmd.command, ["tiny", "--index", str(index)], env={"ZOO_WEIGHTS_SOURCE": "cloud"})
    assert result.exit_code == 2 and "ZOO_WEIGHTS_SOURCE" in result.output


def test_a_damaged_ref_in_the_hub_cache_is_written_again(tmp_path):
    from zoo.weights.hub.fetch import remember_ref

    refs = tmp_path / "models--org--net" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_bytes(b"\xff\xfe not a commit")
    remember_ref(tmp_path, "org/net", "main", "a" * 40)
    assert (refs / "main").read_text(encoding="utf-8") == "a" * 40
