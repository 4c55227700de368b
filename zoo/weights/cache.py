"""The weights cache: one verified file per name, never a half-written one.

Layout under the cache folder (torch.hub's checkpoint folder by default)::

    <cache>/<file name>                          verified files only (name carries its hash)
    <cache>/by-source/<url tag>/<file name>      verified files whose name carries no hash
    <cache>/.zoo/partial/<file name>.<src>.part  bytes still arriving (resumable)
    <cache>/.zoo/partial/<file name>.<src>.json  what the partial came from (URL, ETag)
    <cache>/.zoo/locks/<file name>.lock          one process fetches a file at a time

Bytes go to the partial file and are hashed as they are written; only once verified
are they renamed into place with ``os.replace`` (atomic on one file system), so a
crash, a kill, Ctrl-C or a full disk never leaves an unverified file under the name.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Optional

from zoo import progress
from zoo.atomic import write_atomic
from zoo.file_lock import LockWaitTimeout, holding
from zoo.json_input import JSONInputError, read_json_file
from zoo.paths import UnsafePathError, inside, unsafe_name_reason
from zoo.weights.errors import CacheError, NoSpaceError
from zoo.weights.integrity import BackgroundHasher, hash_prefix_from_name, hash_stream, human_bytes


STATE_DIR = ".zoo"
SOURCE_KEYED_DIR = "by-source"
_TAG_LENGTH = 10


def no_space_error(file_name: str, where: Path, *, done: str, needed: Optional[int] = None) -> NoSpaceError:
    """The error for a full disk, with how much was needed when known."""
    need = f"; {human_bytes(needed)} are needed" if needed else ""
    return NoSpaceError(
        f"no space left on the disk of {where} while writing {file_name}{need}",
        done=done,
        cause="the disk holding the weights cache is full",
        todo="free space there, or point the cache at another disk with --cache-dir or $ZOO_CACHE",
        file_name=file_name,
    )


class PartialFile:
    """A partial download that hashes every byte as it is written.

    Opening it with ``resume=True`` keeps the bytes already there and hashes them once
    (they were written by an earlier attempt or run); :meth:`restart` empties it. The
    hashing runs on a worker thread (:class:`BackgroundHasher`), overlapping the writes.
    """

    def __init__(self, path: Path, file_name: str, *, resume: bool) -> None:
        self.path = path
        self.file_name = file_name
        self.size = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = _open_regular(path, truncate=not resume)
        start = None
        if resume:
            start, self.size = hash_stream(self._file)
            self._file.seek(self.size)
            self._file.truncate()
        self._hasher = BackgroundHasher(start)

    def write(self, chunk: bytes) -> None:
        try:
            self._file.write(chunk)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise no_space_error(
                    self.file_name, self.path.parent, done="the partial download was deleted"
                ) from exc
            raise
        self._hasher.update(chunk)
        self.size += len(chunk)

    def restart(self) -> None:
        """Drop every byte written so far (the server sent the whole file again)."""
        self._hasher.stop()
        self._file.seek(0)
        self._file.truncate()
        self._hasher = BackgroundHasher()
        self.size = 0

    def hexdigest(self) -> str:
        """The SHA-256 of every byte written (call once writing is over)."""
        return self._hasher.hexdigest()

    def finish(self) -> None:
        """Flush the bytes to the file system.

        No fsync: a verified file is hashed again on every cache hit (sources.py), so a
        file torn by a power loss is caught and fetched again; fsync would cost about a
        third of the download time here (measured by benchmarks/bench_fetch.py).
        """
        try:
            self._file.flush()
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise no_space_error(
                    self.file_name, self.path.parent, done="the partial download was deleted"
                ) from exc
            raise

    def close(self) -> None:
        """Close the file. A flush that fails here (a full disk) still closes it, then raises
        the no-space error; callers that are discarding the bytes use :meth:`abandon`."""
        self._hasher.stop()
        if self._file.closed:
            return
        try:
            self._file.close()
        except OSError as exc:  # the buffered file closes its descriptor even when the flush fails
            if exc.errno == errno.ENOSPC:
                raise no_space_error(self.file_name, self.path.parent, done="the partial download was deleted") from exc
            raise

    def abandon(self) -> None:
        """Close the file whatever happens (its bytes are about to be deleted or kept as they are)."""
        try:
            self.close()
        except (OSError, NoSpaceError):
            pass  # the file is closed either way; the caller deletes or keeps the bytes

    def __enter__(self) -> "PartialFile":
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()


@dataclass(frozen=True)
class CacheEntry:
    """One file's place in the cache, with its partial files and its lock.

    A file whose name carries its hash (torch.hub's rule) is kept as ``<cache>/<name>``:
    the name proves the content, and torch.hub and timm share the copy. Any other name
    says nothing about the bytes (``.../a/model.pth`` and ``.../b/model.pth`` are two
    files), so it is kept per source: ``<cache>/by-source/<tag of the URL>/<name>``,
    with its own partials and lock.
    """

    cache_dir: Path
    file_name: str
    source: Optional[str] = None
    """The URL the card names (the key beside the name); ``None`` keys by name only."""

    def __post_init__(self) -> None:
        problem = unsafe_name_reason(self.file_name)
        if problem is not None:
            raise UnsafePathError(f"{self.file_name!r} cannot be a file name in the cache: {problem}")

    @property
    def scope(self) -> str:
        """"" for a name-keyed entry, else ``by-source/<tag>`` (a relative folder)."""
        if self.source is None or hash_prefix_from_name(self.file_name):
            return ""
        return f"{SOURCE_KEYED_DIR}/{hashlib.sha256(self.source.encode('utf-8')).hexdigest()[:16]}"

    @property
    def relative_path(self) -> str:
        """Where the file lies under the cache folder ("name" or "by-source/<tag>/name")."""
        return f"{self.scope}/{self.file_name}" if self.scope else self.file_name

    @property
    def path(self) -> Path:
        return self.cache_dir / self.relative_path

    @property
    def partial_dir(self) -> Path:
        base = self.cache_dir / STATE_DIR / "partial"
        return base / self.scope if self.scope else base

    @property
    def lock_path(self) -> Path:
        base = self.cache_dir / STATE_DIR / "locks"
        return (base / self.scope if self.scope else base) / f"{self.file_name}.lock"

    def owned(self, path: Path) -> Path:
        """``path``, proven inside the cache folder (:func:`zoo.paths.inside`)."""
        try:
            return inside(self.cache_dir, path)
        except UnsafePathError as exc:
            raise CacheError(
                f"refusing to write {path}: {exc}",
                done="nothing was written or deleted outside the cache",
                cause="a symlink planted in the cache folder",
                todo=f"remove the symlinks under {self.cache_dir} (or point --cache-dir elsewhere)",
                file_name=self.file_name,
            ) from None

    def partial_path(self, source: str) -> Path:
        """The partial file for bytes from ``source`` (each source resumes its own bytes)."""
        tag = hashlib.sha1(source.encode("utf-8")).hexdigest()[:_TAG_LENGTH]
        return self.owned(self.partial_dir / f"{self.file_name}.{tag}.part")

    def partial_info_path(self, source: str) -> Path:
        return self.partial_path(source).with_suffix(".json")

    def read_partial_info(self, source: str) -> dict[str, Any]:
        """What the partial for ``source`` was downloaded from (URL, ETag, Last-Modified)."""
        try:  # the one bounded JSON reader: a planted note (a FIFO, deep nesting) is ignored, never a hang or a crash
            data = read_json_file(self.partial_info_path(source), max_bytes=64 << 10)
        except (OSError, JSONInputError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_partial_info(self, source: str, info: dict[str, Any]) -> None:
        write_atomic(self.partial_info_path(source), json.dumps(info, sort_keys=True).encode("utf-8"))

    def discard_partial(self, source: str) -> None:
        self.owned(self.partial_path(source)).unlink(missing_ok=True)
        self.owned(self.partial_info_path(source)).unlink(missing_ok=True)

    def discard_all_partials(self) -> None:
        """Remove every partial of this file name (after it was verified and committed)."""
        if self.partial_dir.is_dir():
            for suffix in (".part", ".json"):
                for stale in self.partial_dir.glob(f"{glob.escape(self.file_name)}.{'?' * _TAG_LENGTH}{suffix}"):
                    self.owned(stale).unlink(missing_ok=True)

    def commit(self, partial: PartialFile, source: str) -> None:
        """Move a verified partial into place (atomic) and forget its resume info."""
        partial.close()
        target = self.owned(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.owned(partial.path), self.owned(target))
        self.discard_all_partials()

    def prepare(self) -> None:
        """Create the cache folders, or say clearly why they cannot be."""
        try:
            self.owned(self.partial_dir / "_").parent.mkdir(parents=True, exist_ok=True)
            self.owned(self.lock_path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create the weights cache folder {self.cache_dir}: {exc.strerror or exc}",
                cause="no permission there, or a read-only disk",
                todo="point the cache at a writable folder with --cache-dir or $ZOO_CACHE",
                file_name=self.file_name,
            ) from exc

    @contextlib.contextmanager
    def locked(self, timeout: Optional[float] = None) -> Iterator[None]:
        """Hold this entry's inter-process lock (zoo.file_lock's one rule); tell the user when waiting."""
        lock_file = self.owned(self.lock_path)
        try:
            with holding(lock_file, doing=f"fetching {self.file_name}", timeout=timeout):
                yield
        except LockWaitTimeout as exc:
            raise CacheError(
                f"another process has held the lock on {self.file_name} for more than {timeout} s",
                done="nothing was changed in the cache",
                cause=f"a stuck zoo process; its lock is {lock_file}",
                todo="wait for it to finish or stop it, then run again",
                file_name=self.file_name,
            ) from exc


def _open_regular(path: Path, *, truncate: bool) -> BinaryIO:
    """Open ``path`` for reading and writing without following a symlink at its name.

    A symlink (or anything but a regular file) planted there is removed first: the folder
    was proven to be the cache's, so the link itself is the cache's to delete.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        progress.note(f"zoo: removing {path}: it is not a regular file (a symlink or device planted in the cache)")
        path.unlink()
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    if truncate:
        flags |= os.O_TRUNC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CacheError(
                f"refusing to write {path}: a symlink appeared at its name",
                done="nothing was written", cause="another process planting links in the cache",
                todo=f"check who writes to {path.parent}", file_name=path.name,
            ) from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CacheError(f"refusing to write {path}: it is not a regular file", file_name=path.name)
    return _fdopen(fd, "r+b")


_fdopen = os.fdopen  # a seam for tests that simulate a full disk under the buffered file


__all__ = ["CacheEntry", "PartialFile", "STATE_DIR", "no_space_error"]
