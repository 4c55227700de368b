"""Guards around huggingface_hub's HTTP client: every answer it acts on is checked, and every
transfer it makes for zoo obeys zoo's stall rule, size limits and progress channel.

huggingface_hub lets a program configure its client (``set_client_factory``); zoo keeps the
library's own default client (offline blocking, request ids) and adds two event hooks:

- on each answer to a file's HEAD, always: the commit and ETag it names become cache paths, so
  they must be a 40-hex commit and one plain file name, and when the request asked for a commit
  the answer must name that same commit (otherwise the file would be kept under a snapshot the
  record does not name, issue #20);
- while a zoo fetch runs (:func:`transfer`), on each request and answer: the read timeout is the
  stall rule's (:func:`zoo.weights.stall.answer_timeout`); a request the library repeats after the
  server stayed silent more than ``retries`` times is refused as stalled (the library's own loop
  would wait for minutes); and each body is watched as its bytes arrive (:class:`_Watched`): the
  stall rule, the size the file list announced for a file, zoo's progress channel, and for an
  API answer a size cap and the one bounded JSON reader (:mod:`zoo.json_input`) before the
  library parses it.

A refusal raises one of :mod:`zoo.weights.failures`' signals, which the fetch turns into a
weights error; huggingface_hub deletes its temporary ``.incomplete`` file on the way out.
"""

from __future__ import annotations

import contextlib
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import httpx2
from tqdm import tqdm

from zoo import progress
from zoo.json_input import JSONInputError, read_json
from zoo.weights.failures import AnswerRefused, TransferOversize, TransferStalled
from zoo.weights.hub.refs import COMMIT
from zoo.weights.options import FetchOptions
from zoo.weights.stall import StallRule, answer_timeout

API_ANSWER_LIMIT = 64 << 20
"""Longest JSON answer read from the Hub's API (a repo's file list with metadata is kilobytes)."""
_SAFE_ETAG = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,254}")
"""huggingface_hub names cache blobs after the ETag it is sent: one path component, never a dot name."""


@dataclass
class Transfer:
    """One zoo fetch from the Hub, as the hooks see it."""

    options: FetchOptions
    name: str
    """The file's name, for the progress channel."""
    limit: Optional[int] = None
    """The size the repo's file list announced for the file: a longer body is stopped."""
    waiting: dict[str, bool] = field(default_factory=dict)
    """Request -> True while it has had no answer (so the next try of it follows a silence)."""
    silences: dict[str, int] = field(default_factory=dict)
    """Request -> how many times the server stayed silent on it."""


_ACTIVE: ContextVar[Optional[Transfer]] = ContextVar("zoo_hub_transfer", default=None)
_INSTALLED = False


@contextlib.contextmanager
def transfer(options: FetchOptions, name: str) -> Iterator[Transfer]:
    """Guard the huggingface_hub calls of the block as one zoo fetch of the file ``name``."""
    install()
    state = Transfer(options, name)
    token = _ACTIVE.set(state)
    try:
        yield state
    finally:
        _ACTIVE.reset(token)


def install() -> None:
    """Add zoo's hooks to huggingface_hub's HTTP client (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from huggingface_hub.utils import _http, set_client_factory

    base = _http.default_client_factory

    def factory() -> Any:
        client = base()
        client.event_hooks["request"].append(_on_request)
        client.event_hooks["response"].append(_on_response)
        return client

    set_client_factory(factory)
    _INSTALLED = True


class SilentBar(tqdm):  # type: ignore[misc]
    """The progress bar class given to huggingface_hub: silent, since zoo's progress channel reports
    the bytes (the library updates its bar only every 10 MB; zoo's hook sees every chunk)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("name", None)
        kwargs.update(file=sys.stderr, disable=True, leave=False)
        super().__init__(*args, **kwargs)


# --------------------------------------------------------------------------- hooks


def _key(request: Any) -> str:
    return f"{request.method} {request.url.copy_with(query=None)}"


def _on_request(request: Any) -> None:
    state = _ACTIVE.get()
    if state is None:
        return
    key = _key(request)
    if state.waiting.get(key):  # the last try of this request got no answer in time
        state.silences[key] = state.silences.get(key, 0) + 1
    if state.silences.get(key, 0) > state.options.retries:
        seconds = answer_timeout(state.options)
        raise TransferStalled(
            f"the server stayed silent on {request.method} {request.url.path} for {seconds:g} s, "
            f"{state.silences[key]} times: stalled (no answer within the stall window, --stall-seconds)"
        )
    state.waiting[key] = True
    seconds = answer_timeout(state.options)
    request.extensions = {**request.extensions, "timeout": {
        "connect": state.options.connect_timeout, "read": seconds, "write": seconds, "pool": seconds}}


def _on_response(response: Any) -> None:
    request = response.request
    check_answer(response)
    state = _ACTIVE.get()
    if state is None:
        return
    state.waiting[_key(request)] = False
    if request.method == "GET" and 200 <= response.status_code < 300:
        api = "/api/" in request.url.path
        response.stream = _Watched(response.stream, state, _key(request), api)


def check_answer(response: Any) -> None:
    """The commit and ETag of a file's HEAD answer become cache paths: refuse odd ones, and a commit
    other than the one asked for."""
    request = getattr(response, "request", None)
    if request is None or request.method != "HEAD" or "/resolve/" not in str(request.url.path):
        return
    headers = response.headers
    commit = headers.get("X-Repo-Commit")
    if commit is not None and not COMMIT.fullmatch(commit):
        raise AnswerRefused(f"the server's X-Repo-Commit {commit[:80]!r} is not a 40-hex commit")
    asked = str(request.url.path).split("/resolve/", 1)[1].split("/", 1)[0]
    if commit is not None and COMMIT.fullmatch(asked) and commit != asked:
        raise AnswerRefused(
            f"the file's answer names commit {commit}, but commit {asked} was asked for (the one the repo's file "
            "list named): the Hub's two answers disagree, so the file would be kept under another commit than the "
            "one recorded"
        )
    etag = headers.get("X-Linked-Etag") or headers.get("ETag")
    if etag is not None:
        plain = etag.strip()
        plain = plain[2:] if plain.startswith("W/") else plain
        plain = plain.strip('"')
        if not _SAFE_ETAG.fullmatch(plain):
            raise AnswerRefused(f"the server's ETag {etag[:80]!r} could name a path outside the Hub cache")


class _Watched(httpx2.SyncByteStream):
    """A response body passed through as it arrives, with the guards of one transfer applied."""

    def __init__(self, inner: Any, state: Transfer, key: str, api: bool) -> None:
        self._inner, self.state, self.key, self.api = inner, state, key, api

    def __iter__(self) -> Iterator[bytes]:
        options, limit = self.state.options, (API_ANSWER_LIMIT if self.api else self.state.limit)
        stall = StallRule(options)
        task = None if self.api else progress.task(f"download {self.state.name}", total=self.state.limit, unit="B",
                                                    enabled=options.progress)
        kept: Optional[list[bytes]] = [] if self.api else None
        received = 0
        try:
            for chunk in self._inner:
                received += len(chunk)
                if limit is not None and received > limit:
                    if self.api:
                        raise AnswerRefused(f"the API answer is longer than {limit:,} bytes")
                    raise TransferOversize(f"the server sent more than the {limit} bytes the Hub's file list announced "
                                           f"for {self.state.name}")
                stall.check(received)
                if task is not None:
                    task.update(len(chunk))
                if kept is not None:
                    kept.append(chunk)
                yield chunk
        except httpx2.TimeoutException:
            self.state.silences[self.key] = self.state.silences.get(self.key, 0) + 1  # silent mid-body
            raise
        finally:
            if task is not None:
                task.close()
        if kept is not None:
            try:
                read_json(b"".join(kept), max_bytes=API_ANSWER_LIMIT)
            except JSONInputError as exc:
                raise AnswerRefused(f"its JSON answer is unusable: {exc}") from None

    def close(self) -> None:
        self._inner.close()


__all__ = ["API_ANSWER_LIMIT", "SilentBar", "Transfer", "check_answer", "install", "transfer"]
