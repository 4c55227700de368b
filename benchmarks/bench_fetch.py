"""Fetch throughput: zoo's full download path against a plain copy of the same bytes.

Serves a 100 MB file (named with its real SHA-256 prefix) from a loopback HTTP server
in another process and times, interleaved, best of N rounds (each after ``os.sync()``):

- plain:  a bare ``requests`` streamed GET written to a file (no hashing, no checks);
- zoo:    ``fetch_request`` into an empty cache: streaming, SHA-256 while streaming,
          partial file + ``os.replace``, entry lock, hash-prefix and lock-file checks,
          progress bar off.

Target: zoo >= 80% of plain. Run: ``.venv/bin/python benchmarks/bench_fetch.py [--mb 100]
[--rounds 7] [--rate MB/s]`` (``--rate 125`` stands in for a 1 Gbit/s link).

Reading the figures: the only work zoo adds is SHA-256 over every byte (the issue
requires it); it runs on its own thread, so it is free when a core is idle and costs
up to its full CPU time (printed: client CPU, and SHA-256 alone) when none is, e.g. on
a busy 2-core machine with the server on the same cores.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo.weights.lockfile import load_lock  # noqa: E402
from zoo.weights.options import FetchOptions  # noqa: E402
from zoo.weights.sources import WeightsRequest, fetch_request  # noqa: E402

CHUNK = 1 << 20


def serve(data: bytes, rate: float = 0.0) -> tuple[ThreadingHTTPServer, str]:
    """A loopback server answering every GET with ``data`` (1 MiB writes), at most
    ``rate`` MB/s when ``rate`` > 0 (to stand in for a real link)."""
    view = memoryview(data)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", '"bench"')
            self.end_headers()
            start = time.perf_counter()
            for at in range(0, len(view), CHUNK):
                self.wfile.write(view[at : at + CHUNK])
                if rate > 0:
                    ahead = (at + CHUNK) / (rate * 1e6) - (time.perf_counter() - start)
                    if ahead > 0:
                        time.sleep(ahead)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def server_process(size: int, answers: "multiprocessing.Queue[tuple[str, str]]", rate: float = 0.0) -> None:
    """Serve ``size`` random bytes in this (separate) process; report the URL base and SHA-256.

    A separate process keeps the server's Python work off the client's interpreter lock,
    as with a real remote server.
    """
    data = os.urandom(size)
    server, base = serve(data, rate)
    answers.put((base, hashlib.sha256(data).hexdigest()))
    threading.Event().wait()


def plain_copy(url: str, target: Path) -> None:
    with requests.get(url, stream=True, timeout=(10, 60)) as response, open(target, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)


def zoo_fetch(url: str, name: str, size: int, cache: Path, lock_path: Path) -> None:
    options = FetchOptions(cache_dir=cache, lock_path=lock_path, progress=False)
    result = fetch_request(WeightsRequest("bench", url, name, size), options)
    assert result.source == "url" and result.size == size


def timed(action) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) for one run of ``action``."""
    os.sync()  # start every round with no dirty pages from the last one (writeback throttling)
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def sha256_speed(size: int = 100_000_000) -> float:
    """MB/s of hashlib's SHA-256 on this CPU (one core), 1 MiB updates."""
    view = memoryview(os.urandom(size))
    start = time.perf_counter()
    hasher = hashlib.sha256()
    for at in range(0, size, CHUNK):
        hasher.update(view[at : at + CHUNK])
    return size / 1e6 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="file size in MB (default 100)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds of each (default 7)")
    parser.add_argument(
        "--rate", type=float, default=0.0,
        help="cap the server at this many MB/s, like a real link (default: no cap, loopback speed)",
    )
    args = parser.parse_args()

    size = args.mb * 1_000_000
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    context = multiprocessing.get_context("spawn")
    answers: "multiprocessing.Queue[tuple[str, str]]" = context.Queue()
    server = context.Process(target=server_process, args=(size, answers, args.rate), daemon=True)
    server.start()
    base, digest = answers.get(timeout=120)
    name = f"bench-{digest[:8]}.pth"
    url = f"{base}/{name}"
    work = Path(tempfile.mkdtemp(prefix="zoo-bench-fetch-"))
    runs: dict[str, list[tuple[float, float]]] = {"plain": [], "zoo": []}
    try:
        lock = load_lock(work / "weights.lock")  # the lock file is consulted, as in a real run
        lock.pin(name, digest, size, model="bench", url=url)
        lock.save()
        plain_copy(url, work / "warmup")  # warm up the server, page cache and connections
        for round_ in range(args.rounds):
            target = work / "plain.bin"
            runs["plain"].append(timed(lambda: plain_copy(url, target)))
            assert target.stat().st_size == size
            target.unlink()
            cache = work / f"cache{round_}"
            runs["zoo"].append(timed(lambda: zoo_fetch(url, name, size, cache, work / "weights.lock")))
            shutil.rmtree(cache)
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)

    mb = size / 1e6
    print(
        f"file: {mb:.0f} MB from a loopback HTTP server (another process"
        + (f", capped at {args.rate:g} MB/s" if args.rate else "")
        + f"); {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} at start; best of {args.rounds} rounds [median]"
    )
    labels = {"plain": "plain copy (requests -> file)", "zoo": "zoo fetch (sha256, partial, lock, replace)"}
    for key, label in labels.items():
        walls = [w for w, _ in runs[key]]
        cpus = [c for _, c in runs[key]]
        print(
            f"{label:<44} {mb / min(walls):7.1f} MB/s [{mb / statistics.median(walls):6.1f}]"
            f"   client CPU {statistics.median(cpus):.2f} s per file"
        )
    print(f"sha256 alone on one core: {sha256_speed(size):.0f} MB/s")
    ratio = min(walls_of(runs["plain"])) / min(walls_of(runs["zoo"]))
    print(f"ratio zoo / plain: {ratio:.0%} (target >= 80%: {'met' if ratio >= 0.8 else 'NOT met'})")


def walls_of(runs: list[tuple[float, float]]) -> list[float]:
    return [wall for wall, _ in runs]


if __name__ == "__main__":
    main()
