"""Which Hub repo, revision and file a model means, and where huggingface_hub's settings point.

Which repo: ``--hub-repo MODEL=ORG/NAME[@REV]``, else the card's ``Weights Hub:`` key, else
timm's pretrained config (``hf_hub_id``). Which file: ``model.safetensors`` where the repo has
it (no pickle at all), else ``pytorch_model.bin``. Each part is checked here, since each becomes
a folder or file name in the Hub cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from zoo.errors import EXIT_BAD_INPUT
from zoo.records import ModelCard
from zoo.weights.errors import WeightsError
from zoo.weights.options import FetchOptions

SAFETENSORS_NAME = "model.safetensors"
PICKLE_NAME = "pytorch_model.bin"
CARD_KEY = "Weights Hub"
"""The card key naming a model's Hub repo, e.g. ``Weights Hub: timm/mobilenetv2_100.ra_in1k``."""
DEFAULT_REVISION = "main"

COMMIT = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
# A revision names a branch, tag or commit; it also becomes a file name under the cache's refs/.
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*")


class HubRefError(WeightsError):
    """The Hub repo a card or ``--hub-repo`` names is malformed (bad input for that model)."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class HubRef:
    """A model's repo on the Hub, the revision asked for, and who said so."""

    repo_id: str
    revision: Optional[str] = None
    """Branch, tag or commit; ``None`` is the repo's default branch."""
    origin: str = ""
    """"--hub-repo", "card key Weights Hub at FILE:LINE" or "timm pretrained config"."""
    filename: Optional[str] = None
    """The file timm's config names (``hf_hub_filename``), when it names one."""

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.revision}" if self.revision else self.repo_id


def parse_hub_ref(text: str, *, origin: str) -> HubRef:
    """``"ORG/NAME[@REV]"`` -> :class:`HubRef`; ``ValueError`` saying what is wrong.

    Written by hand rather than with timm's ``hf_split``, which asserts instead of explaining,
    and both parts are checked because each becomes a folder name in the Hub cache.

    >>> parse_hub_ref("timm/mobilenetv2_100.ra_in1k@main", origin="x").revision
    'main'
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    repo, sep, revision = str(text).strip().partition("@")
    if "/" not in repo:
        raise ValueError(f"{text!r} is not ORG/NAME (e.g. timm/mobilenetv2_100.ra_in1k)")
    try:
        validate_repo_id(repo)
    except HFValidationError as exc:
        raise ValueError(f"{repo!r} is not a Hub repo id: {exc}") from None
    if sep and (not _REVISION.fullmatch(revision) or ".." in revision or len(revision) > 200):
        raise ValueError(f"{revision!r} is not a revision (a branch, tag or 40-hex commit)")
    return HubRef(repo_id=repo, revision=revision or None, origin=origin)


def hub_ref_for(card: ModelCard, options: FetchOptions) -> Optional[HubRef]:
    """Where ``card``'s model lives on the Hub: ``--hub-repo``, the card's key, else timm's config.

    Raises :class:`HubRefError` for a malformed ``--hub-repo`` or card value (naming where it
    was written); ``None`` when nothing names a repo.
    """
    given = options.hub_repos.get(card.name)
    if given:
        return _parse_or_fail(card, given, "--hub-repo")
    written = card.metadata.get(CARD_KEY)
    if written is None and isinstance(card.metadata.get("Metadata"), dict):
        written = card.metadata["Metadata"].get(CARD_KEY)
    if written is not None:
        line = card.field_lines.get(CARD_KEY) or card.field_lines.get(f"Metadata.{CARD_KEY}") or card.source.line
        return _parse_or_fail(card, str(written), f"card key {CARD_KEY} at {card.source.path}:{line}")
    return _ref_from_timm(card.name)


def _parse_or_fail(card: ModelCard, text: str, origin: str) -> HubRef:
    try:
        return parse_hub_ref(text, origin=origin)
    except ValueError as exc:
        raise HubRefError(
            f"{card.name}: the Hub repo given by {origin} is unusable: {exc}",
            done="nothing was downloaded",
            todo="write it as ORG/NAME or ORG/NAME@REVISION, e.g. timm/mobilenetv2_100.ra_in1k",
        ) from None


def _ref_from_timm(name: str) -> Optional[HubRef]:
    try:
        from timm.models import get_pretrained_cfg

        cfg = get_pretrained_cfg(name)
    except Exception:  # timm raises RuntimeError/KeyError for names it does not know
        return None
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not hub_id:
        return None
    try:
        ref = parse_hub_ref(str(hub_id), origin=f"timm {_timm_version()} pretrained config of {name}")
    except ValueError:
        return None
    return replace(ref, filename=getattr(cfg, "hf_hub_filename", None) or None)


def _timm_version() -> str:
    import timm

    return timm.__version__


def candidate_files(ref: HubRef) -> list[str]:
    """Files to look for, safest first: safetensors before any pickle (timm's own order)."""
    names: list[str] = []
    if ref.filename:
        if ref.filename.endswith(".bin"):
            names.append(ref.filename[: -len(".bin")] + ".safetensors")
        names.append(ref.filename)
    for name in (SAFETENSORS_NAME, PICKLE_NAME):
        if name not in names:
            names.append(name)
    return names


@dataclass(frozen=True)
class HubSettings:
    """huggingface_hub's settings, read when a fetch starts (the library reads them at import)."""

    endpoint: str
    cache_dir: Path
    offline: bool

    @classmethod
    def current(cls, options: FetchOptions) -> "HubSettings":
        """``HF_ENDPOINT``, ``HF_HUB_CACHE`` (else ``HF_HOME``/hub), offline from ``options`` or
        ``HF_HUB_OFFLINE``; each falls back to what huggingface_hub read when it was imported."""
        from huggingface_hub import constants

        endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
        if os.environ.get("HF_HUB_CACHE"):
            cache = os.environ["HF_HUB_CACHE"]
        elif os.environ.get("HF_HOME"):
            cache = os.path.join(os.environ["HF_HOME"], "hub")
        else:
            cache = constants.HF_HUB_CACHE
        offline = options.offline or constants.HF_HUB_OFFLINE
        return cls(endpoint=endpoint, cache_dir=Path(os.path.expandvars(cache)).expanduser(), offline=offline)


__all__ = [
    "CARD_KEY", "COMMIT", "DEFAULT_REVISION", "HubRef", "HubRefError", "HubSettings", "PICKLE_NAME", "SAFETENSORS_NAME",
    "SHA256", "candidate_files", "hub_ref_for", "parse_hub_ref",
]
