"""The weights tests' world: generated checkpoints named with their real hash prefix and a
loopback HTTP server that injects faults (the tiny model, cards and fast options: ``conftest.py``).

The server
----------

Each served path has a *plan*: one behaviour per request, in order (the last one
repeats). Every request's method and headers are recorded, so a test can assert
what the client asked for (e.g. a Range header on the retry).

Behaviours:
  "ok"         serve the file (honouring Range unless ``ignore_range``)
  "drop"       announce the full length, send the first half of the range, close
  "truncate"   announce the full length, send all but the last 100 bytes of the
               whole file, close (a Range request past that point gets no bytes)
  "short"      no Content-Length; send half the file and close cleanly
  "corrupt"    serve the same number of bytes, with different content
  "slow"       send the headers, then stall longer than any test's read timeout
  "sluggish"   serve the file in 8 pieces, ``piece_delay`` apart (to make fetches overlap)
  "trickle"    announce the length, then send one byte every ``trickle_delay`` seconds
  "stall1k"    announce the length, send 1024 bytes, then stall like "slow"
  "nolength"   no Content-Length; send the whole file and close (a close-delimited body)
  "loop"       redirect (302) to the same path, for ever
  <number>     answer with that HTTP status and a short body
"""

from __future__ import annotations

import errno
import hashlib
import io
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import torch

from conftest import TinyNet
from zoo.weights.options import FetchOptions

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass
class Route:
    data: bytes
    plan: list[str]
    ignore_range: bool = False
    etag: Optional[str] = None
    requests: list[dict[str, str]] = field(default_factory=list)

    def next_behaviour(self) -> str:
        index = min(len(self.requests) - 1, len(self.plan) - 1)
        return self.plan[index]


class FaultyServer:
    """``with FaultyServer() as server: url = server.serve("/a.pth", data, ["drop", "ok"])``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.stall_seconds = 3.0
        self.piece_delay = 0.05
        self.trickle_delay = 0.02
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve(self, path: str, data: bytes, plan: Optional[list[str]] = None, *, ignore_range: bool = False,
              etag: bool = True) -> str:
        tag = f'"{hashlib.sha256(data).hexdigest()[:16]}"' if etag else None
        self.routes[path] = Route(data, plan or ["ok"], ignore_range, tag)
        return self.base_url + path

    def requests_for(self, path: str) -> list[dict[str, str]]:
        return self.routes[path].requests

    def __enter__(self) -> "FaultyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _make_handler(server: FaultyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            route = server.routes.get(self.path)
            if route is None:
                self._status(404)
                return
            route.requests.append({k.lower(): v for k, v in self.headers.items()})
            behaviour = route.next_behaviour()
            if behaviour.isdigit():
                self._status(int(behaviour))
                return
            if behaviour == "loop":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = route.data
            start, status = 0, 200
            match = _RANGE.match(self.headers.get("Range", ""))
            if_range = self.headers.get("If-Range")
            if match and not route.ignore_range and (if_range is None or if_range == route.etag):
                start = int(match.group(1))
                if start >= len(data):
                    self._status(416)
                    return
                status = 206
            body = data[start:]
            if behaviour == "corrupt":
                body = bytes(b ^ 0xFF for b in body)
            self.send_response(status)
            if route.etag:
                self.send_header("ETag", route.etag)
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            if behaviour == "nolength":
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            if behaviour == "short":
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if behaviour == "drop":
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            elif behaviour == "truncate":
                keep = max(0, len(data) - 100 - start)
                self.wfile.write(body[:keep])
                self.close_connection = True
            elif behaviour == "sluggish":
                step = max(1, len(body) // 8)
                for at in range(0, len(body), step):
                    self.wfile.write(body[at : at + step])
                    self.wfile.flush()
                    time.sleep(server.piece_delay)
            elif behaviour == "trickle":
                try:
                    for at in range(len(body)):
                        self.wfile.write(body[at : at + 1])
                        self.wfile.flush()
                        time.sleep(server.trickle_delay)
                except OSError:
                    pass
                self.close_connection = True
            elif behaviour == "stall1k":
                self.wfile.write(body[:1024])
                self.wfile.flush()
                time.sleep(server.stall_seconds)
                self.close_connection = True
            elif behaviour == "slow":
                self.wfile.flush()
                time.sleep(server.stall_seconds)
                self.close_connection = True
            else:
                self.wfile.write(body)

        def _status(self, code: int) -> None:
            body = f"status {code}\n".encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# --------------------------------------------------------------------------- checkpoints and cards


def trained_state(seed: int = 0, width: int = 4) -> dict[str, torch.Tensor]:
    """A TinyNet state dict with recognisable (seeded random) values."""
    torch.manual_seed(seed)
    model = TinyNet(width=width)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return model.state_dict()


def checkpoint_bytes(obj: Any, tmp: Path) -> bytes:
    """``torch.save(obj)`` as bytes."""
    path = tmp / "scratch.pth"
    torch.save(obj, path)
    data = path.read_bytes()
    path.unlink()
    return data


def hashed_name(stem: str, data: bytes, ext: str = ".pth") -> str:
    """``stem-<first 8 hex of sha256>.pth``, the torch.hub / timm naming."""
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}{ext}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_listing(options: FetchOptions) -> list[str]:
    """Names of the verified files in the cache (outside its hidden state folder), at any depth."""
    folder = options.cache_dir
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and not p.relative_to(folder).parts[0].startswith("."))


def partial_files(options: FetchOptions) -> list[Path]:
    folder = options.cache_dir / ".zoo" / "partial"
    return sorted(folder.glob("*.part")) if folder.exists() else []


class FullDiskRaw(io.FileIO):
    """A file on a disk with ``budget`` bytes free: a write past it fails with ENOSPC, as a
    real full disk does (under the buffered file, so close() fails again flushing)."""

    budget = 5000

    def write(self, data) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.budget:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def full_disk(monkeypatch: Any, budget: int) -> None:
    """Make the cache's partial files live on a disk with ``budget`` bytes free."""
    from zoo.weights import cache as cache_module

    def opener(fd: int, mode: str) -> io.BufferedRandom:
        raw = FullDiskRaw(fd, "r+", closefd=True)
        raw.budget = budget
        return io.BufferedRandom(raw)

    monkeypatch.setattr(cache_module, "_fdopen", opener)
