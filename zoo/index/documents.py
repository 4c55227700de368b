"""Finding model-index documents inside files of every form found in the wild.

- ``.yml`` / ``.yaml`` / ``.json``: the whole file is one document.
- Markdown, MDX or any other text: YAML in an HTML comment (``<!-- Type: model-index ... -->``,
  as timm's model cards carry it) and/or YAML front matter between ``---`` lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import InputError
from zoo.yaml_input import LocatedMap, error_position, error_problem, load_located, read_utf8
from zoo.records import SourceRef

STRUCTURED_SUFFIXES = {".yml", ".yaml", ".json"}
_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_INDEX_KEYS = ("Models", "Collections", "Import")


@dataclass(frozen=True)
class IndexDocument:
    """One parsed model-index mapping and the file it came from."""

    path: Path
    data: LocatedMap


def display_path(path: Path) -> str:
    """The path as a person would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _parse(path: Path, text: str, line_offset: int) -> Any:
    try:
        return load_located(text, line_offset)
    except yaml.YAMLError as exc:
        line, column = error_position(exc, line_offset)
        problem = error_problem(exc)
        raise InputError(
            f"malformed model-index YAML: {problem}",
            source=SourceRef(display_path(path), line or line_offset + 1),
            column=column,
            hint="fix the YAML syntax at that place",
        ) from None


def _is_index(data: Any) -> bool:
    return isinstance(data, LocatedMap) and (
        any(key in data for key in _INDEX_KEYS) or data.get("Type") == "model-index"
    )


@dataclass(frozen=True)
class YamlBlock:
    """Where one YAML document sits in a file's text: ``text[start:start + len(body)] == body``."""

    start: int
    """Character offset of the body in the file's text."""
    line_offset: int
    """Lines before the body (add to a 0-based line inside it for the file's line)."""
    body: str


def yaml_blocks(path: Path, text: str) -> list[YamlBlock]:
    """The YAML documents that may hold model-index data in a file's ``text``: the whole text of a
    ``.yml``/``.yaml``/``.json`` file; else its front matter and each HTML comment that looks like
    model-index data (the one place this is decided, for reading cards and for editing them)."""
    if path.suffix.lower() in STRUCTURED_SUFFIXES:
        return [YamlBlock(0, 0, text)]
    blocks = []
    front = _FRONT_MATTER.match(text)
    if front:
        blocks.append(YamlBlock(front.start(1), 1, front.group(1)))
    for match in _COMMENT.finditer(text):
        body = match.group(1)
        if "model-index" not in body and not any(f"{k}:" in body for k in _INDEX_KEYS):
            continue
        blocks.append(YamlBlock(match.start(1), text.count("\n", 0, match.start(1)), body))
    return blocks


def read_documents(path: Path, required: bool = True) -> list[IndexDocument]:
    """Every model-index document in ``path``; a text file with none is an error if ``required``."""
    return documents_in(path, read_text(path), required)


def read_text(path: Path) -> str:
    """An index file's text (InputError naming the file, or the line and column of a byte that is not UTF-8)."""
    return read_utf8(path, display_path(path), what="model-index file", hint="check the path given to --index")


def front_matter(text: str) -> tuple[str, int] | None:
    """The YAML between a Markdown file's leading ``---`` lines and the line offset of its first line; None without."""
    match = _FRONT_MATTER.match(text)
    return (match.group(1), 1) if match else None


def documents_in(path: Path, text: str, required: bool = True) -> list[IndexDocument]:
    """Every model-index document in ``text``, the content of ``path`` (see :func:`read_documents`)."""
    if path.suffix.lower() in STRUCTURED_SUFFIXES:
        data = _parse(path, text, 0)
        if data is None:
            return []
        if not isinstance(data, LocatedMap):
            raise InputError(
                "a model-index file must hold a mapping with Models, Collections or Import",
                source=SourceRef(display_path(path), 1),
            )
        return [IndexDocument(path, data)]

    documents = []
    for block in yaml_blocks(path, text):
        data = _parse(path, block.body, block.line_offset)
        if _is_index(data):
            documents.append(IndexDocument(path, data))
    if not documents and required:
        raise InputError(
            "no model-index data found (looked for YAML front matter and "
            "<!-- Type: model-index ... --> comments)",
            source=SourceRef(display_path(path), 1),
            hint="point --index at a model-index .yml/.json or a card that carries one",
        )
    return documents
