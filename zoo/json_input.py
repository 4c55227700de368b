"""One reader for every JSON zoo reads: run records, the Hub's answers, a baseline's metadata,
the notes kept beside a partial download.

All of it may have been written or altered by someone else, so the reader refuses, with the
reason and where in the document: more bytes than the caller allows, anything but a regular file
(a FIFO would block the read for ever), text that is not UTF-8 or not JSON, nesting deeper than
:data:`MAX_DEPTH` (Python's own parser would raise ``RecursionError`` a few thousand levels
down, and everything that later walks the value recursively would too), and numbers that are not
finite: ``NaN``, ``Infinity`` and literals beyond the float range such as ``1e400`` (the standard
library reads all three; JSON itself has none of them).

The parsing is the standard library's; the checks around it are written here because no JSON
library offers a depth limit or a finite-numbers rule::

    >>> read_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> try:
    ...     read_json('{"a": [1, NaN]}')
    ... except JSONInputError as exc:
    ...     print(exc)
    a[1]: NaN is not a finite number
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any, Optional, Union

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (zoo's own documents nest about 8 deep)."""

_BIG_EXPONENT = re.compile(r"[0-9][eE]\+?[0-9]{3}")
"""A number literal with a three-digit positive exponent: the only kind that can overflow to inf."""

JSONPath = tuple[Union[str, int], ...]


class JSONInputError(ValueError):
    """JSON that zoo will not use; ``reason`` says why and ``path`` where (``()``: the whole document)."""

    def __init__(self, reason: str, path: JSONPath = (), document: Any = None) -> None:
        self.reason = reason
        self.path = path
        self.document = document
        """The parsed document, when the problem is one value in it (for callers that name the place)."""
        where = describe_path(path)
        super().__init__(f"{where}: {reason}" if where else reason)


def describe_path(path: JSONPath) -> str:
    """``("models", 0, "value")`` -> ``models[0].value``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _NotFinite:
    """Stands in for a number that is not finite until its place is found."""

    def __init__(self, text: str) -> None:
        self.text = text


def read_json(source: Union[str, bytes], *, max_bytes: Optional[int] = None, max_depth: int = MAX_DEPTH) -> Any:
    """The value ``source`` holds, or :class:`JSONInputError` saying why not."""
    import json

    if max_bytes is not None and len(source) > max_bytes:
        raise JSONInputError(f"it is {len(source):,} bytes long, more than the {max_bytes:,} accepted")
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONInputError(f"it is not UTF-8 text (byte {exc.start})") from None
    found: list[_NotFinite] = []

    def not_finite(text: str) -> _NotFinite:
        found.append(_NotFinite(text))
        return found[-1]

    def number(text: str) -> Any:
        value = float(text)
        return value if math.isfinite(value) else not_finite(text)

    # The float hook costs a Python call per number, so it is used only where a number could overflow.
    hooks: dict[str, Any] = {"parse_constant": not_finite}
    if _BIG_EXPONENT.search(source):
        hooks["parse_float"] = number
    try:
        value = json.loads(source, **hooks)
    except RecursionError:
        raise JSONInputError(f"it is nested too deeply (more than {max_depth} levels of arrays and objects)") from None
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"it is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if source.count("[") + source.count("{") > max_depth:  # else too few openings to nest deeper, strings or not
        _check_depth(value, max_depth)
    if found:
        path = _path_of(value, lambda item: isinstance(item, _NotFinite))
        text = next(item.text for item in found) if path is None else _at(value, path).text
        raise JSONInputError(f"{text} is not a finite number", path or (), value)
    return value


def read_json_file(path: Union[str, Path], *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """:func:`read_json` of a file, read only when it is a regular file and only up to ``max_bytes``.

    ``OSError`` (missing, unreadable) passes through for the caller to name.
    """
    return read_json(read_regular_file(path, max_bytes=max_bytes), max_depth=max_depth)


def read_regular_file(path: Union[str, Path], *, max_bytes: int) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``max_bytes`` (a FIFO is never
    opened, so never waited on), else :class:`JSONInputError`; ``OSError`` passes through."""
    path = Path(path)
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise JSONInputError("it is not a regular file (a FIFO, a device or a folder)")
    with open(path, "rb") as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise JSONInputError(f"it is more than the {max_bytes:,} bytes accepted")
    return data


def _check_depth(value: Any, limit: int) -> None:
    """Walk the containers (iteratively: the walk itself must not recurse) and stop past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise JSONInputError(f"it is nested too deeply (more than {limit} levels of arrays and objects)")
        for item in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))


def _path_of(value: Any, wanted: Any) -> Optional[JSONPath]:
    """The path of the first item (in document order) for which ``wanted(item)`` holds."""
    stack: list[tuple[Any, JSONPath]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if wanted(node):
            return path
        if isinstance(node, dict):
            stack.extend((item, (*path, str(key))) for key, item in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((item, (*path, index)) for index, item in reversed(list(enumerate(node))))
    return None


def _at(value: Any, path: JSONPath) -> Any:
    for part in path:
        value = value[part]
    return value


__all__ = ["JSONInputError", "JSONPath", "MAX_DEPTH", "describe_path", "read_json", "read_json_file", "read_regular_file"]
