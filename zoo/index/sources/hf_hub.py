"""A model card on the Hugging Face Hub: ``--index hf:ORG/NAME[@REV]``.

Only the repo's README.md is fetched, through huggingface_hub: the repo's file list at the
revision asked for (default ``main``) names its commit, and README.md is downloaded at that very
commit into huggingface_hub's own cache, so every claim's place names the commit it was read
at (``hf:ORG/NAME@<commit>/README.md:14``) and a run can be re-judged against the same text.
Offline (``--offline``, ``ZOO_OFFLINE=1``, ``HF_HUB_OFFLINE=1``) the README must be in the Hub
cache. The front matter is read as a local card (:mod:`zoo.index.sources.hf_card`), with the
repo as the model to build and the place of its weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from zoo.errors import InputError
from zoo.index.sources.base import Reading, SourceInput
from zoo.index.sources.hf_card import cards_from_text
from zoo.records import FileDigest
from zoo.weights.errors import HTTPStatusError, NotFoundError, OfflineMissingError, WeightsError

if TYPE_CHECKING:
    from zoo.weights.hub import HubRef, HubSettings
    from zoo.weights.options import FetchOptions

PREFIX = "hf:"
README = "README.md"


@dataclass(frozen=True)
class FetchedCard:
    """A README fetched from the Hub: its text, the repo and the commit it was read at."""

    repo_id: str
    revision: str
    commit: str
    text: str
    sha256: str

    @property
    def shown(self) -> str:
        """How claims name the file: ``hf:ORG/NAME@<commit>/README.md``."""
        return f"{PREFIX}{self.repo_id}@{self.commit}/{README}"


class HubCardSource:
    """The :class:`~zoo.index.sources.base.ClaimSource` of ``hf:ORG/NAME[@REV]``."""

    kind = "hf-model-card"

    def owns_spec(self, given: str) -> bool:
        return given.startswith(PREFIX)

    def owns_file(self, path: Path, text: str) -> bool:
        return False

    def read(self, inputs: Sequence[SourceInput]) -> Reading:
        reading = Reading()
        for item in inputs:
            fetched = fetch_card(item.given, item.fetch)
            reading.files.append(fetched.shown)
            reading.digests.append(FileDigest(fetched.shown, fetched.sha256))
            cards, problems = cards_from_text(fetched.text, fetched.shown, repo_id=fetched.repo_id, revision=fetched.commit)
            reading.cards += cards
            reading.problems += problems
        return reading


def fetch_card(given: str, options: Optional["FetchOptions"] = None) -> FetchedCard:
    """README.md of the repo ``given`` names (``hf:ORG/NAME[@REV]``), at the commit its revision points to.

    Raises :class:`InputError` for a malformed name, and zoo's weights errors (naming the repo and
    what to do) when the Hub cannot give the file: not found (exit 2), unreachable (exit 3).
    """
    from zoo.weights.hub import HubSettings, parse_hub_ref, transfer
    from zoo.weights.options import FetchOptions

    try:
        ref = parse_hub_ref(given[len(PREFIX):], origin=f"--index {given}")
    except ValueError as exc:
        raise InputError(f"--index {given}: {exc}", field="--index", hint="write hf:ORG/NAME or hf:ORG/NAME@REVISION") from None
    options = options if options is not None else FetchOptions.from_env()
    settings = HubSettings.current(options)
    revision = ref.revision or "main"
    try:
        with transfer(options, README):  # zoo's checks of every Hub answer and the stall rule
            return _fetch(ref, revision, settings, options)
    except (NotFoundError, HTTPStatusError) as exc:  # the repo, revision or README is not there for us: bad input
        raise InputError(
            exc.happened, field="--index",
            hint="check ORG/NAME and the revision (a branch, tag or commit); a gated or private repo needs HF_TOKEN",
        ) from None
    except OfflineMissingError:
        raise
    except WeightsError as exc:  # the Hub could not be reached (exit 3)
        raise type(exc)(
            exc.happened, done="no claim was read from it", cause=exc.cause,
            todo=f"check the network and HF_ENDPOINT; to work offline, run `zoo list --index {given}` once online "
            "(the README stays in the Hub cache)",
        ) from None


def _cached(ref: "HubRef", revision: str, settings: "HubSettings") -> Path:
    """The README in the Hub cache, offline; :class:`OfflineMissingError` when it is not there."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(ref.repo_id, README, revision=revision, cache_dir=settings.cache_dir, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        raise OfflineMissingError(
            f"{README} of {ref.repo_id}@{revision} is not in the Hub cache ({settings.cache_dir}), and offline mode "
            "(--offline, ZOO_OFFLINE=1 or HF_HUB_OFFLINE=1) forbids fetching it",
            done="no claim was read from it",
            todo=f"run `zoo list --index {PREFIX}{ref}` on a machine with network and copy its Hub cache (HF_HUB_CACHE) here",
        ) from None


def _fetch(ref: "HubRef", revision: str, settings: "HubSettings", options: "FetchOptions") -> FetchedCard:
    from huggingface_hub import HfApi, hf_hub_download

    from zoo.weights.hub import checked_commit, hub_errors, remember_ref

    with hub_errors(f"model card {README}", ref, f"{ref.repo_id}@{revision}"):
        if settings.offline:
            path = _cached(ref, revision, settings)
            commit = path.parent.name
        else:
            info = HfApi(endpoint=settings.endpoint).model_info(ref.repo_id, revision=revision, timeout=options.read_timeout)
            # The commit names the snapshot and every claim's place: one the Hub does not name is refused.
            commit = checked_commit(getattr(info, "sha", None), f"{ref.repo_id}@{revision}")
            path = Path(hf_hub_download(
                ref.repo_id, README, revision=commit, cache_dir=settings.cache_dir, endpoint=settings.endpoint,
                etag_timeout=options.read_timeout,
            ))
            if commit != revision:
                remember_ref(settings.cache_dir, ref.repo_id, revision, commit)
        data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{README} of {ref.repo_id}@{commit} is not UTF-8 (byte {exc.start})", field="--index", hint="the card must be UTF-8 text"
        ) from None
    return FetchedCard(ref.repo_id, revision, commit, text, hashlib.sha256(data).hexdigest())


SOURCE = HubCardSource()
