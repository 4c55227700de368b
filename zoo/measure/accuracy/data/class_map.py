"""A class map in timm's ``--class-map`` form: one class name a line, the line number (from 0)
its class index.

For class folders named by your own names rather than ImageNet WordNet ids: with
``--class-map classes.txt`` the folder ``goldfish`` holds class 1 when ``goldfish`` is the
second line. Unlike timm (which skips them), a folder the map does not name, a blank line in
the middle or a name written twice is bad input naming the file and line, since either would
change which images are scored or what their labels mean.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "classes.txt"
>>> _ = path.write_text("tench\\ngoldfish\\n")
>>> read_class_map(path)
('tench', 'goldfish')
"""

from __future__ import annotations

from pathlib import Path

from zoo.errors import InputError
from zoo.yaml_input import read_utf8
from zoo.records import SourceRef


def read_class_map(path: Path) -> tuple[str, ...]:
    """The class names of ``path``, index = line number - 1 (trailing blank lines ignored)."""
    text = read_utf8(path, str(path), what="the class map", hint="give a text file of class names, one a line")
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise InputError(f"{path}: the class map is empty", hint="write one class name a line; line N is class N-1")
    seen: dict[str, int] = {}
    for number, name in enumerate(lines, 1):
        if not name:
            raise InputError(
                "a blank line in the class map would shift every later class index",
                source=SourceRef(str(path), number), hint="remove the line, or write the class name that belongs there",
            )
        if name in seen:
            raise InputError(
                f"class name {name!r} is written twice (also line {seen[name]})", source=SourceRef(str(path), number),
                hint="each class name names one class index",
            )
        seen[name] = number
    return tuple(lines)


def folder_labels(folders: list[str], names: tuple[str, ...], path: Path) -> dict[str, int]:
    """Class folder -> class index by the map; a folder the map does not name is bad input."""
    index = {name: i for i, name in enumerate(names)}
    unknown = [folder for folder in folders if folder not in index]
    if unknown:
        shown = ", ".join(repr(f) for f in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise InputError(
            f"{path}: the class map names no class for the folder(s) {shown}",
            hint=f"add each folder's name as a line of {path.name} (line N is class N-1), or remove the folder",
        )
    return {folder: index[folder] for folder in folders}


__all__ = ["folder_labels", "read_class_map"]
