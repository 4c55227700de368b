"""Writing a file so that no reader ever sees half of it: the one helper every writer uses.

The bytes go to a hidden temporary file beside the target (same folder, so the same file
system), are flushed to disk, get the usual permissions (0666 less the umask) and are moved
into place with ``os.replace``, which is atomic. On any exception, Ctrl-C included, the
temporary file is deleted and the target is left as it was; a full disk is
:class:`zoo.errors.OutOfSpaceError` naming the target (exit 3). Written by hand: the one
library for it (``atomicwrites``) is archived, and this is a dozen lines.

>>> import pathlib, tempfile
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
>>> with atomic_open(target) as out:
...     _ = out.write("hello")
>>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
('hello', ['out.txt'])
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Union

PathLike = Union[str, Path]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextmanager
def atomic_path(path: PathLike, mode: Optional[int] = None) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to (for writers that take a path,
    e.g. ``pyarrow.parquet.write_table``); it replaces ``path`` when the block completes.
    ``mode``: the permission bits to give it (default 0666 less the umask)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        if is_no_space(exc):
            raise _out_of_space(path) from exc
        raise
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~_umask() if mode is None else mode)  # mkstemp makes 0600; results are for others to read
        os.replace(temp, path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and is_no_space(exc):
            raise _out_of_space(path) from exc
        raise


def is_no_space(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or a quota) is full; pyarrow's IO errors carry no errno, only the text."""
    return isinstance(exc, OSError) and (exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(exc))


def _out_of_space(path: Path) -> Exception:
    from zoo.errors import OutOfSpaceError  # zoo.errors imports records; atomic stays importable alone

    return OutOfSpaceError(path)


@contextmanager
def atomic_open(path: PathLike, mode: str = "w", *, newline: Optional[str] = None) -> Iterator[IO[Any]]:
    """``open(path, mode)`` whose content appears at ``path`` only when the block completes.

    ``mode`` is ``"w"`` (UTF-8 text) or ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a whole file: mode 'w' or 'wb', not {mode!r}")
    with atomic_path(path) as temp:
        encoding = None if "b" in mode else "utf-8"
        with open(temp, mode, encoding=encoding, newline=newline) as stream:
            yield stream


def write_atomic(path: PathLike, data: Union[bytes, str], mode: Optional[int] = None) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns the path. ``mode``: its
    permission bits (default 0666 less the umask; an edited file keeps its own)."""
    with atomic_path(path, mode) as temp:
        with open(temp, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


__all__ = ["atomic_open", "atomic_path", "is_no_space", "write_atomic"]
