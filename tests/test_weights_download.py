"""Getting the bytes over HTTP: retries, resume, faults, atomic cache, concurrency."""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import zoo.weights.cache as cache_module
import zoo.weights.download as download_module
from conftest import card as make_card, fast_fetch_options
from weights_world import (
    cache_listing,
    full_disk,
    checkpoint_bytes,
    FaultyServer,
    hashed_name,
    partial_files,
    sha256,
    trained_state,
)
from zoo.weights.cache import PartialFile
from zoo.weights.errors import (
    HashMismatchError,
    NoSpaceError,
    NotFoundError,
    TimedOutError,
    TLSError,
    TruncatedError,
    UnreachableError,
)
from zoo.weights.sources import fetch_weights

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    with FaultyServer() as srv:
        yield srv


@pytest.fixture()
def checkpoint(tmp_path: Path) -> tuple[str, bytes]:
    data = checkpoint_bytes(trained_state(width=32), tmp_path)  # ~8 KB: several 4 KiB chunks
    return hashed_name("tiny", data), data


def serve(server: FaultyServer, checkpoint: tuple[str, bytes], plan: list[str], **kw) -> tuple[str, str]:
    name, data = checkpoint
    path = f"/release/{name}"
    return server.serve(path, data, plan, **kw), path


def test_fetch_then_cache_hit(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["ok"])
    options = fast_fetch_options(tmp_path)
    card = make_card("tiny", collection="Tiny", weights=url, file_size=len(data))

    first = fetch_weights(card, options)
    second = fetch_weights(card, options)

    assert (first.source, second.source) == ("url", "cache")
    assert first.sha256 == second.sha256 == sha256(data)
    assert (options.cache_dir / name).read_bytes() == data
    assert len(server.requests_for(path)) == 1  # the cache hit asked nothing
    assert first.verified_by == "name-hash"
    assert partial_files(options) == []


def test_dropped_connection_resumes_with_range(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["drop", "ok"])
    options = fast_fetch_options(tmp_path)

    result = fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)

    requests = server.requests_for(path)
    assert len(requests) == 2
    assert "range" not in requests[0]
    assert requests[1]["range"] == f"bytes={len(data) // 2}-"
    assert requests[1]["if-range"] == server.routes[path].etag
    assert result.sha256 == sha256(data)
    assert (options.cache_dir / name).read_bytes() == data


def test_resume_across_runs(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["drop"])
    card = make_card("tiny", collection="Tiny", weights=url, file_size=len(data))

    with pytest.raises(TruncatedError) as failure:
        fetch_weights(card, fast_fetch_options(tmp_path, retries=0))
    assert "were kept and the next fetch resumes" in str(failure.value)
    assert cache_listing(fast_fetch_options(tmp_path)) == []
    kept = partial_files(fast_fetch_options(tmp_path))
    assert len(kept) == 1 and kept[0].stat().st_size == len(data) // 2

    server.routes[path].plan = ["drop", "ok"]  # a new run, and now the server behaves
    result = fetch_weights(card, fast_fetch_options(tmp_path))
    assert server.requests_for(path)[-1]["range"] == f"bytes={len(data) // 2}-"
    assert result.sha256 == sha256(data)
    assert partial_files(fast_fetch_options(tmp_path)) == []


def test_server_error_then_success(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["500", "ok"])
    result = fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path))
    assert result.sha256 == sha256(data)
    assert len(server.requests_for(path)) == 2
    assert any("500" in note for note in result.notes)


def test_persistent_503_gives_up_after_retries(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["503"])
    with pytest.raises(UnreachableError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path, retries=2))
    assert len(server.requests_for(path)) == 3
    assert "503" in str(failure.value) and "3 attempts" in str(failure.value)


def test_retry_waits_back_off(server, checkpoint, tmp_path, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(download_module, "sleep", waits.append)
    name, data = checkpoint
    url, _ = serve(server, checkpoint, ["429", "502", "ok"])
    fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path, backoff=1.0, max_backoff=30))
    assert waits == [1.0, 2.0]


def test_truncated_body_every_time(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["truncate"])
    options = fast_fetch_options(tmp_path, retries=2)
    with pytest.raises(TruncatedError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    message = str(failure.value)
    assert f"dropped after {len(data) - 100} of {len(data)} bytes" in message
    assert cache_listing(options) == []
    # the retries asked for the missing tail, not the whole file again
    assert server.requests_for(path)[-1]["range"] == f"bytes={len(data) - 100}-"


def test_short_body_without_length_is_rejected_and_deleted(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, _ = serve(server, checkpoint, ["short"])
    options = fast_fetch_options(tmp_path)
    with pytest.raises(TruncatedError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    assert "deleted" in str(failure.value) and "cut short" in str(failure.value)
    assert cache_listing(options) == [] and partial_files(options) == []


def test_wrong_bytes_are_rejected_and_deleted(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, _ = serve(server, checkpoint, ["corrupt"])
    options = fast_fetch_options(tmp_path)
    with pytest.raises(HashMismatchError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    message = str(failure.value)
    assert name.split("-")[1][:8] in message  # what was expected
    assert sha256(bytes(b ^ 0xFF for b in data)) in message  # what arrived
    assert "download was deleted" in message and "Likely cause" in message
    assert cache_listing(options) == [] and partial_files(options) == []


def test_not_found_is_not_retried(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["404"])
    with pytest.raises(NotFoundError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path))
    assert len(server.requests_for(path)) == 1
    assert "404" in str(failure.value) and "--weights" in str(failure.value)


def test_slow_server_hits_read_timeout(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["slow"])
    server.stall_seconds = 1.0
    options = fast_fetch_options(tmp_path, read_timeout=0.2, retries=1)
    with pytest.raises(TimedOutError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    assert "0.2 s" in str(failure.value)
    assert len(server.requests_for(path)) == 2


def test_server_ignoring_range_restarts_cleanly(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["drop", "ok"], ignore_range=True)
    options = fast_fetch_options(tmp_path)
    result = fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    assert server.requests_for(path)[1]["range"] == f"bytes={len(data) // 2}-"
    assert (options.cache_dir / name).read_bytes() == data  # no bytes doubled
    assert any("ignored the Range" in note for note in result.notes)


def test_changed_upstream_file_is_not_spliced(server, checkpoint, tmp_path):
    """If-Range: a partial from an older file version makes the server send the whole new file."""
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["drop", "ok"])
    with pytest.raises(TruncatedError):
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path, retries=0))
    server.routes[path].etag = '"a-new-version"'  # same bytes, new validator: no splicing allowed
    result = fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path))
    assert result.sha256 == sha256(data)
    assert any("ignored the Range" in note for note in result.notes)


def test_unreachable_host(checkpoint, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    name, data = checkpoint
    url = f"http://127.0.0.1:{port}/{name}"
    with pytest.raises(UnreachableError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), fast_fetch_options(tmp_path, retries=1))
    assert "refused" in str(failure.value).lower()
    assert "nothing was kept" in str(failure.value).lower()


def test_tls_failure_is_distinct_and_not_retried(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["ok"])
    with pytest.raises(TLSError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url.replace("http://", "https://"), file_size=len(data)), fast_fetch_options(tmp_path))
    assert "REQUESTS_CA_BUNDLE" in str(failure.value)


def test_no_space_before_download(server, checkpoint, tmp_path, monkeypatch):
    name, data = checkpoint
    url, _ = serve(server, checkpoint, ["ok"])

    class Usage:
        free = 10

    monkeypatch.setattr(download_module.shutil, "disk_usage", lambda _: Usage())
    options = fast_fetch_options(tmp_path)
    with pytest.raises(NoSpaceError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    assert "--cache-dir" in str(failure.value) and "ZOO_CACHE" in str(failure.value)
    assert cache_listing(options) == [] and partial_files(options) == []


def test_disk_full_mid_write_deletes_partial(server, checkpoint, tmp_path, monkeypatch):
    name, data = checkpoint
    url, _ = serve(server, checkpoint, ["ok"])
    full_disk(monkeypatch, 5000)
    options = fast_fetch_options(tmp_path)
    with pytest.raises(NoSpaceError) as failure:
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    assert "partial download was deleted" in str(failure.value)
    assert cache_listing(options) == [] and partial_files(options) == []


def test_ctrl_c_mid_stream_leaves_no_visible_file_and_resumes(server, checkpoint, tmp_path, monkeypatch):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["ok"])
    real_write = PartialFile.write

    def interrupted(self, chunk):
        if self.size >= 4096:
            raise KeyboardInterrupt
        real_write(self, chunk)

    monkeypatch.setattr(PartialFile, "write", interrupted)
    options = fast_fetch_options(tmp_path)
    card = make_card("tiny", collection="Tiny", weights=url, file_size=len(data))
    with pytest.raises(KeyboardInterrupt):
        fetch_weights(card, options)
    assert cache_listing(options) == []  # nothing unverified under the file's name
    assert [p.stat().st_size for p in partial_files(options)] == [4096]

    monkeypatch.setattr(PartialFile, "write", real_write)
    result = fetch_weights(card, options)
    assert server.requests_for(path)[-1]["range"] == "bytes=4096-"
    assert result.sha256 == sha256(data) and cache_listing(options) == [name]


def test_partial_complete_from_earlier_run_is_verified_without_asking(server, checkpoint, tmp_path, monkeypatch):
    """A run killed between the last byte and the rename: the next run only verifies."""
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["ok"])
    options = fast_fetch_options(tmp_path)
    card = make_card("tiny", collection="Tiny", weights=url, file_size=len(data))
    monkeypatch.setattr(cache_module.CacheEntry, "commit", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        fetch_weights(card, options)
    monkeypatch.undo()
    assert cache_listing(options) == []
    result = fetch_weights(card, options)
    assert result.sha256 == sha256(data)
    assert len(server.requests_for(path)) == 1


def test_two_processes_fetching_one_file_end_with_one_good_copy(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["sluggish"])
    server.piece_delay = 0.15  # about 1.2 s per download: the second process arrives meanwhile
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from zoo.weights.options import FetchOptions
        from zoo.weights.sources import WeightsRequest, fetch_request
        options = FetchOptions(cache_dir=Path({str(tmp_path / 'cache')!r}), lock_path=None, progress=False,
                               retries=0, read_timeout=5)
        result = fetch_request(WeightsRequest("tiny", {url!r}, {name!r}, {len(data)}), options)
        print(json.dumps({{"source": result.source, "sha256": result.sha256}}))
        """
    )
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    assert {r["sha256"] for r in results} == {sha256(data)}
    assert sorted(r["source"] for r in results) == ["cache", "url"]  # one downloaded, one waited
    assert any("waiting for another zoo process" in err for _, err in outputs)
    assert len(server.requests_for(path)) == 1
    options = fast_fetch_options(tmp_path)
    assert cache_listing(options) == [name] and partial_files(options) == []
    assert (options.cache_dir / name).read_bytes() == data


def test_cached_file_that_fails_its_check_is_replaced(server, checkpoint, tmp_path):
    name, data = checkpoint
    url, path = serve(server, checkpoint, ["ok"])
    options = fast_fetch_options(tmp_path)
    options.cache_dir.mkdir(parents=True)
    (options.cache_dir / name).write_bytes(b"damaged")
    result = fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), options)
    assert result.source == "url" and (options.cache_dir / name).read_bytes() == data
    assert any("cached copy was deleted" in note for note in result.notes)


def test_unresolvable_host_fails_fast_without_retries(tmp_path, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(download_module, "sleep", waits.append)
    card = make_card("tiny", collection="Tiny", weights="http://weights.zoo-test.invalid/tiny-12345678.pth", file_size=10)
    with pytest.raises(UnreachableError) as failure:
        fetch_weights(card, fast_fetch_options(tmp_path, retries=3))
    assert "cannot resolve the host name 'weights.zoo-test.invalid'" in str(failure.value)
    assert waits == []
