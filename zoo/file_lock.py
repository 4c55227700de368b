"""One rule for every file several zoo processes update: read, change and write it while holding
its inter-process lock, so no process writes over another's change.

Three ``zoo lock`` jobs of a CI matrix share ``metadata/weights.lock``; each must read the file
*after* the others wrote theirs, add its pin and write it back before anyone else reads it. The
lock is ``filelock``'s (``fcntl``/``msvcrt`` locks, released when the process dies), held on a
hidden file beside the target (``.weights.lock.lock``) or on a file the caller names (the weights
cache keeps one per cached file under ``.zoo/locks/``). A symlink planted at the lock's name is
removed, never opened (filelock opens with ``O_TRUNC``, which a link would carry elsewhere), and a
process that has to wait says for what on the progress channel::

    with updating(Path("metadata/weights.lock")):
        lock = load_lock(path)      # read under the lock
        lock.pin(...)
        lock.save()                 # written (atomically) before the lock is released
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Optional

import filelock

from zoo import progress
from zoo.errors import EXIT_INCOMPLETE, ZooError


class LockWaitTimeout(ZooError):
    """Another process held the lock longer than the caller would wait (incomplete: run again)."""

    exit_code = EXIT_INCOMPLETE


def sidecar(path: Path) -> Path:
    """The lock file of ``path``: ``.<name>.lock`` in the same folder."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def holding(lock_file: Path, *, doing: str, timeout: Optional[float] = None) -> Iterator[None]:
    """Hold the inter-process lock ``lock_file`` (created if need be) for the block.

    ``doing`` says what a process holding it does ("fetching x.pth", "updating metadata/weights.lock"),
    for the waiting note and the timeout error; ``timeout`` is how many seconds to wait for another
    process (``None``: as long as it takes).
    """
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    if lock_file.is_symlink():
        progress.note(f"zoo: removing {lock_file}: a symlink planted at the lock's name")
        lock_file.unlink()
    lock = filelock.FileLock(lock_file, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        progress.note(f"zoo: waiting for another zoo process {doing} (lock {lock_file})")
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except filelock.Timeout as exc:
            raise LockWaitTimeout(
                f"another zoo process {doing} has held its lock {lock_file} for more than {timeout:g} s; nothing was "
                "changed. Wait for it to finish or stop it, then run again"
            ) from exc
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def updating(path: Path, *, timeout: Optional[float] = None) -> Iterator[None]:
    """Hold ``path``'s own lock (:func:`sidecar`) for a read-modify-write of it."""
    with holding(sidecar(path), doing=f"updating {path}", timeout=timeout):
        yield


__all__ = ["LockWaitTimeout", "holding", "sidecar", "updating"]
