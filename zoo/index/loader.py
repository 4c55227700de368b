"""Loading a model index: every ``--index`` given, read by the claim source it is a form of.

``--index`` takes a model-index file or card, a folder (its root ``model-index.yml``, else every
card directly inside and every ``*/README.md`` of its model folders), or a form a source names
(``hf:ORG/NAME[@REV]``). Each file goes to the first source that owns it
(:mod:`zoo.index.sources`); every source hands back the same cards. Bad input in one file or one
card does not stop the others: it is collected (:attr:`Index.problems`, each card's
``problems``) for the command to report, with exit code 2 at the end.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

from zoo.errors import InputError, UnknownModelError
from zoo.index.documents import display_path, read_text
from zoo.index.sources import ClaimSource, Reading, SourceInput, source_of_file, source_of_spec
from zoo.index.sources.model_index import MAX_IMPORT_ENTRIES, expand_import, file_digest
from zoo.records import FileDigest, ModelCard, SourceRef

if TYPE_CHECKING:
    from zoo.weights.options import FetchOptions

ROOT_NAMES = ("model-index.yml", "model-index.yaml", "model-index.json")
DEFAULT_INDEX = Path("metadata")
CARD_SUFFIXES = (".yml", ".yaml", ".json", ".md", ".mdx")
"""Files read from an index folder that has no root model-index file."""
MODEL_FOLDER_CARD = "README.md"
"""The card of each model folder inside an index folder (a Hugging Face model repo's layout)."""
ZOO_DATA_FILES = frozenset({"flops-conventions.yml", "tolerances.yml"})
"""Zoo data that may sit beside the cards in such a folder; never read as a card."""


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
    problems: list[InputError] = field(default_factory=list)
    """Bad input outside any one card: a file that cannot be parsed, an Import that matches nothing,
    a model without a name or defined twice. Each card's own are in its ``problems``."""

    def describe_files(self) -> str:
        """Which files were read (and skipped), for a note on stderr: the files by name when
        there are a few, else their count and folder (a note, not a listing)."""
        text = f"read {counted_files(self.files)}"
        if self.skipped:
            text += f"; skipped {counted_files(self.skipped)} without model-index data"
        return text

    def describe_roots(self) -> str:
        """The index the cards came from, in a few words."""
        return shown_files(self.roots)

    def all_problems(self) -> list[str]:
        """Every problem of the index and of its cards, as messages naming ``file:line`` and what to do."""
        return [str(p) for p in self.problems] + [p.message for card in self.models for p in card.problems]

    def names(self) -> list[str]:
        return [card.name for card in self.models]

    def get(self, name: str) -> ModelCard:
        for card in self.models:
            if card.name == name:
                return card
        names = self.names()
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
        if close:
            hint = f"did you mean {' or '.join(close)}? `zoo list` shows all {len(names)} models"
        elif len(names) <= SHOW_NAMES:
            hint = f"known models: {', '.join(names) or 'none'}"
        else:
            hint = f"no name is close; `zoo list` shows all {len(names)} models"
        raise UnknownModelError(f"unknown model {name!r}: not in the index ({self.describe_roots()})", hint=hint)

    def select(self, names: Sequence[str], all_models: bool) -> list[ModelCard]:
        """The cards to work on: every model, or the ones named (in the order named)."""
        if all_models and names:
            raise InputError("give model names or --all, not both")
        if all_models:
            if not self.models:
                raise InputError(f"the index ({self.describe_roots()}) defines no models", hint="check --index and the Import lists")
            return list(self.models)
        if not names:
            raise InputError("no models chosen", hint="name models or pass --all")
        return [self.get(name) for name in dict.fromkeys(names)]


SHOW_NAMES = 10
"""How many model or file names a message lists before it gives a count instead."""


def shown_files(paths: Sequence[str]) -> str:
    """``a.yml, b.yml`` for a few paths; ``63 files in hfdocs/source/models`` for many."""
    if len(paths) <= SHOW_NAMES // 2:
        return ", ".join(paths)
    try:
        folder = os.path.commonpath([os.path.dirname(p) or "." for p in paths])
    except ValueError:  # absolute and relative paths mixed
        folder = ""
    return f"{len(paths)} files in {folder}" if folder else f"{len(paths)} files ({paths[0]}, ...)"


def counted_files(paths: Sequence[str]) -> str:
    """``2 file(s): a.md, b.md``, or ``63 files in hfdocs/source/models``."""
    shown = shown_files(paths)
    return shown if len(paths) > SHOW_NAMES // 2 else f"{len(paths)} file(s): {shown}"


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
                if not cards and not model_folder_cards(path):
                    raise InputError(
                        f"folder {display_path(path)} has no {' / '.join(ROOT_NAMES)}, no card ({', '.join(CARD_SUFFIXES)} file) "
                        f"and no model folder with a {MODEL_FOLDER_CARD}",
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


def model_folder_cards(folder: Path) -> list[Path]:
    """``*/README.md`` of the model folders inside ``folder`` (no root file), in name order."""
    return sorted(p / MODEL_FOLDER_CARD for p in folder.iterdir() if p.is_dir() and (p / MODEL_FOLDER_CARD).is_file())


def load_index(paths: Iterable[Union[str, Path]] = (), *, fetch: Optional["FetchOptions"] = None) -> Index:
    """Read every model card reachable from ``paths`` (files, folders or ``hf:`` forms; default ``metadata/``).

    ``fetch``: the command's fetch options, for a source that fetches its cards (``hf:``);
    without them, that source reads its options from the environment.

    A path that does not exist, or a folder with nothing to read, raises :class:`InputError`; bad
    input inside the files is collected in :attr:`Index.problems` and the cards' ``problems``.
    """
    given = [str(g) for g in (list(paths) or [DEFAULT_INDEX])]
    inputs: dict[int, list[SourceInput]] = {}
    order: list[ClaimSource] = []
    problems: list[InputError] = []
    shown: list[str] = []
    rootless = False

    def offer(source: ClaimSource, item: SourceInput) -> None:
        if source not in order:
            order.append(source)
        inputs.setdefault(id(source), []).append(item)

    for text in given:
        spec_source = source_of_spec(text)
        if spec_source is not None:
            offer(spec_source, SourceInput(text, fetch=fetch))
            shown.append(text)
            continue
        path = Path(text)
        folder = path.is_dir() and not any((path / n).is_file() for n in ROOT_NAMES)
        found = resolve_roots([path]) + (model_folder_cards(path) if folder else [])
        rootless = rootless or folder
        shown.append(display_path(path) + "/" if folder else display_path(found[0]))
        for file in found:
            try:
                content = read_text(file)
            except InputError as exc:
                problems.append(exc)
                continue
            offer(source_of_file(file, content), SourceInput(str(file), file, content, optional=folder))
    reading = Reading(problems=problems)
    for source in order:
        reading.extend(source.read(inputs[id(source)]))
    models: list[ModelCard] = []
    first_seen: dict[str, SourceRef] = {}
    for card in reading.cards:
        if card.name in first_seen:
            reading.problems.append(InputError(
                f"model {card.name!r} is defined twice: here and at {first_seen[card.name]}; this one is not read",
                source=card.source, model=card.name, field="Name", hint="remove or rename one of the two entries",
            ))
            continue
        first_seen[card.name] = card.source
        models.append(card)
    return Index(
        models=models, files=reading.files, roots=shown, skipped=reading.skipped, from_folder=rootless,
        digests=reading.digests, problems=reading.problems,
    )


def is_index_form(given: str) -> bool:
    """Whether ``--index given`` is a source's own form (``hf:ORG/NAME``) rather than a path."""
    return source_of_spec(given) is not None


__all__ = [
    "CARD_SUFFIXES", "DEFAULT_INDEX", "Index", "MAX_IMPORT_ENTRIES", "ROOT_NAMES", "expand_import", "file_digest",
    "folder_cards", "is_index_form", "load_index", "model_folder_cards", "resolve_roots",
]
