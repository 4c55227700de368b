"""What a fetch hands back, whichever source served it: the verified file (:class:`FetchResult`),
the Hub file it was when the Hub served it (:class:`HubFile`), and one model's outcome among many
(:class:`FetchAttempt`). Both fetch paths (``sources``, ``hub``) and their callers import these from
here, so neither path imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from zoo.weights.errors import WeightsError

NO_CARD_FILE = "the card names no weights file"
"""Why a ``--weights`` file is not the card's when the card has no Weights URL (a measurement's
``not_card_file`` condition, read by :mod:`zoo.judge.scope`)."""


def hub_lock_key(repo_id: str, filename: str) -> str:
    """The lock file's key for a Hub file: ``ORG/NAME/FILE`` (file names repeat across repos)."""
    return f"{repo_id}/{filename}"


@dataclass(frozen=True)
class HubFile:
    """The Hub file that was verified, and what proved it."""

    repo_id: str
    revision: str
    """The revision asked for (a branch, tag or commit)."""
    commit: str
    """The commit it resolved to: the bytes are those of this commit."""
    filename: str
    sha256: str
    size: int
    proof: str
    """"hub-lfs-sha256" (the Hub's file metadata), "lock" (the lock entry), "hub-cache-name"
    (the blob name the Hub cache gave it), joined with "+" when several agree; "" if none."""
    origin: str = ""
    """Who named the repo (see :attr:`zoo.weights.hub.refs.HubRef.origin`)."""
    branch_moved_to: Optional[str] = None
    """Set when the lock pinned an older commit and the revision asked for now points here."""

    @property
    def format(self) -> str:
        return "safetensors" if self.filename.endswith(".safetensors") else "pickle (weights_only)"

    @property
    def lock_key(self) -> str:
        return hub_lock_key(self.repo_id, self.filename)

    def describe(self) -> str:
        """``timm/mobilenetv2_100.ra_in1k@0123456789ab model.safetensors``."""
        return f"{self.repo_id}@{self.commit[:12]} {self.filename}"


@dataclass(frozen=True)
class FetchResult:
    """A verified weights file on disk and how it was obtained."""

    model: str
    file_name: str
    path: Path
    source: str
    """"cache", "mirror <url or folder>", "url", "local <path>" or "hub <repo>@<commit>"."""
    sha256: str
    size: int
    verified_by: str
    """Which checks proved the bytes ("lock+name-hash", "name-hash", "file-size-claim"); "" if none."""
    lock_status: str
    """"pinned" (matched the lock file), "unpinned" (not in it), "no lock file", "lock off"."""
    url: Optional[str] = None
    notes: tuple[str, ...] = ()
    hub: Optional[HubFile] = None
    """The Hub file (repo, commit, file, hash) when the Hugging Face Hub served it (zoo.weights.hub)."""
    not_card_file: Optional[str] = None
    """Why the user's own file (``--weights MODEL=PATH``) is not the card's (its hash or size is
    not the one the card's file has); set only when the caller accepts such a file (``own_file``)."""


@dataclass(frozen=True)
class FetchAttempt:
    """One model's outcome in :func:`zoo.weights.select.fetch_cards`: a result or the error that stopped it."""

    model: str
    result: Optional[FetchResult] = None
    error: Optional[WeightsError] = None


__all__ = ["FetchAttempt", "FetchResult", "HubFile", "NO_CARD_FILE", "hub_lock_key"]
