"""HTTP(S) transport: stream one URL into a resumable partial file.

Streams with requests (connect and read timeouts), retries transient failures
(connection reset or refused, timeouts, 429 and 5xx) with exponential backoff, and
resumes from the bytes already on disk with an HTTP Range request, within a run and
across runs. If-Range (the ETag or Last-Modified seen first) keeps a changed upstream
file from being spliced onto old bytes; a server that ignores Range is handled by
starting the file over.

Written by hand rather than with urllib3's ``Retry``: a retry here must resume the
body from the byte where it stopped, which a request-level retry cannot do.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import requests
import urllib3.exceptions

from zoo import __version__
from zoo import progress
from zoo.weights.cache import CacheEntry, PartialFile, no_space_error
from zoo.weights.errors import WeightsError
from zoo.weights.failures import TRANSIENT_STATUS, Failure, TransferStalled, classify, to_error
from zoo.weights.integrity import human_bytes
from zoo.weights.options import FetchOptions
from zoo.weights.stall import StallRule, answer_timeout


USER_AGENT = f"zoo/{__version__} (model-zoo checker; python-requests/{requests.__version__})"
CARD_TODO = {
    "dns": "with no network, use --offline with a filled cache, --mirror FOLDER or --weights MODEL=PATH; behind a "
           "proxy, set HTTPS_PROXY",
    "tls": "set REQUESTS_CA_BUNDLE to your proxy's CA bundle, or download the file another way and pass it with "
           "--weights MODEL=PATH",
    "redirects": "check the URL in the card, or download the file another way and pass it with --weights MODEL=PATH",
    "bad-url": "fix the Weights URL in the card (or the --mirror URL)",
    "not-found": "check the URL in the card; point --mirror at a copy, or give a local file with --weights MODEL=PATH",
    "denied": "download the file another way and pass it with --weights MODEL=PATH or --mirror FOLDER",
}
"""What to do next, on the card's path, for the failures that are not retried (zoo.weights.failures)."""
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")

sleep = time.sleep  # a seam for tests that want to see the backoff without waiting


@dataclass
class Download:
    """A finished transfer: the partial file (complete, flushed, not yet verified) and its story."""

    partial: PartialFile
    url: str
    attempts: int = 1
    resumed_from: int = 0
    """Bytes kept from an earlier attempt or run instead of being downloaded again."""
    notes: list[str] = field(default_factory=list)

    total: Optional[int] = None
    """The size the server announced (Content-Length / Content-Range), if it did."""

    framed: bool = False
    """The last response was chunked: its end was marked, so a cut shows as an error."""

    @property
    def length_confirmed(self) -> bool:
        """Whether the server announced the size and every byte of it arrived."""
        return self.total is not None and self.total == self.partial.size

    @property
    def ended_cleanly(self) -> bool:
        """Whether the body's end was marked (a length that was met, or a chunked body's last
        chunk); a body that just stopped when the connection closed may be cut short."""
        return self.length_confirmed or self.framed

    @property
    def sha256(self) -> str:
        return self.partial.hexdigest()

    @property
    def size(self) -> int:
        return self.partial.size


class _Transient(Exception):
    """A failure worth retrying; its :class:`~zoo.weights.failures.Failure` picks the error raised once retries run out."""

    def __init__(self, kind: str, detail: str, retry_after: Optional[float] = None, status: Optional[int] = None) -> None:
        super().__init__(detail)
        self.failure = Failure(kind, detail, status, retry_after)
        self.kind = kind  # "connect" | "timeout" | "stalled" | "truncated" | "status"
        self.detail = detail
        self.retry_after = retry_after


def progress_bar(options: FetchOptions, name: str, total: Optional[int], initial: int = 0) -> progress.Task:
    """Byte progress (bytes, rate, ETA) on zoo's progress channel, off when ``options.progress`` is off."""
    return progress.task(f"download {name}", total=total, unit="B", initial=initial, enabled=options.progress)


def download(
    url: str,
    entry: CacheEntry,
    options: FetchOptions,
    *,
    session: Optional[requests.Session] = None,
    label: str = "",
) -> Download:
    """Download ``url`` into ``entry``'s partial file for that URL and return it, unverified.

    The caller verifies the bytes, then commits (:meth:`CacheEntry.commit`) or discards
    them. On a transient failure that outlasts the retries, the bytes received are kept
    so the next run resumes; on any other failure they are deleted.
    """
    own_session = session is None
    session = session or requests.Session()
    info = entry.read_partial_info(url)
    resume = info.get("url") == url
    partial = PartialFile(entry.partial_path(url), entry.file_name, resume=resume)
    result = Download(partial=partial, url=url, resumed_from=partial.size)
    if partial.size:
        result.notes.append(f"resumed {human_bytes(partial.size)} kept from an earlier run")
    where = label or url
    failures = 0
    try:
        while True:
            offset = partial.size
            try:
                if _already_complete(info, partial):
                    break
                _attempt(url, entry, options, session, partial, info, result)
                break
            except _Transient as exc:
                if partial.size > offset and exc.kind != "stalled":
                    failures = 0  # progress was made: the next attempt resumes, not repeats
                failures += 1
                if failures > options.retries:
                    raise _give_up(exc, where, entry.file_name, partial, result.attempts) from exc
                wait = min(options.backoff * 2 ** (failures - 1), options.max_backoff)
                if exc.retry_after is not None:
                    wait = min(max(wait, exc.retry_after), options.max_backoff)
                then = f"; resuming at {human_bytes(partial.size)} with a Range request" if partial.size else ""
                progress.note(f"zoo: {entry.file_name}: {exc.detail}; retry {failures} of {options.retries} in {wait:.1f} s{then}")
                result.notes.append(f"attempt {result.attempts}: {exc.detail}")
                result.attempts += 1
                sleep(wait)
        partial.finish()
        total = info.get("total")
        result.total = total if isinstance(total, int) else None
        return result
    except KeyboardInterrupt as exc:
        # The partial and its info are consistent: the next run resumes from here.
        partial.abandon()
        raise DownloadInterrupted(str(partial.path), partial.size) from exc
    except _KeepPartial as keep:
        partial.abandon()
        raise keep.error from keep.__cause__
    except BaseException:
        partial.abandon()
        entry.discard_partial(url)
        raise
    finally:
        if own_session:
            session.close()


class DownloadInterrupted(KeyboardInterrupt):
    """Ctrl-C while bytes were arriving: the partial file at ``path`` is kept for a resume."""

    def __init__(self, path: str, size: int) -> None:
        super().__init__(path)
        self.path = path
        self.size = size


class _KeepPartial(Exception):
    """Internal: raise ``error`` but keep the partial file for a later resume."""

    def __init__(self, error: WeightsError) -> None:
        super().__init__(str(error))
        self.error = error


def _already_complete(info: dict[str, Any], partial: PartialFile) -> bool:
    """An earlier run got every byte but stopped before verifying them."""
    total = info.get("total")
    return isinstance(total, int) and total > 0 and partial.size == total


def _attempt(
    url: str,
    entry: CacheEntry,
    options: FetchOptions,
    session: requests.Session,
    partial: PartialFile,
    info: dict[str, Any],
    result: Download,
) -> None:
    """One request: stream the body into ``partial`` from its current size.

    ``info`` (URL, ETag, Last-Modified, total) is updated in place as soon as the server
    answers, and saved beside the partial so a later run can resume.
    """
    offset = partial.size
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = info.get("etag") if not str(info.get("etag", "")).startswith("W/") else None
        validator = validator or info.get("last_modified")
        if validator:
            headers["If-Range"] = str(validator)
    timeout = answer_timeout(options)  # the stall rule: silence is the slowest rate (zoo.weights.stall)
    try:
        response = session.get(url, headers=headers, stream=True, timeout=(options.connect_timeout, timeout))
    except requests.exceptions.RequestException as exc:
        failure = classify(exc, connect_timeout=options.connect_timeout, read_timeout=timeout)
        assert failure is not None  # every RequestException has a kind
        if failure.retried:
            raise _Transient(failure.kind, failure.detail) from exc
        raise to_error(failure, f"{entry.file_name} from {url}", done="nothing was downloaded",
                       todo=CARD_TODO.get(failure.kind, ""), file_name=entry.file_name, url=url) from exc

    with response:
        status = response.status_code
        if status == 416 and offset:
            # Our bytes reach past the end: the file changed or shrank. Start over.
            result.notes.append("server refused the resume range (416); started over")
            partial.restart()
            raise _Transient("status", "server refused the resume range (416)", retry_after=0)
        if status in TRANSIENT_STATUS:
            raise _Transient("status", f"server answered {status} {response.reason}", _retry_after(response), status)
        if status >= 400:
            failure = (Failure("not-found", f"answered {status} {response.reason}: the file is not there", status)
                       if status in (404, 410) else Failure("denied", f"answered {status} {response.reason}", status))
            raise to_error(failure, url, done="nothing was downloaded", todo=CARD_TODO[failure.kind],
                           file_name=entry.file_name, url=url)
        total = _expected_total(response, offset)
        if status == 206:
            start = _range_start(response)
            if start != offset:
                result.notes.append(f"server resumed at byte {start}, not {offset}; started over")
                partial.restart()
                raise _Transient("status", "server answered a Range from the wrong byte", retry_after=0)
        elif offset:
            result.notes.append(
                f"server ignored the Range request (answered {status}); started over from byte 0"
            )
            partial.restart()
            result.resumed_from = 0
        new_info = {
            "url": url,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "total": total,
        }
        if partial.size == 0 or new_info != info:
            entry.write_partial_info(url, new_info)
            info.clear()
            info.update(new_info)
        _check_space(entry, partial, total)
        result.framed = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
        _stream_body(response, partial, options, entry.file_name, total)
        if total is not None and partial.size < total:
            raise _Transient(
                "truncated",
                f"the server closed the connection after {partial.size} of {total} bytes",
            )


def _stream_body(
    response: requests.Response, partial: PartialFile, options: FetchOptions, name: str, total: Optional[int]
) -> None:
    """Copy the body to ``partial`` as it arrives (raw bytes: no content decoding).

    ``read1`` hands over whatever bytes are there, so the stall rule and the byte counts
    in messages see every byte as it lands (a plain ``read`` blocks until a whole chunk is in).
    """
    received_at_start = partial.size
    stall = StallRule(options, partial.size)
    with progress_bar(options, name, total, initial=partial.size) as bar:
        try:
            while chunk := response.raw.read1(options.chunk_size, decode_content=False):
                partial.write(chunk)
                bar.update(len(chunk))
                stall.check(partial.size)
        except TransferStalled as exc:
            raise _Transient("stalled", str(exc)) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise _Transient(
                "timeout", f"the server sent nothing for {answer_timeout(options):g} s "
                f"after {human_bytes(partial.size)}"
            ) from exc
        except urllib3.exceptions.SSLError as exc:
            raise _Transient("connect", f"TLS connection broke: {exc}") from exc
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError, OSError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
                raise
            raise _Transient(
                "truncated",
                f"the connection dropped after {partial.size}"
                + (f" of {total} bytes" if total else " bytes")
                + f" ({partial.size - received_at_start} this attempt)",
            ) from exc


def _expected_total(response: requests.Response, offset: int) -> Optional[int]:
    """The full file size the response implies, if it says."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if match and match.group(3) != "*":
            return int(match.group(3))
        length = response.headers.get("Content-Length")
        return offset + int(length) if length and length.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _range_start(response: requests.Response) -> Optional[int]:
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _retry_after(response: requests.Response) -> Optional[float]:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _check_space(entry: CacheEntry, partial: PartialFile, total: Optional[int]) -> None:
    """Fail before downloading when the disk obviously cannot hold the rest of the file."""
    if total is None:
        return
    needed = total - partial.size
    try:
        free = shutil.disk_usage(entry.partial_dir).free
    except OSError:
        return
    if needed > free:
        raise no_space_error(
            entry.file_name, entry.cache_dir, needed=needed,
            done="nothing more was downloaded and the partial download was deleted",
        )


def _give_up(exc: _Transient, where: str, file_name: str, partial: PartialFile, attempts: int) -> Exception:
    """The error once retries ran out; the partial is kept when it holds bytes worth resuming."""
    kept = (
        f"the {human_bytes(partial.size)} received were kept and the next fetch resumes from there"
        if partial.size
        else "nothing was kept"
    )
    again = "run the command again later" + (" (it resumes)" if partial.size else "") + (
        ", or use --mirror / --weights MODEL=PATH"
    )
    extra = {"timeout": "; a longer read timeout may help", "connect": "; with no network use --offline and a filled cache",
             "status": "; with no network use --offline and a filled cache"}.get(exc.kind, "")
    error = to_error(exc.failure, f"{file_name} from {where}", done=kept, todo=again + extra, attempts=attempts,
                     file_name=file_name)
    return _KeepPartial(error) if partial.size else error


__all__ = ["Download", "TRANSIENT_STATUS", "USER_AGENT", "download", "progress_bar"]
