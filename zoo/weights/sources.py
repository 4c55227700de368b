"""Where a weights file comes from, in order, and which source served it.

A local file the user named for the model (``--weights MODEL=PATH``) is used in place.
Otherwise: the cache, then each mirror (``--mirror`` / ``$ZOO_MIRROR``, a base URL or a
folder, looked up by file name), then the card's own URL (never in offline mode).
Every source's bytes pass the same checks (:class:`~zoo.weights.integrity.Expectation`)
before they are used; bytes that fail are deleted, unless they are the user's own file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence
from urllib.parse import unquote, urlparse

import requests

from zoo import progress
from zoo.paths import unsafe_name_reason
from zoo.records import Metric, ModelCard
from zoo.weights.cache import CacheEntry, PartialFile
from zoo.weights.download import download, progress_bar
from zoo.weights.errors import (
    BadSourceError,
    NotFoundError,
    OfflineMissingError,
    UnverifiableError,
    WeightsError,
)
from zoo.weights.integrity import Expectation, hash_file
from zoo.weights.lockfile import WeightsLock, load_lock
from zoo.weights.options import FetchOptions, is_url, mirror_folder
from zoo.weights.results import FetchAttempt, FetchResult


@dataclass(frozen=True)
class WeightsRequest:
    """One model's weights file as its card describes it."""

    model: str
    url: Optional[str]
    file_name: str
    claimed_size: Optional[int] = None
    where: Optional[str] = None
    """The card line that names the weights ("index.yml:12"), for messages."""

    @classmethod
    def from_card(cls, card: ModelCard, options: Optional[FetchOptions] = None) -> Optional["WeightsRequest"]:
        """The request for ``card``; ``None`` when it names no weights and no local file is given.

        Raises :class:`BadSourceError` (exit 2) when the file name the URL (or the model
        name) gives is not one plain file name: the card is untrusted and the name becomes
        a path in the cache.
        """
        claim = card.claim(Metric.WEIGHTS)
        url = str(claim.value).strip() if claim is not None and str(claim.value).strip() else None
        local = options.local_files.get(card.name) if options else None
        where = str(claim.source) if claim is not None else str(card.source)
        if url:
            try:
                path = urlparse(url).path
            except ValueError as exc:  # "http://[x" and the like: not a URL at all
                raise BadSourceError(
                    f"{card.name}: the Weights at {where} is not a URL ({exc})",
                    done="nothing was downloaded or written", todo="fix the Weights URL in the card", url=url,
                ) from None
            name = unquote(posixpath.basename(path)) or f"{card.name}.pth"
        elif local is not None:
            name = local.name
        else:
            return None
        problem = unsafe_name_reason(name)
        if problem is not None:
            raise BadSourceError(
                f"{card.name}: the Weights at {where} gives the file name {name!r}, which is not a plain "
                f"file name ({problem})",
                done="nothing was downloaded or written",
                todo="fix the Weights URL in the card so its last path part is the file's name",
                file_name=None,
                url=url,
            )
        size = card.number(Metric.FILE_SIZE)
        return cls(
            model=card.name, url=url, file_name=name, claimed_size=int(size) if size is not None else None, where=where
        )


def fetch_weights(
    card: ModelCard,
    options: FetchOptions,
    *,
    lock: Optional[WeightsLock] = None,
    session: Optional[requests.Session] = None,
) -> FetchResult:
    """Get ``card``'s weights file, verified, into the cache (or use the user's local file).

    Raises a :class:`~zoo.weights.errors.WeightsError` subclass saying what failed and
    what to do (:class:`~zoo.weights.errors.LockFileError` for an unusable lock file).

    Example::

        result = fetch_weights(card, FetchOptions.from_env())
        print(result.source, result.path, result.sha256)
    """
    request = WeightsRequest.from_card(card, options)
    if request is None:
        raise NotFoundError(
            f"{card.name}: the card names no weights URL (no Weights field at {card.source})",
            todo=f"add the Weights URL to the card, or pass a file with --weights {card.name}=PATH",
        )
    return fetch_request(request, options, lock=lock, session=session)


def fetch_request(
    request: WeightsRequest,
    options: FetchOptions,
    *,
    lock: Optional[WeightsLock] = None,
    session: Optional[requests.Session] = None,
    own_file: bool = False,
) -> FetchResult:
    """:func:`fetch_weights` for a request built by hand (no card needed).

    ``own_file``: a ``--weights MODEL=PATH`` file that fails the card file's checks is still
    returned (``FetchResult.not_card_file`` says why it is not the card's), for measuring
    accuracy on it; otherwise (``zoo fetch``, ``zoo lock``) it is refused.
    """
    if lock is None and options.lock_path is not None:
        lock = load_lock(options.lock_path)
    expect, lock_status = _expectation(request, lock)
    local = options.local_files.get(request.model)
    if local is not None:
        return _use_local(request, expect, lock_status, local, own_file=own_file)

    entry = CacheEntry(options.cache_dir, request.file_name, source=request.url)
    tried: list[str] = []
    # A verified file is renamed into place whole, so a cache hit needs no lock and leaves no
    # trace; bytes that fail are left to the locked pass below, which deletes them.
    cached = _from_cache(request, entry, expect, lock_status, tried, delete_bad=False)
    if cached is not None:
        return cached
    if options.offline and not options.mirrors and not entry.path.exists():
        raise _offline_error(request, options, tried, entry)  # nothing to fetch: no lock, no folders made
    entry.prepare()  # a read-only cache (shared on a cluster) has served its hit above
    own_session = session is None
    session = session or requests.Session()
    try:
        with entry.locked(options.lock_timeout):
            cached = _from_cache(request, entry, expect, lock_status, tried)
            if cached is not None:
                return cached
            for mirror in options.mirrors:
                try:
                    if is_url(mirror):
                        url = mirror.rstrip("/") + "/" + request.file_name
                        return _from_url(
                            request, url, f"mirror {mirror}", entry, expect, lock_status, options, session, tried
                        )
                    return _from_folder(request, mirror, entry, expect, lock_status, options, tried)
                except WeightsError as err:
                    # A mirror without the file is common; one serving wrong bytes is news.
                    if not isinstance(err, NotFoundError):  # a file a mirror lacks is ordinary; a broken mirror is worth saying
                        progress.note(f"zoo: mirror {mirror}: {err}")
                    tried.append(f"mirror {mirror}: {err}")
            if options.offline:
                raise _offline_error(request, options, tried, entry)
            if not request.url:
                raise NotFoundError(
                    f"{request.model}: {request.file_name} is in no cache or mirror and the card names no URL",
                    todo=f"pass it with --weights {request.model}=PATH or --mirror FOLDER",
                    file_name=request.file_name,
                )
            try:
                return _from_url(request, request.url, "url", entry, expect, lock_status, options, session, tried)
            except BadSourceError as err:
                raise err.amended(also=f"The Weights URL is at {request.where}") if request.where else err
            except WeightsError as err:
                if tried:
                    raise err.amended(also="Tried first: " + " | ".join(tried)) from err
                raise
    finally:
        if own_session:
            session.close()


def _expectation(request: WeightsRequest, lock: Optional[WeightsLock]) -> tuple[Expectation, str]:
    entry = lock.get(request.file_name, request.url) if lock is not None else None
    if lock is None:
        status = "lock off"
    elif entry is not None:
        status = "pinned"
    else:
        status = "unpinned" if lock.exists else "no lock file"
    expect = Expectation.for_file(
        request.file_name,
        claimed_size=request.claimed_size,
        locked_sha256=entry.sha256 if entry else None,
        locked_size=entry.size if entry else None,
        lock_path=str(lock.path) if lock is not None else None,
        model=request.model,
    )
    return expect, status


def _result(
    request: WeightsRequest, expect: Expectation, lock_status: str, path: Path, source: str,
    sha256: str, size: int, notes: list[str],
) -> FetchResult:
    return FetchResult(
        model=request.model, file_name=request.file_name, path=path, source=source, sha256=sha256,
        size=size, verified_by=expect.verified_by(), lock_status=lock_status, url=request.url,
        notes=tuple(notes),
    )


def _use_local(request: WeightsRequest, expect: Expectation, lock_status: str, path: Path, *, own_file: bool = False) -> FetchResult:
    if not path.is_file():
        raise NotFoundError(
            f"{request.model}: the local weights file {path} does not exist",
            todo=f"check the path given with --weights {request.model}=PATH",
            file_name=request.file_name,
        )
    sha256, size = hash_file(path)
    try:
        expect.check(sha256, size, origin=f"the local file {path}")
    except WeightsError as err:
        if own_file:
            result = _result(request, expect, lock_status, path, f"local {path}", sha256, size, [])
            return replace(result, verified_by="", not_card_file=err.happened)
        raise err.amended(
            done="the local file was left in place and not used",
            cause=f"the file given with --weights {request.model}=PATH is another checkpoint than the card's "
            "(your own, or another version), or a damaged copy",
            todo=f"give the card's own file, or check your checkpoint with `zoo verify {request.model} "
            f"--weights {request.model}=PATH` (accuracy is measured on it; the card's Weights and File Size stay unverified)",
        ) from err
    return _result(request, expect, lock_status, path, f"local {path}", sha256, size, [])


def _from_cache(
    request: WeightsRequest, entry: CacheEntry, expect: Expectation, lock_status: str, tried: list[str],
    *, delete_bad: bool = True,
) -> Optional[FetchResult]:
    """The cached file when it passes the checks; ``delete_bad`` (only while holding the
    entry's lock) deletes one that fails."""
    if not entry.path.is_file():
        return None
    sha256, size = hash_file(entry.path)
    try:
        expect.check(sha256, size, origin=f"the cache ({entry.path})")
    except WeightsError as err:
        if not delete_bad:
            return None
        try:
            entry.path.unlink(missing_ok=True)
            done = "the cached copy was deleted"
        except OSError as exc:
            done = f"the cached copy could not be deleted ({exc.strerror or exc})"
        progress.note(f"zoo: {err.happened}; {done}")
        tried.append(f"cache: {err.happened}; {done}")
        return None
    return _result(request, expect, lock_status, entry.path, "cache", sha256, size, [])


def _from_url(
    request: WeightsRequest, url: str, source: str, entry: CacheEntry, expect: Expectation,
    lock_status: str, options: FetchOptions, session: requests.Session, tried: Sequence[str] = (),
) -> FetchResult:
    got = download(url, entry, options, session=session, label=url)
    if not got.ended_cleanly and not expect.identity_proven and expect.enforced_size is None:
        got.partial.abandon()
        entry.discard_partial(url)
        raise UnverifiableError(
            f"{request.model}: {request.file_name} from {url} is unverifiable: the server sent no length and "
            f"closed the connection after {got.size} bytes, and nothing (a hash in the name, the lock file, "
            f"a File Size claim) says how long the file is, so a cut-short copy cannot be told from a whole one",
            done="the bytes were deleted and nothing was pinned",
            todo=f"add the file's File Size to the card, or use a mirror that sends Content-Length, then fetch again",
            file_name=request.file_name,
            url=url,
        )
    try:
        expect.check(got.sha256, got.size, origin=url, length_confirmed=got.length_confirmed)
    except WeightsError as err:
        got.partial.abandon()
        entry.discard_partial(url)
        raise err.amended(done="the download was deleted") from err
    try:
        entry.commit(got.partial, url)
    finally:
        got.partial.close()  # complete and flushed: kept for the next run if the rename did not happen
    return _result(request, expect, lock_status, entry.path, source, got.sha256, got.size, list(tried) + got.notes)


def _from_folder(
    request: WeightsRequest, mirror: str, entry: CacheEntry, expect: Expectation, lock_status: str,
    options: FetchOptions, tried: list[str],
) -> FetchResult:
    """Copy ``<folder>/<file name>`` into the cache, hashing while copying."""
    source_path = mirror_folder(mirror) / request.file_name
    if not source_path.is_file():
        raise NotFoundError(
            f"{request.file_name} is not in the mirror folder {mirror_folder(mirror)}",
            file_name=request.file_name,
        )
    key = str(source_path.resolve())
    try:
        with PartialFile(entry.partial_path(key), request.file_name, resume=False) as partial, open(
            source_path, "rb"
        ) as src, progress_bar(options, request.file_name, source_path.stat().st_size) as bar:
            while chunk := src.read(options.chunk_size):
                partial.write(chunk)
                bar.update(len(chunk))
            partial.finish()
            expect.check(partial.hexdigest(), partial.size, origin=str(source_path))
            entry.commit(partial, key)
            return _result(
                request, expect, lock_status, entry.path, f"mirror {mirror}", partial.hexdigest(), partial.size,
                list(tried),
            )
    except WeightsError as err:
        entry.discard_partial(key)
        raise err.amended(done="the copy was deleted; the mirror's file was left as is") from err
    except BaseException:
        entry.discard_partial(key)
        raise


def _offline_error(
    request: WeightsRequest, options: FetchOptions, tried: list[str], entry: CacheEntry
) -> OfflineMissingError:
    where = f"the cache ({options.cache_dir})"
    if options.mirrors:
        where += " nor in the mirrors (" + ", ".join(options.mirrors) + ")"
    happened = f"{request.model}: {request.file_name} is not in {where}"
    if request.url:
        happened += f", and offline mode (set by {options.offline_set_by()}) forbids downloading it from {request.url}"
    todo = (
        f"To get it: run `zoo fetch {request.model}` on a machine with network, then copy "
        f"{entry.relative_path} from that machine's cache to the same place under {options.cache_dir} (or point --cache-dir / "
        f"$ZOO_CACHE at a folder holding it); or pass --mirror FOLDER holding {request.file_name}, or "
        f"--weights {request.model}=PATH; or {options.going_online()}"
    )
    if tried:
        todo += ". Tried: " + " | ".join(tried)
    return OfflineMissingError(happened, done="nothing was downloaded", todo=todo,
                               file_name=request.file_name, url=request.url)


__all__ = ["FetchAttempt", "FetchResult", "WeightsRequest", "fetch_request", "fetch_weights"]
