"""YAML that remembers where each key was written.

PyYAML's safe loader drops line numbers once values are constructed; claims must keep
theirs, so mappings are built as :class:`LocatedMap` carrying the line of every key and
the raw text of every scalar value (the precision a number was written with lives there).
Parsing uses libyaml (``yaml.CSafeLoader``) where PyYAML was built with it: the C parser
keeps the same node marks, so lines are unchanged, and reads a card about 10x faster.
"""

from __future__ import annotations

from typing import Any, Optional

import yaml


class LocatedMap(dict):
    """A dict that also knows its own line, each key's line and each scalar's raw text."""

    line: int
    key_lines: dict[Any, int]
    raw: dict[Any, str]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


_SafeBase = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
"""libyaml's safe loader when PyYAML was built with it, else the pure-Python one."""


class _LocatingLoader(_SafeBase):  # type: ignore[misc, valid-type]
    """Safe loader whose mappings are :class:`LocatedMap` with 1-based lines."""

    line_offset = 0


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


_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_located(text: str, line_offset: int = 0) -> Any:
    """Parse one YAML (or JSON) document; lines are shifted by ``line_offset``.

    Raises ``yaml.YAMLError`` (with ``problem_mark``) on malformed input.
    """
    loader = _LocatingLoader(text)
    loader.line_offset = line_offset
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def error_position(exc: yaml.YAMLError, line_offset: int = 0) -> tuple[Optional[int], Optional[int]]:
    """1-based (line, column) of a YAML error, if the parser reported one."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return None, None
    return mark.line + 1 + line_offset, mark.column + 1
