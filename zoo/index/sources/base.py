"""The claim-source interface: what every source of claims hands the index.

A source turns one form of input (Papers-with-Code model-index YAML, a Hugging Face README's
front matter, a Hub repo) into the same :class:`~zoo.records.ModelCard` records: claims with
value, written precision, unit and the ``file:line`` they were written at. A source never
refuses the whole index for one bad card: what cannot be read is a problem, named with its
place and what to do (a file's in :attr:`Reading.problems`, a model's in its card's
``problems``), and everything else is read.

Adding a source: one module in this package with a :class:`ClaimSource`, and its entry in
:data:`zoo.index.sources.SOURCES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Protocol, Sequence

from zoo.errors import InputError
from zoo.records import FileDigest, ModelCard

if TYPE_CHECKING:
    from zoo.weights.options import FetchOptions


@dataclass(frozen=True)
class SourceInput:
    """One input a source reads: a file found through ``--index``, or a form a source names (``hf:ORG/NAME``)."""

    given: str
    """As given or found (a path's text, or the whole ``hf:...`` form)."""
    path: Optional[Path] = None
    text: str = ""
    """The file's text (read once, as UTF-8, by the loader)."""
    optional: bool = False
    """Found in a folder without a root file: a file without the source's data is skipped, not an error."""
    fetch: Optional["FetchOptions"] = None
    """How a source that fetches (``hf:``) reaches the Hub: the command's fetch options
    (``--offline``, ``--cache-dir``, the stall rule); None: read from the environment."""


@dataclass
class Reading:
    """What a source read: its cards, the files it read (with their digests) and what was wrong."""

    cards: list[ModelCard] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    digests: list[FileDigest] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    """Bad input outside any one card (a file that is not YAML, an Import that matches nothing)."""

    def extend(self, other: "Reading") -> None:
        self.cards += other.cards
        self.files += other.files
        self.digests += other.digests
        self.skipped += other.skipped
        self.problems += other.problems


class ClaimSource(Protocol):
    """One source of claims (see the module doc)."""

    kind: str
    """How ``zoo list`` names where a model's claims came from ("model-index", "hf-model-card")."""

    def owns_spec(self, given: str) -> bool:
        """Whether ``--index GIVEN`` is this source's own form (not a path), e.g. ``hf:ORG/NAME``."""
        ...

    def owns_file(self, path: Path, text: str) -> bool:
        """Whether a file found through ``--index`` holds this source's data."""
        ...

    def read(self, inputs: Sequence[SourceInput]) -> Reading:
        """Every card of ``inputs`` (all of this source's inputs of one index, in order)."""
        ...
