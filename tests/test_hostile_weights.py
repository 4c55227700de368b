"""Hostile cards and servers against the weights cache: nothing outside the cache is created,
changed or deleted, whatever a card's Weights URL or a server says (issue #10, items 1-9, 18)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from hostile_world import snapshot
from weights_world import FaultyServer, checkpoint_bytes, fast_options, hashed_name, make_card, trained_state
from zoo.cli import fetch_cmd, lock_cmd
from zoo.errors import ZooError
from zoo.weights.lockfile import load_lock
from zoo.weights.sources import fetch_weights

CARD = """\
Models:
- Name: {name}
  Metadata:
    File Size: {size}
  Weights: {url}
"""


@pytest.fixture()
def server():
    with FaultyServer() as srv:
        yield srv


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """A user's folder with a file an attacker wants to replace, beside the cache."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / ".bashrc_victim").write_text("precious\n", encoding="utf-8")
    return folder


def write_card(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "index" / "model-index.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fetch(tmp_path: Path, home: Path, index: Path, *args: str):
    base = ["--index", str(index), "--cache-dir", str(home / "cache"), "--lock-file", str(tmp_path / "weights.lock")]
    return CliRunner().invoke(fetch_cmd.command, [*args, *base], env={"ZOO_PROGRESS": "0"})


@pytest.mark.parametrize("size_delta", [0, 1], ids=["matching-size", "size-mismatch"])
def test_dot_dot_in_the_url_file_name_cannot_replace_or_delete_outside(server, tmp_path, home, size_delta):
    data = b"#!/bin/sh\necho owned\n" * 10
    url = server.serve("/ok/..%2F.bashrc_victim", data)
    index = write_card(tmp_path, CARD.format(name="evil", size=len(data) + size_delta, url=url))
    before = snapshot(tmp_path, [home / "cache"])
    result = fetch(tmp_path, home, index, "evil")
    assert result.exit_code == 2, result.output
    assert (home / ".bashrc_victim").read_text() == "precious\n"
    assert snapshot(tmp_path, [home / "cache"]) == before
    assert "evil" in result.output and "model-index.yml:5" in result.output and "'../.bashrc_victim'" in result.output
    assert server.requests_for("/ok/..%2F.bashrc_victim") == []  # refused before any download


def test_encoded_absolute_path_in_the_url_cannot_write_elsewhere(server, tmp_path, home):
    target = tmp_path / "elsewhere" / "planted.pth"
    target.parent.mkdir()
    data = b"x" * 300
    url = server.serve("/w/" + quote(str(target), safe=""), data)
    index = write_card(tmp_path, CARD.format(name="abs", size=len(data), url=url))
    before = snapshot(tmp_path, [home / "cache"])
    result = fetch(tmp_path, home, index, "abs")
    assert result.exit_code == 2, result.output
    assert not target.exists() and snapshot(tmp_path, [home / "cache"]) == before
    assert "abs" in result.output and "model-index.yml:5" in result.output


def test_model_name_with_dot_dot_cannot_escape_through_the_name_fallback(server, tmp_path, home):
    data = b"y" * 300
    url = server.serve("/dir/", data)  # no file name in the URL: the model's name is used
    index = write_card(tmp_path, CARD.format(name="../../x", size=len(data), url=url))
    before = snapshot(tmp_path, [home / "cache"])
    result = fetch(tmp_path, home, index, "../../x")
    assert result.exit_code == 2, result.output
    assert snapshot(tmp_path, [home / "cache"]) == before
    assert "'../../x.pth'" in result.output and "model-index.yml:5" in result.output


@pytest.mark.parametrize("name", ["a\x00b.pth", "a\nb.pth", ".zoo", "x" * 300 + ".pth"])
def test_control_characters_hidden_and_overlong_names_are_refused(tmp_path, name):
    card = make_card("m", "http://127.0.0.1:9/d/" + quote(name, safe=""), 10)
    with pytest.raises(ZooError) as failure:
        fetch_weights(card, fast_options(tmp_path))
    assert failure.value.exit_code == 2 and "m: the Weights at test-index.yml:1" in str(failure.value)
    assert not (tmp_path / "cache").exists()


def test_same_file_name_from_two_urls_is_two_cache_entries_and_two_lock_entries(server, tmp_path, home):
    first = checkpoint_bytes(trained_state(seed=1), tmp_path)
    second = checkpoint_bytes(trained_state(seed=2), tmp_path)
    url_a = server.serve("/a/model.pth", first)
    url_b = server.serve("/b/model.pth", second)
    index = write_card(
        tmp_path,
        CARD.format(name="a", size=len(first), url=url_a) + "- Name: b\n  Metadata:\n    File Size: "
        f"{len(second)}\n  Weights: {url_b}\n",
    )
    base = ["--index", str(index), "--cache-dir", str(home / "cache"), "--lock-file", str(tmp_path / "weights.lock")]
    locked = CliRunner().invoke(lock_cmd.command, ["--all", *base], env={"ZOO_PROGRESS": "0"})
    assert locked.exit_code == 0, locked.output
    lock = load_lock(tmp_path / "weights.lock")
    a, b = lock.get("model.pth", url_a), lock.get("model.pth", url_b)
    assert a is not None and b is not None
    assert (a.sha256, b.sha256) == (__import__("hashlib").sha256(first).hexdigest(), __import__("hashlib").sha256(second).hexdigest())
    # Each model loads its own bytes from the cache, offline, verified against its own pin.
    options = fast_options(tmp_path, cache_dir=home / "cache", offline=True)
    got_a = fetch_weights(make_card("a", url_a), options)
    got_b = fetch_weights(make_card("b", url_b), options)
    assert got_a.path != got_b.path
    assert got_a.path.read_bytes() == first and got_b.path.read_bytes() == second
    assert got_a.lock_status == got_b.lock_status == "pinned"
    # Locking again changes nothing (each URL keeps its entry).
    again = CliRunner().invoke(lock_cmd.command, ["--all", *base], env={"ZOO_PROGRESS": "0"})
    assert again.exit_code == 0 and "re-pinned" not in again.output, again.output


def test_file_url_is_bad_input_naming_the_card_line(tmp_path, home):
    victim = home / "plain.pth"
    victim.write_bytes(b"123456789")
    index = write_card(tmp_path, CARD.format(name="local", size=9, url=victim.as_uri()))
    result = fetch(tmp_path, home, index, "local")
    assert result.exit_code == 2, result.output
    assert "local" in result.output and "model-index.yml:5" in result.output and "fix the weights url" in result.output.lower()


def test_gate_does_not_pass_weights_or_accuracy_measured_with_another_checkpoint(server, tmp_path):
    from fixtures.runs.world import environment

    from weights_world import TinyNet
    from zoo.index.loader import Index
    from zoo.judge.gate import rejudge
    from zoo.judge.policy import Policy
    from zoo.measure.weights import measure_weights
    from zoo.records import Claim, Measurement, ModelResult, RunRecord, SourceRef, Uncertainty
    from zoo.judge.compare import judge

    other = checkpoint_bytes(trained_state(seed=3), tmp_path)
    theirs = checkpoint_bytes(trained_state(seed=4), tmp_path)
    other_url = server.serve("/" + hashed_name("tiny", other), other)
    card_url = server.serve("/" + hashed_name("tiny", theirs), theirs)
    measured_card = make_card("tiny", other_url, len(other))
    outcome = measure_weights(measured_card, TinyNet(), fast_options(tmp_path))
    top1 = Measurement("top1", "ok", 80.0, "%", "test", uncertainty=Uncertainty("wilson-95", 79.9, 80.1, 0.95))
    measurements = [*outcome.measurements, top1]
    assert {v.metric: v.status for v in judge(measured_card, measurements, Policy())}["weights"] == "pass"

    src = SourceRef("metadata/zoo.yml", 7)
    card = make_card("tiny", card_url, len(theirs))
    card.claims["top1"] = Claim("top1", "Top 1 Accuracy", 80.0, "80.0%", src, "%", 0.1)
    run = RunRecord(
        run_id="r", started="", finished="", environment=environment(), index=[], measurements_requested=["weights", "accuracy"],
        models=[ModelResult(card=measured_card, measurements=measurements)],
    )
    gated = rejudge(run, Policy(), index=Index(models=[card]))
    verdicts = {v.metric: v for v in gated.run.verdicts()}
    assert {m: verdicts[m].status for m in ("weights", "file_size", "top1")} == dict.fromkeys(("weights", "file_size", "top1"), "unverified")
    assert "another checkpoint" in verdicts["weights"].explanation and card_url in verdicts["weights"].explanation
    assert "test-index.yml:1" in verdicts["weights"].explanation
    assert gated.code == 3
