"""YAML that remembers where each key was written: the one reader of the YAML files zoo reads.

PyYAML's safe loader drops line numbers once values are constructed; claims must keep
theirs, so mappings are built as :class:`LocatedMap` carrying the line of every key and
the raw text of every scalar value (the precision a number was written with lives there).

A document that cannot nest deeper than :data:`MAX_DEPTH` and has no anchors or aliases (every
real card) is parsed by libyaml (``yaml.CSafeLoader``, same node marks, so the same lines, and
about 5x faster); anything else goes through the pure-Python loader, which refuses deep
nesting and alias bombs while composing (libyaml composes in C, out of reach of those checks).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import yaml

from zoo.errors import InputError
from zoo.records import SourceRef


class LocatedMap(dict):
    """A dict that also knows its own line, each key's line and each scalar's raw text."""

    line: int
    key_lines: dict[Any, int]
    raw: dict[Any, str]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


MAX_DEPTH = 64
"""Deepest nesting of lists and mappings accepted (model-index files use under 10 levels)."""
MAX_EXPANDED_NODES = 200_000
"""Most nodes a document may hold once every alias is expanded (the biggest real timm
card holds a few thousand); a "billion laughs" document is refused before it is built."""


class _LocatingLoader(yaml.SafeLoader):
    """Safe loader whose mappings are :class:`LocatedMap` with 1-based lines.

    It also refuses hostile documents while composing them, before any object is built:
    nesting deeper than :data:`MAX_DEPTH` and aliases that expand beyond
    :data:`MAX_EXPANDED_NODES` nodes. PyYAML has no such limits of its own.
    """

    line_offset = 0

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                self._count(self._size(target), event.start_mark, f"the alias *{event.anchor}")
            return super().compose_node(parent, index)
        event = self.peek_event()
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep; refused", event.start_mark
                )
            self._count(1, event.start_mark, "this node")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _count(self, nodes: int, mark: Any, what: str) -> None:
        self._nodes += nodes
        if self._nodes > MAX_EXPANDED_NODES:
            raise yaml.composer.ComposerError(
                None, None,
                f"{what} makes the document expand to more than {MAX_EXPANDED_NODES:,} nodes "
                "(aliases repeating aliases); refused", mark,
            )

    def _size(self, node: yaml.Node) -> int:
        """Nodes in ``node`` with every alias inside expanded (memoised; depth already bounded)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self._sizes[id(node)] = size
        return size


def _construct_mapping(loader: _LocatingLoader, node: yaml.MappingNode) -> LocatedMap:
    loader.flatten_mapping(node)
    mapping = LocatedMap()
    mapping.line = node.start_mark.line + 1 + loader.line_offset
    mapping.key_lines = {}
    mapping.raw = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                None, None, "found a list or mapping used as a key", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1 + loader.line_offset
        if isinstance(value_node, yaml.ScalarNode):
            mapping.raw[key] = value_node.value
    return mapping


def _construct_int(loader: _LocatingLoader, node: yaml.ScalarNode) -> int:
    """PyYAML's int, with Python's refusal of huge literals (over 4,300 digits) turned into a
    YAML error at the node's line instead of a bare ValueError."""
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"the integer {node.value[:20]}... is too long to read ({exc})", node.start_mark
        ) from None


_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
_LocatingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


_CSafe = getattr(yaml, "CSafeLoader", None)
if _CSafe is not None:

    class _FastLocatingLoader(_CSafe):  # type: ignore[misc, valid-type]
        """libyaml's safe loader building the same :class:`LocatedMap` mappings."""

        line_offset = 0

    _FastLocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastLocatingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

_ALIAS_OR_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s\]},]")
_LEADING = re.compile(r"^[ \t\-?:]*", re.M)


def _plainly_shallow(text: str) -> bool:
    """Whether ``text`` has no anchor or alias and cannot nest deeper than MAX_DEPTH levels.

    Flow nesting needs one bracket per level; block nesting one leading space, dash, ``?`` or
    ``:`` per level: the two counts bound the depth from above. A cheap proof, so libyaml may
    compose the document.
    """
    if _ALIAS_OR_ANCHOR.search(text):
        return False
    brackets = text.count("[") + text.count("{")
    if brackets >= MAX_DEPTH // 2:
        return False
    deepest = max((len(m.group(0)) for m in _LEADING.finditer(text)), default=0)
    return brackets + deepest < MAX_DEPTH


def load_located(text: str, line_offset: int = 0) -> Any:
    """Parse one YAML (or JSON) document; lines are shifted by ``line_offset``.

    Raises ``yaml.YAMLError`` (with ``problem_mark``) on malformed input.
    """
    fast = _CSafe is not None and _plainly_shallow(text)
    loader = _FastLocatingLoader(text) if fast else _LocatingLoader(text)
    loader.line_offset = line_offset
    try:
        return loader.get_single_data()
    except (ValueError, OverflowError, RecursionError) as exc:
        # PyYAML's constructors let these escape (a timestamp like 2024-13-45, a huge float
        # text); they are bad input like any other YAML error.
        raise yaml.constructor.ConstructorError(
            None, None, f"a value cannot be read: {type(exc).__name__}: {str(exc)[:200]}",
            getattr(loader, "_last_mark", None),
        ) from None
    finally:
        loader.dispose()


_STARTED_CONTEXTS = ("while scanning", "while parsing a flow")
"""Contexts whose mark is where the faulty construct starts: a key without its ``:``, an
unclosed quote or bracket. PyYAML notices those only on a later line (``problem_mark``)."""


def error_position(exc: yaml.YAMLError, line_offset: int = 0) -> tuple[Optional[int], Optional[int]]:
    """1-based (line, column) of a YAML error, if the parser reported one: where the faulty
    construct starts (``Image Size`` without its colon is line 14, not the line after, where
    PyYAML gave up), else where PyYAML stopped."""
    context = str(getattr(exc, "context", None) or "")
    mark = getattr(exc, "problem_mark", None)
    if context.startswith(_STARTED_CONTEXTS) or mark is None:
        mark = getattr(exc, "context_mark", None) or mark
    if mark is None:
        return None, None
    return mark.line + 1 + line_offset, mark.column + 1


def error_problem(exc: yaml.YAMLError) -> str:
    """What is wrong, in PyYAML's words, with the construct it was reading when that says more
    ("could not find expected ':' (while scanning a simple key)")."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = str(getattr(exc, "context", None) or "")
    return f"{problem} ({context})" if context.startswith(_STARTED_CONTEXTS) else problem


def read_utf8(path: Path, shown: str, *, what: str, hint: str) -> str:
    """The text of a YAML input file. A file that cannot be read raises InputError with ``hint``;
    one that is not UTF-8 raises InputError at the line and column of its first bad byte."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc}", source=SourceRef(shown, 1), hint=hint) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        raise InputError(
            f"{what} is not UTF-8: byte 0x{raw[exc.start]:02x} ({exc.reason})",
            source=SourceRef(shown, before.count(b"\n") + 1),
            column=exc.start - (before.rfind(b"\n") + 1) + 1,
            hint="save the file as UTF-8",
        ) from None


def compose_checked(text: str) -> Optional[yaml.Node]:
    """The node graph of one YAML document, with each scalar's place in ``text`` (``start_mark.index``
    and ``end_mark.index``, in characters) and its quoting style: for editing a value where it is
    written. Composed by the pure-Python loader, so the depth and alias limits above apply.

    Raises ``yaml.YAMLError`` on malformed or hostile input.
    """
    loader = _LocatingLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def read_yaml_mapping(path: Path, shown: str, *, what: str, hint: str, expected: str) -> "LocatedMap":
    """A zoo data file (tolerances, pinned conventions) read as one YAML mapping: unreadable, not
    UTF-8, malformed or not a mapping is InputError naming the file and line, with ``hint``;
    ``expected`` says what the mapping should hold."""
    text = read_utf8(path, shown, what=what, hint=hint)
    try:
        data = load_located(text) or LocatedMap()
    except yaml.YAMLError as exc:
        line, column = error_position(exc)
        raise InputError(
            f"malformed YAML: {getattr(exc, 'problem', exc)}", source=SourceRef(shown, line or 1), column=column, hint=hint,
        ) from None
    if not isinstance(data, LocatedMap):
        raise InputError(f"expected {expected}", source=SourceRef(shown, 1), hint=hint)
    return data
