"""Hostile Hub answers, round two (issue #20, items 2, 6, 11): a Hub stand-in that nests its
JSON thousands deep, trickles its bytes, never answers a HEAD, or names two commits at once.
Every case ends, with an explained error (exit 3), and leaves nothing in the Hub cache."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import card as make_card
from conftest import fast_fetch_options
from hub_world import commit_id, safetensors_bytes
from weights_world import trained_state
from zoo.cli import fetch_cmd
from zoo.weights.errors import WeightsError
from zoo.weights.hub import fetch_hub

REPO = "timm/tiny.hub_in1k"


@pytest.fixture()
def weights(tmp_path) -> bytes:
    return safetensors_bytes(trained_state(seed=7), tmp_path)


def hub_cache_files(tmp_path: Path) -> list[str]:
    """Every file or link under the Hub cache, the temporary ``.incomplete`` downloads included."""
    root = tmp_path / "hf-home" / "hub"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if (p.is_file() or p.is_symlink()) and ".locks" not in p.parts
                  and p.name != "CACHEDIR.TAG")


def write_index(tmp_path: Path) -> Path:
    index = tmp_path / "model-index.yml"
    index.write_text("Models:\n- Name: tiny\n", encoding="utf-8")
    return index


def fetch_cli(tmp_path: Path, *args: str):
    index = write_index(tmp_path)
    return CliRunner().invoke(
        fetch_cmd.command,
        ["tiny", "--index", str(index), "--source", "hub", "--hub-repo", f"tiny={REPO}",
         "--lock-file", str(tmp_path / "weights.lock"), *args],
        env={"ZOO_PROGRESS": "0"},
    )


def test_a_model_info_answer_nested_thousands_deep_is_refused(hub, tmp_path):
    commit = commit_id("nested")
    hub.info_override = ('{"id": "%s", "sha": "%s", "siblings": %s}' % (REPO, commit, "[" * 5000 + "]" * 5000)).encode()
    result = fetch_cli(tmp_path)
    assert result.exit_code == 3, result.output
    assert "internal error" not in result.output and "nested" in result.output
    assert hub_cache_files(tmp_path) == []


def test_a_hub_that_trickles_is_stalled_by_the_same_rule_shows_progress_and_leaves_no_incomplete_blob(
        hub, weights, tmp_path, monkeypatch):
    """1 byte every 100 ms: a body of a few KB would take minutes; --min-rate 1000 --stall-seconds 1 stops
    it, once and again on the retry, and the bytes that did arrive were reported on the progress channel."""
    import io

    from zoo import progress

    hub.repo(REPO).commit("v1", {"model.safetensors": weights})
    hub.trickle = 0.1
    lines = io.StringIO()
    monkeypatch.setattr(progress, "_channel", progress.Channel("lines", lines, interval=0.2))
    options = fast_fetch_options(tmp_path, source="hub", hub_repos={"tiny": REPO}, min_rate=1000, stall_seconds=1.0,
                                 retries=1, progress=True)
    started = time.monotonic()
    with pytest.raises(WeightsError) as failure:
        fetch_hub(make_card("tiny"), options)
    took = time.monotonic() - started
    text = str(failure.value)
    assert failure.value.exit_code == 3 and "stalled" in text and "--min-rate" in text and "2 attempts" in text, text
    assert took < 30, took
    assert "download model.safetensors:" in lines.getvalue() and "B/s" in lines.getvalue(), lines.getvalue()
    assert hub_cache_files(tmp_path) == [], hub_cache_files(tmp_path)  # no .incomplete, no blob, no snapshot


def test_a_head_that_never_answers_ends_by_the_stall_rule(hub, weights, tmp_path):
    hub.repo(REPO).commit("v1", {"model.safetensors": weights})
    hub.stall_head = 30.0
    options = fast_fetch_options(tmp_path, source="hub", hub_repos={"tiny": REPO}, read_timeout=60.0,
                                 min_rate=1000, stall_seconds=0.5, retries=1)
    started = time.monotonic()
    with pytest.raises(WeightsError) as failure:
        fetch_hub(make_card("tiny"), options)
    took = time.monotonic() - started
    assert failure.value.exit_code == 3
    assert "0.5 s" in str(failure.value) and "stall" in str(failure.value), str(failure.value)
    assert took < 25, took
    assert hub_cache_files(tmp_path) == []


def test_a_file_head_naming_another_commit_than_model_info_is_refused(hub, weights, tmp_path):
    """model_info says commit A; the file's HEAD says commit B. The answer is refused before any byte is kept,
    so no file sits under a snapshot the record does not name."""
    commit = hub.repo(REPO).commit("v1", {"model.safetensors": weights})
    other = commit_id("elsewhere")
    hub.extra_headers = {"X-Repo-Commit": other}
    result = fetch_cli(tmp_path)
    assert result.exit_code == 3, result.output
    assert commit[:12] in result.output and other[:12] in result.output, result.output
    assert not any("snapshots" in f or "blobs" in f for f in hub_cache_files(tmp_path)), hub_cache_files(tmp_path)
    # Once the answers agree again, online then offline both work.
    hub.extra_headers = {}
    assert fetch_cli(tmp_path).exit_code == 0
    assert fetch_cli(tmp_path, "--offline").exit_code == 0


def test_a_lock_entry_whose_file_leaves_the_repo_is_refused_by_the_lock_loader(hub, weights, tmp_path):
    commit = hub.repo(REPO).commit("v1", {"model.safetensors": weights})
    for bad in ("../../x", "/etc/passwd"):
        lock = tmp_path / "weights.lock"
        lock.write_text(
            "version: 1\nfiles:\n"
            f"  {REPO}/model.safetensors:\n"
            f"    sha256: {'a' * 64}\n    size: 10\n    models: [tiny]\n    url: ''\n"
            f"    repo: {REPO}\n    commit: {commit}\n"
            f"    file: {json.dumps(bad)}\n",
            encoding="utf-8",
        )
        result = fetch_cli(tmp_path)
        assert result.exit_code == 2, result.output
        assert f"{lock}:10" in result.output and "'file'" in result.output, result.output
        assert "HF_ENDPOINT" not in result.output
