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
from conftest import StandInBuilder, TinyNet, fast_fetch_options as fast_options
from conftest import card as _card
from weights_world import FaultyServer, checkpoint_bytes, hashed_name, trained_state
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


def make_card(name, url, file_size=None):
    """A card with a Weights URL and optionally a File Size claim (read by zoo's claim reader)."""
    return _card(name, weights=url, file_size=file_size)


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
    assert failure.value.exit_code == 2 and "m: the Weights at metadata/tiny.yml:" in str(failure.value)
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

    from zoo.index.loader import Index
    from zoo.judge.gate import rejudge
    from zoo.judge.policy import Policy
    from zoo.measure.weights import measure_weights
    from zoo.records import Measurement, ModelResult, RunRecord, Uncertainty
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

    card = _card("tiny", weights=card_url, file_size=len(theirs), top1="80.0%")
    run = RunRecord(
        run_id="r", started="", finished="", environment=environment(), index=[], measurements_requested=["weights", "accuracy"],
        models=[ModelResult(card=measured_card, measurements=measurements)],
    )
    gated = rejudge(run, Policy(), index=Index(models=[card]))
    verdicts = {v.metric: v for v in gated.run.verdicts()}
    assert {m: verdicts[m].status for m in ("weights", "file_size", "top1")} == dict.fromkeys(("weights", "file_size", "top1"), "unverified")
    assert "another checkpoint" in verdicts["weights"].explanation and card_url in verdicts["weights"].explanation
    assert "metadata/tiny.yml:" in verdicts["weights"].explanation
    assert gated.code == 3


def _partial_name(file_name: str, url: str) -> str:
    return f"{file_name}.{__import__('hashlib').sha1(url.encode()).hexdigest()[:10]}.part"


def test_symlink_planted_at_the_partial_name_is_not_written_through(server, tmp_path, home):
    data = checkpoint_bytes(trained_state(seed=5), tmp_path)
    name = hashed_name("tiny", data)
    url = server.serve("/" + name, data)
    partial_dir = home / "cache" / ".zoo" / "partial"
    partial_dir.mkdir(parents=True)
    (partial_dir / _partial_name(name, url)).symlink_to(home / ".bashrc_victim")
    (home / "cache" / ".zoo" / "locks").mkdir()
    (home / "cache" / ".zoo" / "locks" / f"{name}.lock").symlink_to(home / ".bashrc_victim")
    index = write_card(tmp_path, CARD.format(name="tiny", size=len(data), url=url))
    before = snapshot(tmp_path, [home / "cache"])
    result = fetch(tmp_path, home, index, "tiny")
    assert result.exit_code == 0, result.output
    assert (home / ".bashrc_victim").read_text() == "precious\n" and snapshot(tmp_path, [home / "cache"]) == before
    assert (home / "cache" / name).read_bytes() == data and not (home / "cache" / name).is_symlink()


def test_cache_state_folder_symlinked_outside_is_refused(server, tmp_path, home):
    data = checkpoint_bytes(trained_state(seed=6), tmp_path)
    name = hashed_name("tiny", data)
    url = server.serve("/" + name, data)
    outside = tmp_path / "outside"
    outside.mkdir()
    (home / "cache").mkdir()
    (home / "cache" / ".zoo").symlink_to(outside, target_is_directory=True)
    index = write_card(tmp_path, CARD.format(name="tiny", size=len(data), url=url))
    before = snapshot(tmp_path, [home / "cache"])
    result = fetch(tmp_path, home, index, "tiny")
    assert result.exit_code == 3, result.output
    assert snapshot(tmp_path, [home / "cache"]) == before and list(outside.iterdir()) == []
    assert "tiny" in result.output and "outside" in result.output


def test_disk_full_without_content_length_deletes_the_partial_and_says_no_space(server, tmp_path, home, monkeypatch):
    from weights_world import full_disk

    data = os.urandom(40_000)
    name = hashed_name("big", data)
    url = server.serve("/" + name, data, ["nolength"])
    full_disk(monkeypatch, 20_000)
    index = write_card(tmp_path, CARD.format(name="big", size=len(data), url=url))
    result = fetch(tmp_path, home, index, "big")
    assert result.exit_code == 3, result.output
    assert "no space left" in result.output and "Errno" not in result.output and "big" in result.output
    partial_dir = home / "cache" / ".zoo" / "partial"
    assert not any(partial_dir.glob("*.part")) and not (home / "cache" / name).exists()


def test_body_cut_short_without_length_or_proof_is_unverifiable_and_not_pinned(server, tmp_path, home):
    data = checkpoint_bytes(trained_state(seed=7), tmp_path)
    url = server.serve("/plain/model.pth", data, ["short"])  # no length, half the body, close
    index = write_card(tmp_path, "Models:\n- Name: plain\n  Weights: " + url + "\n")
    base = ["--index", str(index), "--cache-dir", str(home / "cache"), "--lock-file", str(tmp_path / "weights.lock")]
    result = CliRunner().invoke(lock_cmd.command, ["plain", *base], env={"ZOO_PROGRESS": "0"})
    assert result.exit_code == 3, result.output
    assert "unverifiable" in result.output and "plain" in result.output
    assert not (tmp_path / "weights.lock").exists()
    assert not list((home / "cache").rglob("model.pth"))


def test_trickling_server_stalls_with_a_clear_message_instead_of_hanging(server, tmp_path):
    data = os.urandom(2000)
    name = hashed_name("slow", data)
    url = server.serve("/" + name, data, ["trickle"])
    options = fast_options(tmp_path, min_rate=1000, stall_seconds=0.4, retries=1)
    from zoo.weights.errors import TimedOutError

    import time as _time

    began = _time.monotonic()
    with pytest.raises(TimedOutError) as failure:
        fetch_weights(make_card("slow", url, len(data)), options)
    assert _time.monotonic() - began < 5
    text = str(failure.value)
    assert "stalled" in text and "minimum of 1000 B/s" in text and "--min-rate" in text
    assert "after 0 B" not in text


def test_stall_after_1k_names_the_bytes_that_arrived(server, tmp_path):
    data = os.urandom(5000)
    name = hashed_name("half", data)
    url = server.serve("/" + name, data, ["stall1k"])
    server.stall_seconds = 1.5
    from zoo.weights.errors import TimedOutError

    with pytest.raises(TimedOutError) as failure:
        fetch_weights(make_card("half", url, len(data)), fast_options(tmp_path, read_timeout=0.5, retries=0))
    assert "after 1.0 KiB" in str(failure.value) and "kept" in str(failure.value)


def test_piped_fetch_prints_progress_lines(server, tmp_path, monkeypatch):
    import io

    from zoo import progress

    data = os.urandom(3000)
    name = hashed_name("piped", data)
    url = server.serve("/" + name, data, ["sluggish"])  # 8 pieces, 0.1 s apart
    server.piece_delay = 0.1
    stream = io.StringIO()
    monkeypatch.setattr(progress, "_channel", progress.Channel("lines", stream, interval=0.05))
    fetch_weights(make_card("piped", url, len(data)), fast_options(tmp_path, progress=True, chunk_size=256))
    lines = [ln for ln in stream.getvalue().splitlines() if ln.startswith(f"download {name}: ")]
    assert len(lines) >= 2 and "/3.0 KB (" in lines[0] and "B/s" in lines[0]


def test_redirect_loop_is_one_models_download_error_and_the_others_go_on(server, tmp_path, home):
    data = checkpoint_bytes(trained_state(seed=8), tmp_path)
    good = hashed_name("good", data)
    loop_url = server.serve("/loop-12345678.pth", b"", ["loop"])
    good_url = server.serve("/" + good, data)
    index = write_card(
        tmp_path,
        CARD.format(name="looping", size=10, url=loop_url) + f"- Name: good\n  Metadata:\n    File Size: {len(data)}\n  Weights: {good_url}\n",
    )
    result = fetch(tmp_path, home, index, "--all")
    assert result.exit_code == 3, result.output
    assert "FAILED  looping" in result.output and "redirects in a loop" in result.output
    assert "ok      good" in result.output


@pytest.mark.parametrize("garbage", [b"hello world, not a checkpoint\n" * 20, b"."], ids=["text", "stray-stop"])
def test_garbage_pickle_is_one_models_bad_checkpoint_and_the_record_is_written(server, tmp_path, garbage, monkeypatch):
    from zoo.judge.policy import Policy
    from zoo.verify.pipeline import VerifyRequest, run_verify
    from zoo.verify import builders

    name = hashed_name("junk", garbage)
    url = server.serve("/" + name, garbage)
    monkeypatch.setitem(builders.BUILDERS, "timm", StandInBuilder(TinyNet()))
    request = VerifyRequest(
        cards=[make_card("junk", url, len(garbage))], kinds=["weights"], policy=Policy(), results=tmp_path / "runs",
        fetch=fast_options(tmp_path),
    )
    record, path = run_verify(request)
    assert path is not None and path.is_file()
    from zoo.judge.gate import run_exit_code

    weights = next(v for v in record.verdicts() if v.metric == "weights")
    assert weights.status == "error" and "cannot be read as a PyTorch checkpoint" in weights.explanation
    assert run_exit_code(record) == 2


def test_interrupted_fetch_says_the_partial_is_kept_for_resuming(server, tmp_path, home, monkeypatch):
    from zoo.weights import cache as cache_module

    data = os.urandom(50_000)
    name = hashed_name("cut", data)
    url = server.serve("/" + name, data)
    real_write = cache_module.PartialFile.write

    def write(self, chunk):
        real_write(self, chunk[:10_000])
        raise KeyboardInterrupt  # Ctrl-C after the first 10 kB landed

    monkeypatch.setattr(cache_module.PartialFile, "write", write)
    index = write_card(tmp_path, CARD.format(name="cut", size=len(data), url=url))
    result = fetch(tmp_path, home, index, "cut", "--online")
    assert result.exit_code == 130
    assert "nothing half-written was kept" not in result.output
    assert "partial download is kept" in result.output
    assert list((home / "cache" / ".zoo" / "partial").glob("*.part")) and not (home / "cache" / name).exists()


def test_stall_rule_flags_and_environment(server, tmp_path, home, monkeypatch):
    data = os.urandom(2000)
    name = hashed_name("drip", data)
    url = server.serve("/" + name, data, ["trickle"])
    index = write_card(tmp_path, CARD.format(name="drip", size=len(data), url=url))
    from zoo.weights import download as download_module

    monkeypatch.setattr(download_module, "sleep", lambda seconds: None)  # no backoff waits between retries
    result = fetch(tmp_path, home, index, "drip", "--min-rate", "1000", "--stall-seconds", "0.3")
    assert result.exit_code == 3, result.output
    assert "zoo: drip:" in result.output and "stalled" in result.output
    monkeypatch.setenv("ZOO_MIN_RATE", "5")
    monkeypatch.setenv("ZOO_STALL_SECONDS", "7")
    from zoo.weights.options import FetchOptions

    options = FetchOptions.from_env()
    assert (options.min_rate, options.stall_seconds) == (5.0, 7.0)
    monkeypatch.setenv("ZOO_MIN_RATE", "fast")
    from zoo.errors import InputError

    with pytest.raises(InputError, match="ZOO_MIN_RATE"):
        FetchOptions.from_env()


def test_failed_requested_measurement_without_a_claim_still_sets_the_exit_code(tmp_path, monkeypatch):
    from zoo.judge.gate import run_exit_code
    from zoo.judge.policy import Policy
    from zoo.verify import builders
    from zoo.verify.pipeline import VerifyRequest, run_verify

    garbage = tmp_path / "mine.pth"
    garbage.write_text("not a checkpoint\n" * 10)
    monkeypatch.setitem(builders.BUILDERS, "timm", StandInBuilder(TinyNet()))
    card = make_card("tiny", None)  # no Weights, no File Size: nothing claims the weights
    request = VerifyRequest(
        cards=[card], kinds=["weights"], policy=Policy(), results=None,
        fetch=fast_options(tmp_path, local_files={"tiny": garbage}),
    )
    record, _ = run_verify(request)
    assert record.verdicts() == []
    assert run_exit_code(record) == 2  # the local checkpoint is bad input, claim or not
    offline = VerifyRequest(cards=[make_card("tiny", None)], kinds=["weights"], policy=Policy(), results=None,
                            fetch=fast_options(tmp_path))
    record, _ = run_verify(offline)
    assert run_exit_code(record) == 3  # weights were asked for and could not be had


def test_verify_records_a_hostile_weights_name_as_bad_input_and_touches_nothing(server, tmp_path, home, monkeypatch):
    from zoo.judge.gate import run_exit_code
    from zoo.judge.policy import Policy
    from zoo.verify import builders
    from zoo.verify.pipeline import VerifyRequest, run_verify

    data = b"x" * 200
    url = server.serve("/ok/..%2F.bashrc_victim", data)
    monkeypatch.setitem(builders.BUILDERS, "timm", StandInBuilder(TinyNet()))
    before = snapshot(tmp_path, [home / "cache", tmp_path / "runs"])
    request = VerifyRequest(
        cards=[make_card("evil", url, len(data))], kinds=["weights"], policy=Policy(), results=tmp_path / "runs",
        fetch=fast_options(tmp_path, cache_dir=home / "cache"),
    )
    record, path = run_verify(request)
    weights = next(v for v in record.verdicts() if v.metric == "weights")
    assert weights.status == "error" and "evil" in weights.explanation and "metadata/tiny.yml:" in weights.explanation
    assert run_exit_code(record) == 2 and path is not None
    assert snapshot(tmp_path, [home / "cache", tmp_path / "runs"]) == before
    assert server.requests_for("/ok/..%2F.bashrc_victim") == []


def test_gate_does_not_pass_weights_whose_bytes_the_lock_file_pins_otherwise(server, tmp_path):
    from fixtures.runs.world import environment

    from zoo.index.loader import Index
    from zoo.judge.gate import rejudge
    from zoo.judge.policy import Policy
    from zoo.measure.weights import measure_weights
    from zoo.records import ModelResult, RunRecord
    from zoo.weights.lockfile import WeightsLock

    measured = checkpoint_bytes(trained_state(seed=9), tmp_path)
    url = server.serve("/plain/model.pth", measured)  # no hash in the name: only the lock can tell
    options = fast_options(tmp_path)
    lock = WeightsLock(path=tmp_path / "weights.lock")
    first = fetch_weights(make_card("tiny", url, len(measured)), options)
    lock.pin(first.file_name, first.sha256, first.size, model="tiny", url=url)
    lock.save()
    card = make_card("tiny", url, len(measured))
    outcome = measure_weights(card, TinyNet(), options)
    assert next(m for m in outcome.measurements if m.metric == "weights").status == "ok"
    run = RunRecord(run_id="r", started="", finished="", environment=environment(), index=[],
                    measurements_requested=["weights"], models=[ModelResult(card=card, measurements=outcome.measurements)])
    same = WeightsLock(path=lock.path, entries=dict(lock.entries), exists=True)
    assert {v.metric: v.status for v in rejudge(run, Policy(), index=Index(models=[card]), lock=same).run.verdicts()}["weights"] == "pass"
    other = WeightsLock(path=lock.path, exists=True)
    other.pin("model.pth", "0" * 64, len(measured), model="tiny", url=url)  # the card's file is another one now
    verdicts = {v.metric: v for v in rejudge(run, Policy(), index=Index(models=[card]), lock=other).run.verdicts()}
    assert verdicts["weights"].status == "unverified" and "pins sha256 000000000000" in verdicts["weights"].explanation


@pytest.mark.parametrize("url", ["http://&a [*a]127.0.0.1:9/", "http://[::1/x.pth", "https://[nothost]/m.pth"])
def test_weights_that_are_not_urls_are_bad_input_not_a_crash(tmp_path, home, url):
    index = write_card(tmp_path, CARD.format(name="odd", size=10, url=url))
    result = fetch(tmp_path, home, index, "odd")
    assert result.exit_code == 2, result.output  # found by the property test: urlparse raised ValueError (exit 4)
    assert "odd" in result.output and "model-index.yml:5" in result.output


def test_a_lock_file_that_is_not_utf8_is_bad_input_and_left_as_it_was(server, tmp_path, home):
    data = b"weights" * 10
    url = server.serve("/m/model.pth", data)
    index = write_card(tmp_path, CARD.format(name="m", size=len(data), url=url))
    lock = tmp_path / "weights.lock"
    lock.write_bytes(b"files:\n  model.pth: {sha256: \xff}\n")
    result = fetch(tmp_path, home, index, "m")
    assert result.exit_code == 2, result.output
    assert "weights.lock:2:23:" in result.output and "the lock file is not UTF-8" in result.output
    assert "Traceback" not in result.output
    assert lock.read_bytes() == b"files:\n  model.pth: {sha256: \xff}\n"


@pytest.mark.parametrize("planted", ["nested", "fifo"])
def test_a_planted_resume_note_in_the_cache_is_ignored_not_a_crash_or_a_hang(server, tmp_path, home, planted):
    """Issue #20, beyond its list: the JSON note kept beside a partial download is read with the one
    bounded JSON reader, so a note nested thousands deep (or a FIFO that would block the read) is
    ignored and the file is downloaded afresh."""
    from zoo.weights.cache import CacheEntry

    data = checkpoint_bytes(trained_state(seed=3), tmp_path)
    name = hashed_name("noted", data)
    url = server.serve("/" + name, data)
    entry = CacheEntry(home / "cache", name, source=url)
    note = entry.partial_info_path(url)
    note.parent.mkdir(parents=True)
    if planted == "nested":
        note.write_text('{"url": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    else:
        os.mkfifo(note)
    index = write_card(tmp_path, CARD.format(name="noted", size=len(data), url=url))
    result = fetch(tmp_path, home, index, "noted")
    assert result.exit_code == 0, result.output
    assert (home / "cache" / name).read_bytes() == data
