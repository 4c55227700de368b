"""Papers-with-Code model-index YAML: timm's model cards, OpenMMLab metafiles, ``zoo import`` output.

A root file (``model-index.yml``) names others with ``Import:`` (paths or globs, followed depth
first, each file read once); ``Collections`` give their ``Metadata`` to the models ``In
Collection``; each entry of ``Models`` is one card. The same YAML may sit in a Markdown card's
HTML comment or front matter (:mod:`zoo.index.documents`).

Read tolerantly: a file that cannot be parsed, an Import that matches nothing or loops, a model
without a Name are the index's problems, named with ``file:line``; a claim that cannot be read
or an undefined collection is that model's problem (an ``error`` verdict of that model alone);
everything else is read.

The library that builds a model: the entry's ``Library:`` key (else its collection's), else an
OpenMMLab config (``Config: configs/....py``) says mmpretrain, else timm.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from zoo import progress
from zoo.errors import InputError
from zoo.index.claims import ClaimReader, collect_claims, plain, problem_of
from zoo.index.documents import IndexDocument, documents_in, display_path, read_documents
from zoo.yaml_input import LocatedMap
from zoo.index.sources.base import Reading, SourceInput
from zoo.records import CardProblem, FileDigest, ModelCard, SourceRef

KIND = "model-index"
LIBRARY_KEY = "Library"
"""The entry (or collection) key naming the library that builds the model: ``Library: torchvision``."""
BUILDS_KEY = "Builds"
"""The entry key naming what the library builds when it is not the model's Name."""
DEFAULT_LIBRARY = "timm"
MAX_IMPORT_ENTRIES = 20_000
"""Most files and folders one ``**`` Import pattern may walk through before it is refused."""


@dataclass(frozen=True)
class Collection:
    """A named group of models; its Metadata is inherited by its models."""

    name: str
    source: SourceRef
    metadata: Optional[LocatedMap]
    path: str
    library: str = ""


class ModelIndexSource:
    """The :class:`~zoo.index.sources.base.ClaimSource` of Papers-with-Code model-index YAML."""

    kind = KIND

    def owns_spec(self, given: str) -> bool:
        return False

    def owns_file(self, path: Path, text: str) -> bool:
        return True  # the fallback: a file no other source owns is read (and named when it holds nothing) here

    def read(self, inputs: Sequence[SourceInput]) -> Reading:
        walker = _ImportWalker([i.path.parent for i in inputs if i.path is not None])
        for item in inputs:
            assert item.path is not None
            walker.load(item.path, optional=item.optional, text=item.text)
        reading = Reading(files=walker.files, digests=walker.digests, skipped=walker.skipped, problems=walker.problems)
        collections = _collections(walker.documents, reading.problems)
        for document in walker.documents:
            reading.cards += _models(document, collections, reading.problems)
        return reading


class _ImportWalker:
    """Walks imports depth first, refusing loops, reading each file once; problems are collected."""

    def __init__(self, root_dirs: Sequence[Path] = ()) -> None:
        self.root_dirs = list(dict.fromkeys(Path(os.path.realpath(d)) for d in root_dirs))
        self.documents: list[IndexDocument] = []
        self.files: list[str] = []
        self.digests: list[FileDigest] = []
        self.skipped: list[str] = []
        self.problems: list[InputError] = []
        self._seen: set[Path] = set()
        self._stack: list[Path] = []

    def load(self, path: Path, imported_from: Optional[SourceRef] = None, optional: bool = False, text: Optional[str] = None) -> None:
        """Read ``path`` and its imports; ``optional``: a text file without index data is skipped."""
        real = path.resolve()
        if real in self._stack:
            chain = " -> ".join(display_path(p) for p in self._stack + [real])
            self.problems.append(InputError(
                f"Import loops back to {display_path(path)} ({chain})", source=imported_from, field="Import",
                hint="remove one of the imports in the loop",
            ))
            return
        if real in self._seen:
            return
        self._seen.add(real)
        try:
            documents = documents_in(path, text, required=not optional) if text is not None else read_documents(path, required=not optional)
        except InputError as exc:
            self.problems.append(exc)
            self.files.append(display_path(path))
            self.digests.append(file_digest(path))
            return
        if not documents and optional:
            self.skipped.append(display_path(path))
            return
        self._stack.append(real)
        self.files.append(display_path(path))
        self.digests.append(file_digest(path))
        for document in documents:
            self.documents.append(document)
            self._follow_imports(document)
        self._stack.pop()

    def _follow_imports(self, document: IndexDocument) -> None:
        imports = document.data.get("Import") or []
        shown = display_path(document.path)
        where = SourceRef(shown, document.data.line_of("Import"))
        if isinstance(imports, str):
            imports = [imports]
        if not isinstance(imports, list):
            self.problems.append(InputError("Import must be a list of paths or globs", source=where, field="Import"))
            return
        base = document.path.parent
        for pattern in imports:
            try:
                matches = expand_import(base, str(pattern), where)
            except InputError as exc:
                self.problems.append(exc)
                continue
            if not matches:
                self.problems.append(InputError(
                    f"Import {pattern!r} matches no file (relative to {display_path(base)})",
                    source=where, field="Import", hint="fix the path or glob; it is relative to the importing file",
                ))
                continue
            for match in matches:
                self._warn_if_outside(match, where)
                self.load(Path(match), imported_from=where)

    def _warn_if_outside(self, path: Path, where: SourceRef) -> None:
        real = Path(os.path.realpath(path))
        if self.root_dirs and not any(real == d or d in real.parents for d in self.root_dirs):
            plural = "s" if len(self.root_dirs) > 1 else ""
            progress.note(
                f"zoo: warning: {where}: Import reads {display_path(path)}, which lies outside the index "
                f"folder{plural} {', '.join(display_path(d) for d in self.root_dirs)}"
            )


def expand_import(base: Path, pattern: str, where: Optional[SourceRef] = None) -> list[Path]:
    """The files an Import ``pattern`` matches, relative to ``base``, sorted.

    ``**`` matches any number of folders but never follows a symlinked folder (so a link
    loop or a link out of the tree is not walked), and a walk through more than
    :data:`MAX_IMPORT_ENTRIES` entries is refused. Hand-written: :func:`glob.glob` follows
    symlinked folders under ``**``, and :meth:`pathlib.Path.glob` takes no absolute pattern
    and no limit.
    """
    full = Path(pattern) if os.path.isabs(pattern) else Path(glob.escape(str(base))) / pattern
    parts = full.parts
    if "**" not in parts:  # no recursion: glob's own expansion is finite
        return sorted(Path(m) for m in glob.glob(str(full)) if Path(m).is_file())
    cut = parts.index("**")
    rest = parts[cut:]
    found: list[Path] = []
    walked = 0
    for start in sorted(glob.glob(str(Path(*parts[:cut])))):
        for folder, dirs, files in os.walk(start, followlinks=False):
            walked += 1 + len(files) + len(dirs)
            if walked > MAX_IMPORT_ENTRIES:
                raise InputError(
                    f"Import {pattern!r} walks through more than {MAX_IMPORT_ENTRIES:,} files and folders",
                    source=where, field="Import", hint="narrow the pattern to the folder holding the cards",
                )
            dirs.sort()
            relative = Path(folder).relative_to(start).parts
            found += [Path(folder) / name for name in sorted(files) if _matches(relative + (name,), rest)]
    return sorted(p for p in found if p.is_file())


def _matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether path parts match pattern parts, ``**`` standing for any number of parts."""
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_matches(path[skip:], pattern[1:]) for skip in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pattern[0]) and _matches(path[1:], pattern[1:])


def file_digest(path: Union[str, Path]) -> FileDigest:
    """``path`` as a person would type it, with the SHA-256 of its bytes (an unreadable file has "")."""
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        digest = ""
    return FileDigest(display_path(Path(path)), digest)


def _collections(documents: list[IndexDocument], problems: list[InputError]) -> dict[str, Collection]:
    found: dict[str, Collection] = {}
    for document in documents:
        shown = display_path(document.path)
        entries = document.data.get("Collections") or []
        if not isinstance(entries, list):
            problems.append(InputError("Collections must be a list", source=SourceRef(shown, document.data.line_of("Collections")), field="Collections"))
            continue
        for entry in entries:
            if not isinstance(entry, LocatedMap) or not entry.get("Name"):
                line = entry.line if isinstance(entry, LocatedMap) else document.data.line_of("Collections")
                problems.append(InputError("a collection has no Name", source=SourceRef(shown, line), field="Name", hint="give every collection a Name"))
                continue
            meta = entry.get("Metadata")
            found[str(entry["Name"])] = Collection(
                str(entry["Name"]), SourceRef(shown, entry.line), meta if isinstance(meta, LocatedMap) else None, shown,
                _text(entry.get(LIBRARY_KEY)),
            )
    return found


def _models(document: IndexDocument, collections: dict[str, Collection], problems: list[InputError]) -> list[ModelCard]:
    shown = display_path(document.path)
    entries = document.data.get("Models") or []
    if not isinstance(entries, list):
        problems.append(InputError("Models must be a list", source=SourceRef(shown, document.data.line_of("Models")), field="Models"))
        return []
    cards = []
    for entry in entries:
        if not isinstance(entry, LocatedMap):
            problems.append(InputError("each entry of Models must be a mapping", source=SourceRef(shown, document.data.line_of("Models")), field="Models"))
            continue
        name = entry.get("Name")
        if not name or not isinstance(name, (str, int)):
            problems.append(InputError("a model has no Name", source=SourceRef(shown, entry.line), field="Name", hint="add `Name: <model name>` to the entry"))
            continue
        cards.append(_card(str(name), entry, shown, collections))
    return cards


def _card(name: str, entry: LocatedMap, shown: str, collections: dict[str, Collection]) -> ModelCard:
    """One model's card; what cannot be read in it becomes its problems."""
    own: list[CardProblem] = []
    collection_name = entry.get("In Collection")
    collection = None
    if collection_name is not None and str(collection_name).strip():
        collection = collections.get(str(collection_name))
        if collection is None:
            own.append(problem_of(InputError(
                f"unknown collection {collection_name!r}: the collection's Metadata (and its claims) is not read for this model",
                source=SourceRef(shown, entry.line_of("In Collection")), model=name, field="In Collection",
                hint=f"define it under Collections, or fix the name; known: {', '.join(sorted(collections)) or 'none'}",
            )))
    reader = ClaimReader(shown, name, own)
    own_meta = entry.get("Metadata")
    if own_meta is not None and not isinstance(own_meta, LocatedMap):
        own.append(problem_of(InputError("Metadata must be a mapping", source=SourceRef(shown, entry.line_of("Metadata")), model=name, field="Metadata")))
        own_meta = None
    claims = {}
    not_claimed: list[str] = []
    if collection is not None and collection.metadata is not None:
        inherited = ClaimReader(collection.path, name, own)
        claims.update(collect_claims(_empty(), collection.metadata, inherited))
        not_claimed += inherited.not_claimed
    claims.update(collect_claims(entry, own_meta or _empty(), reader))
    metadata = plain({k: v for k, v in entry.items() if k not in ("Name", "In Collection")})
    field_lines = {str(k): entry.line_of(k) for k in entry}
    field_lines.update({f"Metadata.{k}": own_meta.line_of(k) for k in (own_meta or {})})
    return ModelCard(
        name=name, source=SourceRef(shown, entry.line), collection=str(collection_name) if collection_name else None,
        claims=claims, metadata=metadata, field_lines=field_lines, origin=KIND,
        library=_library(entry, collection), builds=_text(entry.get(BUILDS_KEY)),
        not_claimed=tuple(dict.fromkeys(not_claimed + reader.not_claimed)), problems=tuple(own),
    )


def _library(entry: LocatedMap, collection: Optional[Collection]) -> str:
    stated = _text(entry.get(LIBRARY_KEY)) or (collection.library if collection is not None else "")
    if stated:
        return stated.lower()
    config = _text(entry.get("Config"))
    if config.endswith(".py"):  # an OpenMMLab config file: the model is built by mmpretrain
        return "mmpretrain"
    return DEFAULT_LIBRARY


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _empty() -> LocatedMap:
    mapping = LocatedMap()
    mapping.line, mapping.key_lines, mapping.raw = 0, {}, {}
    return mapping


SOURCE = ModelIndexSource()
