"""Editing card files: only each claim's value, where it is written, every other byte kept.

A card is untrusted input. A file is edited only when it is a regular file (not a symbolic
link) inside an index folder of the run, its SHA-256 is the one the run was judged against
(:attr:`zoo.records.JudgedAgainst.cards`), and its path holds no control characters. The value
is found by composing the YAML block that holds it (the whole file, front matter, or the HTML
comment of a ``.md``/``.mdx`` card: :func:`zoo.index.documents.yaml_blocks`) and taking the
character span of the scalar under the claim's key on the claim's line; only that span is
replaced, in the scalar's own quoting. Comments, key order, line endings (CRLF too), the
comment wrapping and the rest of the file are untouched by construction, and the edited file is
read back: its documents must equal the old ones except for the values changed, which must read
as the new text. ``--write`` re-reads each file just before replacing it atomically and refuses
one whose bytes changed meanwhile; the file keeps its permission bits.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from zoo.atomic import write_atomic
from zoo.errors import EXIT_BAD_INPUT, ZooError
from zoo.fix.plan import Change, FixPlan, LeftAlone
from zoo.index.documents import display_path, documents_in, yaml_blocks
from zoo.yaml_input import LocatedMap, compose_checked
from zoo.paths import UnsafePathError, inside
from zoo.records import RunRecord


class CardChanged(ZooError):
    """A card's bytes changed between reading it and writing it (bad input, exit 2)."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class FileEdit:
    """One card file, before and after its changes."""

    path: str
    """As shown (relative to the working folder when inside it)."""
    target: Path
    """The file to replace: its folder resolved, proven inside an index folder."""
    before: bytes
    after: bytes
    changes: tuple[Change, ...]


@dataclass
class Edits:
    """The files a plan edits, and the changes refused at the file level."""

    files: list[FileEdit] = field(default_factory=list)
    refused: list[LeftAlone] = field(default_factory=list)
    unsafe: bool = False
    """Whether a file was refused for safety (outside the index, a link, changed since the run): bad input."""


class _Refusal(Exception):
    """Why a file (or one change in it) is not edited."""

    def __init__(self, reason: str, unsafe: bool = False) -> None:
        super().__init__(reason)
        self.unsafe = unsafe


def prepare_edits(plan: FixPlan) -> Edits:
    """The edited bytes of every file ``plan`` changes; nothing is written."""
    folders = index_folders(plan.runs)
    by_file: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_file.setdefault(change.path, []).append(change)
    edits = Edits()
    for path, changes in by_file.items():
        try:
            target, before = _checked_file(path, folders, plan)
            after, refused = _edited(Path(path), before, changes)
        except _Refusal as refusal:
            edits.unsafe = edits.unsafe or refusal.unsafe
            edits.refused += [_refused(change, f"{path}: {refusal}") for change in changes]
            continue
        edits.refused += refused
        done = tuple(c for c in changes if not any(r.source == str(c.source) and r.field == c.field for r in refused))
        if done:
            edits.files.append(FileEdit(path, target, before, after, done))
    return edits


def write_edits(edits: Sequence[FileEdit]) -> list[str]:
    """Replace each file with its edited bytes (atomically, keeping its permission bits); a file
    whose bytes are no longer the ones the edit was made from is refused (:class:`CardChanged`)
    before anything is written. Returns the paths written."""
    for edit in edits:
        try:
            now = _read_regular(edit.target)
        except _Refusal as refusal:
            raise CardChanged(f"{edit.path}: {refusal}; nothing was written") from None
        if now != edit.before:
            raise CardChanged(f"{edit.path} changed while zoo was preparing its edit; nothing was written")
    written = []
    for edit in edits:
        mode = stat.S_IMODE(os.lstat(edit.target).st_mode)
        write_atomic(edit.target, edit.after, mode=mode)
        written.append(edit.path)
    return written


def index_folders(runs: Sequence[RunRecord]) -> list[Path]:
    """The folders a fix may write in: each index root of the runs (a file root's folder)."""
    folders = []
    for run in runs:
        for root in run.index:
            path = Path(root.rstrip("/") or "/")
            folders.append(path if path.is_dir() else path.parent)
    return folders


def _checked_file(path: str, folders: Sequence[Path], plan: FixPlan) -> tuple[Path, bytes]:
    """The file's place and bytes, once it is proven safe to edit (see the module doc)."""
    odd = next((ch for ch in path if unicodedata.category(ch)[0] == "C"), None)
    if odd is not None:
        raise _Refusal(f"its path holds the control character U+{ord(odd):04X}", unsafe=True)
    file = Path(path)
    target = None
    for folder in folders:
        try:
            target = inside(folder, file)
            break
        except UnsafePathError:
            continue
    if target is None:
        shown = ", ".join(display_path(f) for f in folders) or "none"
        raise _Refusal(f"it lies outside the index folder(s) of the run ({shown}); zoo edits only files inside them", unsafe=True)
    if file.is_symlink():
        raise _Refusal(f"it is a symbolic link (to {os.readlink(file)}); zoo edits only regular files", unsafe=True)
    if plan.unhashed:
        old = ", ".join(plan.unhashed)
        raise _Refusal(f"run {old} keeps no SHA-256 of its cards (a record older than schema 3): run `zoo fix` without RUN", unsafe=True)
    expected = plan.digests.get(os.path.realpath(file))
    if expected is None:
        raise _Refusal("the run(s) were not judged against this file: run `zoo fix` without RUN, or from the folder the run was made in", unsafe=True)
    before = _read_regular(target)
    actual = hashlib.sha256(before).hexdigest()
    if actual != expected:
        raise _Refusal(
            f"it changed since the run (sha256 now {actual[:12]}..., the run judged {expected[:12]}...): "
            "run `zoo fix` without RUN to measure the cards as they are", unsafe=True,
        )
    return target, before


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, never through a symbolic link."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise _Refusal(f"cannot be read ({exc.strerror})", unsafe=True) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refusal("it is not a regular file", unsafe=True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read()
    finally:
        os.close(fd)


def _edited(path: Path, before: bytes, changes: Sequence[Change]) -> tuple[bytes, list[LeftAlone]]:
    """The file's bytes with each change's value replaced, and the changes refused."""
    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refusal("it is not UTF-8") from None
    trees = _compose(path, text)
    spans: list[tuple[int, int, str, Change]] = []
    refused: list[LeftAlone] = []
    for change in changes:
        try:
            start, end, written = _span(trees, change)
        except _Refusal as refusal:
            refused.append(_refused(change, f"{change.source}: {refusal}"))
            continue
        spans.append((start, end, written, change))
    after = text
    for start, end, written, _ in sorted(spans, key=lambda s: s[0], reverse=True):
        after = after[:start] + written + after[end:]
    _check_read_back(path, text, after, [s[3] for s in spans])
    return after.encode("utf-8"), refused


def _compose(path: Path, text: str) -> list[tuple[int, int, Any]]:
    """(character offset, line offset, node graph) of each YAML block of the file."""
    trees = []
    for block in yaml_blocks(path, text):
        try:
            node = compose_checked(block.body)
        except yaml.YAMLError as exc:
            raise _Refusal(f"its YAML cannot be read for editing ({str(exc).splitlines()[0]})") from None
        if node is not None:
            trees.append((block.start, block.line_offset, node))
    return trees


def _span(trees: list[tuple[int, int, Any]], change: Change) -> tuple[int, int, str]:
    """(start, end, replacement) of the change's value in the file's text."""
    found = []
    for start, line_offset, root in trees:
        for key, value in _pairs(root):
            if key.value == change.field and key.start_mark.line + 1 + line_offset == change.line:
                found.append((start, value))
    if len(found) != 1:
        raise _Refusal(f"{'no' if not found else 'more than one'} {change.field!r} key on that line")
    offset, node = found[0]
    if not isinstance(node, yaml.ScalarNode):
        raise _Refusal(f"{change.field} is not a single value")
    if node.start_mark.line != node.end_mark.line:
        raise _Refusal(f"{change.field}'s value spans several lines")
    return offset + node.start_mark.index, offset + node.end_mark.index, _scalar(node, change.new)


def _pairs(node: Any) -> list[tuple[yaml.ScalarNode, Any]]:
    """Every (key, value) of every mapping in the graph whose key is a plain scalar."""
    found = []
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    found.append((key, value))
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return found


def _scalar(node: yaml.ScalarNode, text: str) -> str:
    """``text`` as a scalar in ``node``'s own style: in its quotes, or plain when it reads back
    as a value of the same type (a number stays a number, a word a word)."""
    if node.style == "'":
        return "'" + text.replace("'", "''") + "'"
    if node.style == '"':
        if any(ch in text for ch in '"\\'):
            raise _Refusal(f"{text!r} cannot be written inside its double quotes unchanged")
        return f'"{text}"'
    if node.style is not None:
        raise _Refusal(f"its value is a {node.style!r} block scalar; zoo rewrites only one-line values")
    old, new = _plain_value(node.value), _plain_value(text)
    if type(old) is not type(new) or (isinstance(new, str) and new != text):
        raise _Refusal(f"{text!r} would not read back as the same kind of value without quotes")
    return text


def _plain_value(text: str) -> Any:
    """What YAML makes of ``text`` written as a plain value."""
    try:
        loaded = yaml.safe_load(f"x: {text}")
    except yaml.YAMLError:
        return None
    return loaded.get("x") if isinstance(loaded, dict) else None


def _check_read_back(path: Path, before: str, after: str, changes: Sequence[Change]) -> None:
    """The edited text's documents equal the old ones except for the changed values, which read
    as their new text; else a bug in the editor, and the file is refused."""
    try:
        old = documents_in(path, before, required=False)
        new = documents_in(path, after, required=False)
    except ZooError as exc:
        raise _Refusal(f"the edited file does not read back ({exc}); zoo edits nothing in it") from None
    expected = {(c.line, c.field): c.new for c in changes}
    seen: set[tuple[int, str]] = set()
    if len(old) != len(new) or not all(_same(a.data, b.data, expected, seen) for a, b in zip(old, new)) or seen != set(expected):
        raise _Refusal("the edited file does not read back to the same cards with only the new values; zoo edits nothing in it")


def _same(a: Any, b: Any, expected: dict[tuple[int, str], str], seen: set[tuple[int, str]]) -> bool:
    if isinstance(a, LocatedMap) and isinstance(b, LocatedMap):
        if list(a) != list(b):
            return False
        for key in a:
            place = (a.line_of(key), key)
            if place in expected and isinstance(key, str):
                if b.raw.get(key) != expected[place]:
                    return False
                seen.add(place)
            elif not _same(a[key], b[key], expected, seen):
                return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, expected, seen) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _refused(change: Change, why: str) -> LeftAlone:
    return LeftAlone(", ".join(change.models), change.metric, change.field, str(change.source), "drift", "refused", why)
