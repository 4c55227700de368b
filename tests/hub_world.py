"""A loopback stand-in for the Hugging Face Hub, answering what huggingface_hub asks of a model repo.

Requests it answers (the ones ``HfApi.model_info`` and ``hf_hub_download`` make):

  GET  /api/models/ORG/NAME/revision/REV[?blobs=True]   the repo at REV: commit ``sha`` and
       ``siblings`` with each file's size and LFS ``sha256`` (404 + X-Error-Code otherwise)
  HEAD /ORG/NAME/resolve/REV/FILE    X-Repo-Commit, X-Linked-Etag (the LFS SHA-256), X-Linked-Size,
       ETag, and a 302 Location to the "CDN" (the same server under the host name ``localhost``,
       another origin, so huggingface_hub stops there as it does for the real CDN)
  GET  /cdn/SHA256                   the bytes; what is served can be altered per test

Every request is recorded as ``(method, path)`` in :attr:`HubStandIn.log`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlparse

import torch


_DIGESTS: dict[bytes, str] = {}


def sha256(data: bytes) -> str:
    """SHA-256 hex of ``data``, remembered (the stand-in names every blob by it on every request)."""
    digest = _DIGESTS.get(data)
    if digest is None:
        digest = _DIGESTS[data] = hashlib.sha256(data).hexdigest()
    return digest


def commit_id(label: str) -> str:
    """A made-up 40-hex commit id, stable per label."""
    return hashlib.sha1(label.encode()).hexdigest()


@dataclass
class HubRepo:
    """One model repo: commits (each a set of files) and branches pointing at them."""

    repo_id: str
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def commit(self, label: str, files: dict[str, bytes], branch: str = "main") -> str:
        """Add a commit holding ``files`` and point ``branch`` at it; returns its id."""
        cid = commit_id(f"{self.repo_id}:{label}")
        self.commits[cid] = dict(files)
        self.branches[branch] = cid
        return cid

    def resolve(self, revision: str) -> Optional[str]:
        return self.branches.get(revision) or (revision if revision in self.commits else None)


class HubStandIn:
    """``with HubStandIn() as hub: repo = hub.repo("timm/x"); repo.commit("v1", {...})``."""

    def __init__(self) -> None:
        self.repos: dict[str, HubRepo] = {}
        self.log: list[tuple[str, str]] = []
        self.auth: list[tuple[str, Optional[str]]] = []
        """(path, Authorization header or None) of every request."""
        self.served: dict[str, bytes] = {}
        """Bytes served for an LFS hash instead of the real ones (a misbehaving CDN)."""
        self.extra_headers: dict[str, str] = {}
        """Headers added to every file HEAD answer (a hostile server's ETag, say)."""
        self.redirect = True
        self.info_override: Optional[bytes] = None
        """A model-info body sent instead of the real one (a server that is not the Hub)."""
        self.stall_info = 0.0
        """Seconds the model-info answer waits before its headers (a stalled server)."""
        self.stall_head = 0.0
        """Seconds a file's HEAD answer waits before its headers (a HEAD that never answers)."""
        self.trickle = 0.0
        """Seconds between two bytes of a CDN body (a server that trickles); 0 sends at once."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def repo(self, repo_id: str) -> HubRepo:
        return self.repos.setdefault(repo_id, HubRepo(repo_id))

    def requests(self, method: str = "", contains: str = "") -> list[str]:
        return [path for m, path in self.log if (not method or m == method) and contains in path]

    def __enter__(self) -> "HubStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def blob(self, digest: str) -> Optional[bytes]:
        if digest in self.served:
            return self.served[digest]
        for repo in self.repos.values():
            for files in repo.commits.values():
                for data in files.values():
                    if sha256(data) == digest:
                        return data
        return None


def _handler(hub: HubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            path = unquote(urlparse(self.path).path)
            hub.log.append(("HEAD" if head else "GET", path))
            hub.auth.append((path, self.headers.get("Authorization")))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "revision":
                return self._model_info("/".join(parts[2:4]), "/".join(parts[5:]))
            if parts[0] == "cdn" and len(parts) == 2:
                return self._cdn(parts[1], head)
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]), head)
            self._send(404, b"not found", {"X-Error-Code": "RepoNotFound"}, head)

        def _lookup(self, repo_id: str, revision: str) -> tuple[Optional[HubRepo], Optional[str]]:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._send(404, b"no repo", {"X-Error-Code": "RepoNotFound"}, False)
                return None, None
            commit = repo.resolve(revision)
            if commit is None:
                self._send(404, b"no revision", {"X-Error-Code": "RevisionNotFound"}, False)
                return None, None
            return repo, commit

        def _model_info(self, repo_id: str, revision: str) -> None:
            if hub.stall_info:
                time.sleep(hub.stall_info)
            if hub.info_override is not None:
                return self._send(200, hub.info_override, {"Content-Type": "application/json"}, False)
            repo, commit = self._lookup(repo_id, revision)
            if repo is None or commit is None:
                return
            siblings = [
                {"rfilename": name, "size": len(data), "blobId": commit_id(name + sha256(data)),
                 "lfs": {"size": len(data), "sha256": sha256(data), "pointerSize": 134}}
                for name, data in repo.commits[commit].items()
            ]
            body = json.dumps({"id": repo_id, "modelId": repo_id, "sha": commit, "siblings": siblings}).encode()
            self._send(200, body, {"Content-Type": "application/json"}, False)

        def _resolve(self, repo_id: str, revision: str, name: str, head: bool) -> None:
            if head and hub.stall_head:
                time.sleep(hub.stall_head)
            repo, commit = self._lookup(repo_id, revision)
            if repo is None or commit is None:
                return
            data = repo.commits[commit].get(name)
            if data is None:
                self._send(404, b"no file", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, head)
                return
            digest = sha256(data)
            headers = {"X-Repo-Commit": commit, "X-Linked-Etag": f'"{digest}"', "X-Linked-Size": str(len(data)),
                       "ETag": f'"{commit_id(name + digest)}"', **hub.extra_headers}
            if hub.redirect:
                headers["Location"] = f"http://localhost:{hub.port}/cdn/{digest}"
                self._send(302, b"", headers, head)
            else:
                self._send(200, hub.blob(digest) or b"", headers, head)

        def _cdn(self, digest: str, head: bool) -> None:
            data = hub.blob(digest)
            if data is None:
                self._send(404, b"no blob", {}, head)
                return
            if hub.trickle and not head:
                return self._trickle(data, {"ETag": f'"{digest}"'})
            self._send(200, data, {"ETag": f'"{digest}"'}, head)

        def _trickle(self, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(200)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(hub.trickle)
            except OSError:  # the client gave up
                pass

        def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler


# --------------------------------------------------------------------------- checkpoints


def safetensors_bytes(state: dict[str, torch.Tensor], tmp: Path) -> bytes:
    """A state dict saved as safetensors, as bytes."""
    from safetensors.torch import save_file

    path = tmp / "scratch.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    data = path.read_bytes()
    path.unlink()
    return data


def pickle_bytes(state: dict[str, torch.Tensor], tmp: Path) -> bytes:
    """A state dict saved with ``torch.save`` (a ``pytorch_model.bin``), as bytes."""
    path = tmp / "scratch.bin"
    torch.save(state, path)
    data = path.read_bytes()
    path.unlink()
    return data


def hub_env(hub: HubStandIn, tmp: Path) -> dict[str, str]:
    """Environment pointing huggingface_hub at the stand-in, with its cache under ``tmp``."""
    return {
        "HF_ENDPOINT": hub.endpoint,
        "HF_HOME": str(tmp / "hf-home"),
        "HF_HUB_CACHE": str(tmp / "hf-home" / "hub"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_TOKEN": "",
    }
