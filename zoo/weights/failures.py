"""One vocabulary for what goes wrong on the wire, for both fetch paths.

The card's URL is fetched with requests (and urllib3 under it); the Hub's file with
huggingface_hub (and httpx under it). Their exceptions differ; what they mean does not. Both
paths turn them, here and only here, into a :class:`Failure` (a kind from :data:`KINDS` and a
detail a person reads) with :func:`classify`, and a Failure into one of zoo's weights errors
(:mod:`zoo.weights.errors`) with :func:`to_error`, which adds the likely cause and what to do.

The three exceptions below are the signals zoo's own guards raise inside a transfer (the stall
rule, the size limit, an answer refused); they are classified like the libraries' own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from zoo.weights.errors import (
    BadSourceError,
    HTTPStatusError,
    NotFoundError,
    OfflineMissingError,
    SizeMismatchError,
    TimedOutError,
    TLSError,
    TruncatedError,
    UnreachableError,
    WeightsError,
)

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class TransferStalled(Exception):
    """The stall rule (zoo.weights.stall) stopped a transfer: too slow for too long, or no answer."""


class TransferOversize(Exception):
    """A body grew past the size that an independent answer announced for it."""


class AnswerRefused(Exception):
    """A server's answer zoo will not act on: a header that would name a path outside the cache,
    two answers naming different commits, a JSON answer nested too deep or too long."""


KINDS = {
    # kind: (error class, likely cause, retried)
    "dns": (UnreachableError, "no network or no DNS on this machine, or a typo in the URL", False),
    "connect": (UnreachableError, "no network, a firewall or proxy in the way, or the server is down", True),
    "timeout": (TimedOutError, "a very slow or stalled server or network", True),
    "stalled": (TimedOutError, "a very slow or stalled server or network", True),
    "truncated": (TruncatedError, "an unstable connection or a proxy cutting long transfers", True),
    "status": (UnreachableError, "the server is overloaded or down", True),
    "tls": (TLSError, "an intercepting proxy or an outdated CA bundle, a wrong system clock, or a server that does "
            "not speak HTTPS on that port", False),
    "redirects": (HTTPStatusError, "a misconfigured or hostile server", False),
    "bad-url": (BadSourceError, None, False),
    "not-found": (NotFoundError, "the file was moved or removed upstream, or a typo in the name", False),
    "denied": (HTTPStatusError, "the server refuses this client (authentication, rate limit or geo block)", False),
    "http-status": (HTTPStatusError, "the server refuses this request", False),
    "oversize": (SizeMismatchError, "a misbehaving server or proxy", False),
    "refused": (UnreachableError, "the server is not the one it claims to be (check HF_ENDPOINT), or a tampering proxy", False),
    "offline": (OfflineMissingError, None, False),
    "unexpected": (UnreachableError, "the server is not the one it claims to be (check HF_ENDPOINT)", False),
}
"""What each kind of failure becomes, and whether a download retries it (resuming)."""

STALL_TODO = "--min-rate / $ZOO_MIN_RATE and --stall-seconds / $ZOO_STALL_SECONDS set the stall rule"


@dataclass(frozen=True)
class Failure:
    """What went wrong, in zoo's words: a kind (:data:`KINDS`) and a detail for people."""

    kind: str
    detail: str
    status: Optional[int] = None
    retry_after: Optional[float] = None

    @property
    def retried(self) -> bool:
        """Whether a download tries again (resuming where it can) before giving up."""
        if self.kind == "status":
            return self.status in TRANSIENT_STATUS
        return KINDS[self.kind][2]


def classify(exc: BaseException, *, connect_timeout: float = 0, read_timeout: float = 0) -> Optional[Failure]:
    """The :class:`Failure` ``exc`` stands for, from requests/urllib3, httpx/huggingface_hub or zoo's
    guards; ``None`` when it is none of theirs (then it is a bug, and propagates as it is)."""
    own = _own_signal(exc)
    if own is not None:
        return own
    return _from_requests(exc, connect_timeout, read_timeout) or _from_hub(exc, read_timeout)


def to_error(failure: Failure, subject: str, *, done: str, todo: str = "", attempts: int = 0,
             file_name: Optional[str] = None, url: Optional[str] = None) -> WeightsError:
    """The weights error for ``failure``: ``subject: detail (after N attempts)``, what was ``done``,
    the kind's likely cause, and ``todo`` (with the stall rule's options named for a stall)."""
    kind, cause, _ = KINDS[failure.kind]
    tries = f" (after {attempts} attempt{'s' if attempts != 1 else ''})" if attempts else ""
    if failure.kind == "stalled":
        todo = f"{todo}; {STALL_TODO}" if todo else STALL_TODO
    return kind(f"{subject}: {failure.detail}{tries}", done=done, cause=cause, todo=todo or None,
                file_name=file_name, url=url)


# --------------------------------------------------------------------------- zoo's own guards


def _own_signal(exc: BaseException) -> Optional[Failure]:
    """A guard's signal, also when a library wrapped it in an exception of its own."""
    seen = 0
    inner: Optional[BaseException] = exc
    while inner is not None and seen < 20:
        if isinstance(inner, TransferStalled):
            return Failure("stalled", str(inner))
        if isinstance(inner, TransferOversize):
            return Failure("oversize", str(inner))
        if isinstance(inner, AnswerRefused):
            return Failure("refused", f"refused the server's answer: {inner}")
        inner, seen = inner.__cause__ or inner.__context__, seen + 1
    return None


# --------------------------------------------------------------------------- requests (the card's URL)


def _from_requests(exc: BaseException, connect_timeout: float, read_timeout: float) -> Optional[Failure]:
    import requests

    errors = requests.exceptions
    if not isinstance(exc, errors.RequestException):
        return None
    if isinstance(exc, errors.SSLError):
        return Failure("tls", f"TLS failure: {root_cause(exc)}")
    if isinstance(exc, errors.ConnectTimeout):
        return Failure("connect", f"could not connect within {connect_timeout:g} s")
    if isinstance(exc, errors.ReadTimeout):
        return Failure("timeout", f"no answer within the read timeout of {read_timeout:g} s")
    if isinstance(exc, errors.ConnectionError):
        host = unresolved_host(exc)
        if host is not None:  # not retried: a name that does not resolve rarely starts to
            return Failure("dns", f"cannot resolve the host name {host!r} ({root_cause(exc)})")
        return Failure("connect", f"connection failed: {root_cause(exc)}")
    if isinstance(exc, errors.TooManyRedirects):
        return Failure("redirects", "redirects in a loop (more than 30 redirects)")
    if isinstance(exc, (errors.InvalidURL, errors.MissingSchema, errors.InvalidSchema)):
        return Failure("bad-url", f"is not a valid http(s) URL: {exc}")
    return Failure("connect", f"the request failed: {type(exc).__name__}: {root_cause(exc)}")


def root_cause(exc: BaseException) -> str:
    """The innermost readable reason of a transport error ("Connection refused")."""
    texts = [str(exc)]
    inner: Optional[BaseException] = exc
    while inner is not None:
        texts.append(str(getattr(inner, "reason", "") or ""))
        inner = inner.__cause__ or inner.__context__
    for text in texts:
        match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
        if match:
            return match.group(1).strip()
    return texts[0]


def unresolved_host(exc: BaseException) -> Optional[str]:
    """The host name a DNS lookup failed for, if that is what ``exc`` is about."""
    import urllib3.exceptions

    inner: Optional[BaseException] = exc
    while inner is not None:
        for candidate in (inner, getattr(inner, "reason", None)):
            if isinstance(candidate, urllib3.exceptions.NameResolutionError):
                return str(getattr(candidate.conn, "host", "") or "") or "?"
        inner = inner.__cause__ or inner.__context__ or (inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None)
    return None


# --------------------------------------------------------------------------- huggingface_hub (the Hub)


def _from_hub(exc: BaseException, read_timeout: float) -> Optional[Failure]:
    import httpx2
    from huggingface_hub import errors as hf

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, hf.GatedRepoError) or (isinstance(exc, hf.HfHubHTTPError) and status in (401, 403)):
        return Failure("denied", f"the Hub refused access ({status})", status)
    if isinstance(exc, (hf.RepositoryNotFoundError, hf.RevisionNotFoundError, hf.RemoteEntryNotFoundError)):
        what = {hf.RevisionNotFoundError: "revision", hf.RemoteEntryNotFoundError: "file"}.get(type(exc), "repo")
        return Failure("not-found", f"the Hub has no such {what}", status)
    if isinstance(exc, hf.OfflineModeIsEnabled):
        return Failure("offline", "huggingface_hub is in offline mode (HF_HUB_OFFLINE)")
    timeout = _timeout_in(exc, httpx2)
    if timeout is not None:
        return Failure("timeout", f"the Hub did not answer in time: no answer within {read_timeout:g} s ({_first_line(timeout)})")
    if isinstance(exc, (httpx2.HTTPError, hf.LocalEntryNotFoundError, hf.FileMetadataError, ConnectionError)):
        return Failure("connect", f"the Hub could not be reached or answered badly ({_first_line(exc)})")
    if isinstance(exc, hf.HfHubHTTPError):
        return Failure("status" if status in TRANSIENT_STATUS else "http-status", f"the Hub answered {status}", status)
    if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)):
        return Failure("unexpected", f"the Hub's answer is not what huggingface_hub expects ({type(exc).__name__}: {_first_line(exc)})")
    if isinstance(exc, OSError):
        return Failure("connect", _first_line(exc))
    return None


def _timeout_in(exc: BaseException, httpx2: object) -> Optional[BaseException]:
    """The timeout behind ``exc``: huggingface_hub reports an unanswered HEAD as a missing local file."""
    inner: Optional[BaseException] = exc
    for _ in range(20):
        if inner is None:
            return None
        if isinstance(inner, httpx2.TimeoutException):  # type: ignore[attr-defined]
            return inner
        inner = inner.__cause__ or inner.__context__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


__all__ = [
    "AnswerRefused", "Failure", "KINDS", "TRANSIENT_STATUS", "TransferOversize", "TransferStalled", "classify",
    "root_cause", "to_error", "unresolved_host",
]
