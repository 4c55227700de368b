"""Loading a model index: following ``Import:`` lists, resolving collections, building cards."""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from zoo import progress
from zoo.errors import InputError, UnknownModelError
from zoo.index.claims import ClaimReader, collect_claims, plain
from zoo.index.documents import IndexDocument, display_path, read_documents
from zoo.index.located_yaml import LocatedMap
from zoo.records import FileDigest, ModelCard, SourceRef

ROOT_NAMES = ("model-index.yml", "model-index.yaml", "model-index.json")
DEFAULT_INDEX = Path("metadata")
CARD_SUFFIXES = (".yml", ".yaml", ".json", ".md", ".mdx")
"""Files read from an index folder that has no root model-index file."""
ZOO_DATA_FILES = frozenset({"flops-conventions.yml", "tolerances.yml"})
"""Zoo data that may sit beside the cards in such a folder; never read as a card."""


@dataclass(frozen=True)
class Collection:
    """A named group of models; its Metadata is inherited by its models."""

    name: str
    source: SourceRef
    metadata: Optional[LocatedMap]
    path: str


@dataclass
class Index:
    """Every model card read from one or more index roots."""

    models: list[ModelCard] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Files of a root-less index folder that hold no model-index data (a README, say)."""
    from_folder: bool = False
    """Whether a folder without a root file was read card by card."""
    digests: list[FileDigest] = field(default_factory=list)
    """Every file read (with the model-index data in it), with the SHA-256 of its bytes."""

    def describe_files(self) -> str:
        """Which files were read (and skipped), for a note on stderr."""
        text = f"read {len(self.files)} file(s): {', '.join(self.files)}"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} without model-index data: {', '.join(self.skipped)}"
        return text

    def names(self) -> list[str]:
        return [card.name for card in self.models]

    def get(self, name: str) -> ModelCard:
        for card in self.models:
            if card.name == name:
                return card
        raise UnknownModelError(
            f"unknown model {name!r}: not in the index ({', '.join(self.roots)})",
            hint=f"known models: {', '.join(self.names()) or 'none'}; `zoo list` shows them",
        )

    def select(self, names: Sequence[str], all_models: bool) -> list[ModelCard]:
        """The cards to work on: every model, or the ones named (in the order named)."""
        if all_models and names:
            raise InputError("give model names or --all, not both")
        if all_models:
            if not self.models:
                raise InputError(f"the index ({', '.join(self.roots)}) defines no models", hint="check --index and the Import lists")
            return list(self.models)
        if not names:
            raise InputError("no models chosen", hint="name models or pass --all")
        return [self.get(name) for name in dict.fromkeys(names)]


def resolve_roots(paths: Iterable[Union[str, Path]]) -> list[Path]:
    """Index files to start from: each path, or the model-index file inside a folder.

    A folder without a root model-index file stands for every card in it: each
    ``.yml/.yaml/.json/.md/.mdx`` file directly inside, in name order.
    """
    roots = []
    for raw in list(paths) or [DEFAULT_INDEX]:
        path = Path(raw)
        if path.is_dir():
            found = next((path / n for n in ROOT_NAMES if (path / n).is_file()), None)
            if found is None:
                cards = folder_cards(path)
                if not cards:
                    raise InputError(
                        f"folder {display_path(path)} has no {' / '.join(ROOT_NAMES)} and no card ({', '.join(CARD_SUFFIXES)} file)",
                        hint="pass a model-index file or card with --index, or add a root model-index.yml",
                    )
                roots.extend(cards)
                continue
            roots.append(found)
        elif path.is_file():
            roots.append(path)
        else:
            raise InputError(
                f"model index {display_path(path)} does not exist",
                hint="pass an existing file or folder with --index (default: metadata/)",
            )
    return roots


def folder_cards(folder: Path) -> list[Path]:
    """The card files directly inside ``folder`` (no root file), in name order."""
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in CARD_SUFFIXES and p.name not in ZOO_DATA_FILES and p.is_file()
    )


class _IndexLoader:
    """Walks imports depth first, refusing loops, reading each file once."""

    def __init__(self, root_dirs: Sequence[Path] = ()) -> None:
        self.root_dirs = [Path(os.path.realpath(d)) for d in root_dirs]
        self.documents: list[IndexDocument] = []
        self.files: list[str] = []
        self.digests: list[FileDigest] = []
        self.skipped: list[str] = []
        self._seen: set[Path] = set()
        self._stack: list[Path] = []

    def load(self, path: Path, imported_from: Optional[SourceRef] = None, optional: bool = False) -> None:
        """Read ``path`` and its imports; ``optional``: a text file without index data is skipped."""
        real = path.resolve()
        if real in self._stack:
            chain = " -> ".join(display_path(p) for p in self._stack + [real])
            raise InputError(f"Import loops back to {display_path(path)} ({chain})", source=imported_from, field="Import", hint="remove one of the imports in the loop")
        if real in self._seen:
            return
        self._seen.add(real)
        documents = read_documents(path, required=not optional)
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
        if isinstance(imports, str):
            imports = [imports]
        if not isinstance(imports, list):
            raise InputError("Import must be a list of paths or globs", source=SourceRef(shown, document.data.line_of("Import")), field="Import")
        base = document.path.parent
        for pattern in imports:
            where = SourceRef(shown, document.data.line_of("Import"))
            matches = expand_import(base, str(pattern), where)
            if not matches:
                raise InputError(
                    f"Import {pattern!r} matches no file (relative to {display_path(base)})",
                    source=where, field="Import", hint="fix the path or glob; it is relative to the importing file",
                )
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


MAX_IMPORT_ENTRIES = 20_000
"""Most files and folders one ``**`` Import pattern may walk through before it is refused."""


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


def load_index(paths: Iterable[Union[str, Path]] = ()) -> Index:
    """Read every model card reachable from ``paths`` (files or folders; default ``metadata/``)."""
    given = list(paths) or [DEFAULT_INDEX]
    roots = resolve_roots(given)
    rootless = [Path(g) for g in given if Path(g).is_dir() and not any((Path(g) / n).is_file() for n in ROOT_NAMES)]
    from_folders = {p.resolve() for folder in rootless for p in folder_cards(folder)}
    loader = _IndexLoader([root.parent for root in roots])
    for root in roots:
        loader.load(root, optional=root.resolve() in from_folders)
    collections = _collections(loader.documents)
    models: list[ModelCard] = []
    first_seen: dict[str, SourceRef] = {}
    for document in loader.documents:
        for card in _models(document, collections):
            if card.name in first_seen:
                raise InputError(
                    f"model {card.name!r} is defined twice: here and at {first_seen[card.name]}",
                    source=card.source, model=card.name, field="Name",
                    hint="remove or rename one of the two entries",
                )
            first_seen[card.name] = card.source
            models.append(card)
    shown = [display_path(r) for r in roots if r.resolve() not in from_folders]
    shown += [display_path(folder) + "/" for folder in rootless]
    return Index(
        models=models, files=loader.files, roots=shown, skipped=loader.skipped, from_folder=bool(rootless), digests=loader.digests
    )


def file_digest(path: Union[str, Path]) -> FileDigest:
    """``path`` as a person would type it, with the SHA-256 of its bytes (an unreadable file has "")."""
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        digest = ""
    return FileDigest(display_path(Path(path)), digest)


def _collections(documents: list[IndexDocument]) -> dict[str, Collection]:
    found: dict[str, Collection] = {}
    for document in documents:
        shown = display_path(document.path)
        entries = document.data.get("Collections") or []
        if not isinstance(entries, list):
            raise InputError("Collections must be a list", source=SourceRef(shown, document.data.line_of("Collections")), field="Collections")
        for entry in entries:
            if not isinstance(entry, LocatedMap) or not entry.get("Name"):
                line = entry.line if isinstance(entry, LocatedMap) else document.data.line_of("Collections")
                raise InputError("a collection has no Name", source=SourceRef(shown, line), field="Name", hint="give every collection a Name")
            meta = entry.get("Metadata")
            found[str(entry["Name"])] = Collection(
                str(entry["Name"]), SourceRef(shown, entry.line), meta if isinstance(meta, LocatedMap) else None, shown
            )
    return found


def _models(document: IndexDocument, collections: dict[str, Collection]) -> list[ModelCard]:
    shown = display_path(document.path)
    entries = document.data.get("Models") or []
    if not isinstance(entries, list):
        raise InputError("Models must be a list", source=SourceRef(shown, document.data.line_of("Models")), field="Models")
    cards = []
    for entry in entries:
        if not isinstance(entry, LocatedMap):
            raise InputError("each entry of Models must be a mapping", source=SourceRef(shown, document.data.line_of("Models")), field="Models")
        name = entry.get("Name")
        if not name or not isinstance(name, (str, int)):
            raise InputError("a model has no Name", source=SourceRef(shown, entry.line), field="Name", hint="add `Name: <timm model name>` to the entry")
        name = str(name)
        collection_name = entry.get("In Collection")
        collection = None
        if collection_name is not None:
            collection = collections.get(str(collection_name))
            if collection is None:
                raise InputError(
                    f"unknown collection {collection_name!r}",
                    source=SourceRef(shown, entry.line_of("In Collection")), model=name, field="In Collection",
                    hint=f"define it under Collections; known: {', '.join(collections) or 'none'}",
                )
        reader = ClaimReader(shown, name)
        own_meta = entry.get("Metadata")
        if own_meta is not None and not isinstance(own_meta, LocatedMap):
            raise InputError("Metadata must be a mapping", source=SourceRef(shown, entry.line_of("Metadata")), model=name, field="Metadata")
        claims = {}
        if collection is not None and collection.metadata is not None:
            claims.update(collect_claims(_empty(), collection.metadata, ClaimReader(collection.path, name)))
        claims.update(collect_claims(entry, own_meta or _empty(), reader))
        metadata = plain({k: v for k, v in entry.items() if k not in ("Name", "In Collection")})
        field_lines = {str(k): entry.line_of(k) for k in entry}
        field_lines.update({f"Metadata.{k}": own_meta.line_of(k) for k in (own_meta or {})})
        cards.append(
            ModelCard(
                name=name, source=SourceRef(shown, entry.line), collection=str(collection_name) if collection_name else None,
                claims=claims, metadata=metadata, field_lines=field_lines,
            )
        )
    return cards


def _empty() -> LocatedMap:
    mapping = LocatedMap()
    mapping.line, mapping.key_lines, mapping.raw = 0, {}, {}
    return mapping
