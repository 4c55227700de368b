"""The weights cache: one verified file per name, never a half-written one.

Layout under the cache folder (torch.hub's checkpoint folder by default)::

    <cache>/<file name>                          verified files only
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import filelock

from zoo import progress
from zoo.atomic import write_atomic
from zoo.weights.errors import CacheError, NoSpaceError
from zoo.weights.integrity import BackgroundHasher, hash_stream, human_bytes


STATE_DIR = ".zoo"
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
        self._file = open(path, "r+b" if resume and path.exists() else "w+b")
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
        self._hasher.stop()
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "PartialFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass(frozen=True)
class CacheEntry:
    """One file name's place in the cache, with its partial files and its lock."""

    cache_dir: Path
    file_name: str

    @property
    def path(self) -> Path:
        return self.cache_dir / self.file_name

    @property
    def partial_dir(self) -> Path:
        return self.cache_dir / STATE_DIR / "partial"

    def partial_path(self, source: str) -> Path:
        """The partial file for bytes from ``source`` (each source resumes its own bytes)."""
        tag = hashlib.sha1(source.encode("utf-8")).hexdigest()[:_TAG_LENGTH]
        return self.partial_dir / f"{self.file_name}.{tag}.part"

    def partial_info_path(self, source: str) -> Path:
        return self.partial_path(source).with_suffix(".json")

    def read_partial_info(self, source: str) -> dict[str, Any]:
        """What the partial for ``source`` was downloaded from (URL, ETag, Last-Modified)."""
        try:
            data = json.loads(self.partial_info_path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_partial_info(self, source: str, info: dict[str, Any]) -> None:
        write_atomic(self.partial_info_path(source), json.dumps(info, sort_keys=True).encode("utf-8"))

    def discard_partial(self, source: str) -> None:
        self.partial_path(source).unlink(missing_ok=True)
        self.partial_info_path(source).unlink(missing_ok=True)

    def discard_all_partials(self) -> None:
        """Remove every partial of this file name (after it was verified and committed)."""
        if self.partial_dir.is_dir():
            for suffix in (".part", ".json"):
                for stale in self.partial_dir.glob(f"{glob.escape(self.file_name)}.{'?' * _TAG_LENGTH}{suffix}"):
                    stale.unlink(missing_ok=True)

    def commit(self, partial: PartialFile, source: str) -> None:
        """Move a verified partial into place (atomic) and forget its resume info."""
        partial.close()
        os.replace(partial.path, self.path)
        self.discard_all_partials()

    def prepare(self) -> None:
        """Create the cache folders, or say clearly why they cannot be."""
        try:
            self.partial_dir.mkdir(parents=True, exist_ok=True)
            (self.cache_dir / STATE_DIR / "locks").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create the weights cache folder {self.cache_dir}: {exc.strerror or exc}",
                cause="no permission there, or a read-only disk",
                todo="point the cache at a writable folder with --cache-dir or $ZOO_CACHE",
                file_name=self.file_name,
            ) from exc

    @contextlib.contextmanager
    def locked(self, timeout: Optional[float] = None) -> Iterator[None]:
        """Hold this entry's inter-process lock; tell the user when waiting for another process."""
        lock_file = self.cache_dir / STATE_DIR / "locks" / f"{self.file_name}.lock"
        lock = filelock.FileLock(lock_file, thread_local=False)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            progress.note(f"zoo: waiting for another zoo process fetching {self.file_name} (lock {lock_file})")
            try:
                lock.acquire(timeout=-1 if timeout is None else timeout)
            except filelock.Timeout as exc:
                raise CacheError(
                    f"another process has held the lock on {self.file_name} for more than {timeout} s",
                    done="nothing was changed in the cache",
                    cause=f"a stuck zoo process; its lock is {lock_file}",
                    todo="wait for it to finish or stop it, then run again",
                    file_name=self.file_name,
                ) from exc
        try:
            yield
        finally:
            lock.release()


__all__ = ["CacheEntry", "PartialFile", "STATE_DIR", "no_space_error"]
