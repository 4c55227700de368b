"""Path safety: every path zoo writes or deletes is proven inside its root, and every file
name taken from untrusted text (a card, a server) is checked before it becomes a path.

The check resolves the parent folder (every symlink followed, ``..`` removed) and then
asks whether the result lies inside the resolved root. The last component is not
followed: callers act on it with ``O_NOFOLLOW``, ``os.replace`` or ``unlink``, which
touch the directory entry itself, so a symlink planted there is replaced or removed,
never written through.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Optional

from zoo.errors import EXIT_BAD_INPUT, ZooError

MAX_NAME_BYTES = 200
"""Longest file name accepted, in UTF-8 bytes: file systems allow 255, and the cache adds a
suffix of up to 25 characters to a partial download's name."""


class UnsafePathError(ZooError):
    """A path would land outside the folder zoo owns (bad input, exit code 2)."""

    exit_code = EXIT_BAD_INPUT


def unsafe_name_reason(name: str) -> Optional[str]:
    """Why ``name`` cannot be used as one file name inside a folder; ``None`` if it can.

    Refused: empty, ``.`` and ``..``, a leading dot (hidden files, and the cache's own
    ``.zoo`` folder), path separators, control and other non-printing characters, and
    names longer than :data:`MAX_NAME_BYTES` bytes.

    >>> unsafe_name_reason("mobilenetv2_100_ra-b33bc2c4.pth") is None
    True
    >>> unsafe_name_reason("../.bashrc")
    "it starts with '.'"
    """
    if not name:
        return "it is empty"
    if name.startswith("."):
        return "it starts with '.'"
    for sep in {"/", "\\", os.sep, os.altsep or "/"}:
        if sep in name:
            return f"it contains the path separator {sep!r}"
    bad = next((ch for ch in name if unicodedata.category(ch)[0] in "CZ" and ch != " "), None)
    if bad is not None:
        return f"it contains the non-printing character U+{ord(bad):04X}"
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        return f"it is {size} bytes long (at most {MAX_NAME_BYTES})"
    return None


def inside(root: Path, path: Path) -> Path:
    """``path`` with its parent resolved, proven to lie inside ``root`` (also resolved).

    Raises :class:`UnsafePathError` when it does not: a ``..`` or an absolute part, or a
    symlinked folder on the way that leads elsewhere.

    >>> inside(Path("/tmp/cache"), Path("/tmp/cache/a.pth")).name
    'a.pth'
    """
    root_real = Path(os.path.realpath(root))
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise UnsafePathError(f"{path} names no file inside {root}")
    real = Path(os.path.realpath(path.parent)) / path.name
    if real != root_real and root_real not in real.parents:
        raise UnsafePathError(
            f"{path} would be outside {root} (it resolves to {real}); nothing was written there"
        )
    return real


__all__ = ["MAX_NAME_BYTES", "UnsafePathError", "inside", "unsafe_name_reason"]
