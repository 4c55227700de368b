"""Weights and File Size: fetch the card's checkpoint, prove its bytes, load it in place.

Two measurements per model:

- ``file_size``: the byte size of the verified file (unit "bytes"). When a hash proves
  the file's identity (in its name, or pinned in the lock file) its true size is
  reported even if the card claims another, so a wrong File Size shows as drift. When
  nothing but the File Size could prove the bytes, a different size rejects them.
- ``weights``: the file's full SHA-256; ``ok`` only when fetched, verified and loaded
  exactly; ``error`` when it is unsafe or does not fit; ``unavailable`` when it
  cannot be had, or nothing proves which bytes are right.

When the Hugging Face Hub served the file (``--weights-source hub``, or ``auto`` after the
card's file failed), the file is loaded, so accuracy is measured on it, and both measurements
are ``unavailable``: the card's claims describe the card's own file, which was not the one
checked. They still carry the Hub file's size, hash, repo and commit. When the card's own file
is also at hand without downloading (zoo's cache, a mirror, ``--weights``), the two claims are
measured on it as usual (its fit checked, not loaded), with the Hub file in ``hub_*`` conditions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

from zoo.errors import EXIT_BAD_INPUT
from zoo.records import Measurement, Metric, ModelCard, Scalar
from zoo.weights.checkpoint import describe_state, fit_report, load_into, read_state_dict
from zoo.weights.errors import CheckpointFitError, LockFileError, WeightsError
from zoo.weights.options import FetchOptions
from zoo.weights.select import fetch_card
from zoo.weights.results import NO_CARD_FILE, FetchResult
from zoo.weights.sources import WeightsRequest, fetch_request

FILE_SIZE_METHOD = "byte size of the fetched file after its SHA-256 was verified"


@dataclass(frozen=True)
class WeightsOutcome:
    """What measuring one model's weights produced."""

    measurements: list[Measurement] = field(default_factory=list)
    """``file_size`` then ``weights``."""
    loaded: bool = False
    """Whether the checkpoint was loaded into the model (it fits exactly)."""
    fetched: Optional[FetchResult] = None
    """The verified file, when one was had."""


def measure_weights(card: ModelCard, model: torch.nn.Module, options: FetchOptions) -> WeightsOutcome:
    """Fetch and verify ``card``'s weights, and load them into ``model`` in place if they fit.

    Never raises for network, data or fit problems: they come back as measurements
    with a reason. Only a broken lock file (bad input for the whole run) raises
    :class:`zoo.weights.errors.LockFileError`.
    """
    try:
        request = WeightsRequest.from_card(card, options)
    except WeightsError as err:  # a Weights URL that cannot name a file in the cache: bad input
        if options.source == "card":
            reason = str(err)
            return WeightsOutcome(
                [Measurement.failed(Metric.FILE_SIZE.value, reason), Measurement.failed(Metric.WEIGHTS.value, reason)]
            )
        request = None  # another source does not use the card's URL
    if request is None and options.source == "card":
        reason = f"the card names no weights URL (no Weights field at {card.source})"
        return WeightsOutcome(
            [Measurement.unavailable(Metric.FILE_SIZE.value, reason), Measurement.unavailable(Metric.WEIGHTS.value, reason)]
        )
    try:
        if request is not None and options.source == "card":
            fetched = fetch_request(request, options, own_file=True)  # --weights: the user's own checkpoint too
        else:
            fetched = fetch_card(card, options)
    except LockFileError:
        raise  # the run's own input is broken, not this model's weights
    except (WeightsError, OSError) as err:  # OSError: the disk or folders around the cache
        conditions: dict[str, Scalar] = {
            "file_name": request.file_name if request else None, "url": request.url if request else None,
            "source": options.source, "error": type(err).__name__,
        }
        bad_input = getattr(err, "exit_code", None) == EXIT_BAD_INPUT  # the card's fault, not the network's
        make = Measurement.failed if bad_input else Measurement.unavailable
        reason = str(err) if bad_input else f"weights unavailable: {err}"
        return WeightsOutcome(
            [
                make(Metric.FILE_SIZE.value, reason, conditions=dict(conditions)),
                make(Metric.WEIGHTS.value, reason, conditions=dict(conditions)),
            ]
        )
    if fetched.hub is not None:
        return _with_card_file_at_hand(card, model, request, _measure_hub_file(card, model, fetched), options)
    return _measure_card_file(card, model, fetched)


def _measure_card_file(card: ModelCard, model: torch.nn.Module, fetched: FetchResult, *, load: bool = True) -> WeightsOutcome:
    """Both measurements for the card's own file; ``load=False`` checks the fit without loading."""
    conditions = _conditions(fetched)
    own = _own_file(fetched)
    if own is not None:
        conditions["not_card_file"] = own
    # A size that matched the File Size claim is no proof of identity when judging that very
    # claim: without a hash (file name or lock) both claims stay unverified until pinned.
    proven = bool(fetched.verified_by) and fetched.verified_by != "file-size-claim"
    unproven_reason = (
        f"nothing independent proves {fetched.file_name} is the card's file: its name carries no hash and "
        f"the lock file does not pin it (its size only matches the card's own claim). Pin it with "
        f"`zoo lock {card.name}` (trust on first use)"
    )
    file_size = Measurement(
        metric=Metric.FILE_SIZE.value,
        status="ok" if proven or fetched.verified_by == "" else "unavailable",
        reason=None if proven or fetched.verified_by == "" else unproven_reason,
        value=fetched.size,
        unit="bytes",
        method=FILE_SIZE_METHOD,
        conditions=dict(conditions),
        notes=list(fetched.notes),
    )
    checked = {"": "nothing", "file-size-claim": "nothing (size matched the claim)"}.get(fetched.verified_by, fetched.verified_by)
    method = f"sha256 {fetched.sha256[:12]}… proven by {checked}; torch.load(weights_only=True); exact fit"
    if own is not None:
        method = f"sha256 {fetched.sha256[:12]}… of the file given with --weights ({own}); torch.load(weights_only=True); exact fit"
    try:
        state = read_state_dict(fetched.path)
        report = load_into(model, state, model_name=card.name, file_name=fetched.file_name) if load else fit_report(model, state)
        if not report.fits:
            raise CheckpointFitError(
                f"{card.name}: the state dict in {fetched.file_name} does not fit the built architecture: {report.describe()}",
                todo="check that the card's model name and Weights URL belong together", file_name=fetched.file_name,
            )
    except WeightsError as err:
        weights = Measurement.failed(
            Metric.WEIGHTS.value, str(err), value=fetched.sha256, unit="sha256", method=method,
            conditions={**conditions, "error": type(err).__name__},
        )
        return WeightsOutcome([file_size, weights], loaded=False, fetched=fetched)

    conditions = {**conditions, "checkpoint": describe_state(state, report)}
    if own is not None:  # loaded for accuracy; which card claims it speaks to is the judge's (zoo.judge.scope)
        weights = Measurement(
            metric=Metric.WEIGHTS.value, status="ok", value=fetched.sha256, unit="sha256", method=method, conditions=conditions
        )
    elif fetched.verified_by == "file-size-claim":
        weights = Measurement.unavailable(
            Metric.WEIGHTS.value, unproven_reason, value=fetched.sha256, unit="sha256", method=method, conditions=conditions
        )
    elif not fetched.verified_by:
        reason = (
            f"{fetched.file_name} loaded, but nothing proves these are the card's bytes: its name carries "
            f"no hash, the lock file does not pin it and the card claims no File Size. Pin it with "
            f"`zoo lock {card.name}` (trust on first use)"
        )
        weights = Measurement.unavailable(
            Metric.WEIGHTS.value, reason, value=fetched.sha256, unit="sha256", method=method, conditions=conditions
        )
    else:
        weights = Measurement(
            metric=Metric.WEIGHTS.value, status="ok", value=fetched.sha256, unit="sha256", method=method,
            conditions=conditions,
        )
    return WeightsOutcome([file_size, weights], loaded=load, fetched=fetched)


def _own_file(fetched: FetchResult) -> Optional[str]:
    """Why the user's ``--weights`` file is not the card's: it fails the card file's checks, or
    the card names no weights file at all; None for the card's own file."""
    if fetched.not_card_file:
        return fetched.not_card_file.split(": ", 1)[-1] if fetched.not_card_file.startswith(f"{fetched.model}: ") else fetched.not_card_file
    if fetched.source.startswith("local ") and fetched.url is None and not fetched.verified_by:
        return NO_CARD_FILE
    return None


def _with_card_file_at_hand(
    card: ModelCard, model: torch.nn.Module, request: Optional[WeightsRequest], hub: WeightsOutcome, options: FetchOptions
) -> WeightsOutcome:
    """When the card's own file is also at hand (zoo's cache, a mirror, ``--weights``; never downloaded
    here), its File Size and Weights claims are checked on it; the model keeps the Hub file's weights."""
    if request is None or not hub.loaded or hub.fetched is None or hub.fetched.hub is None:
        return hub
    try:
        at_hand = fetch_request(request, dataclasses.replace(options, offline=True, source="card"))
    except (WeightsError, OSError):
        return hub
    checked = _measure_card_file(card, model, at_hand, load=False)
    evaluated = {k: v for k, v in hub.measurements[1].conditions.items() if k.startswith("hub_")}
    evaluated["hub_sha256"] = hub.fetched.sha256
    merged = [dataclasses.replace(m, conditions={**m.conditions, **evaluated}) for m in checked.measurements]
    return WeightsOutcome(merged, loaded=True, fetched=hub.fetched)


_HUB_PROOFS = {
    "lock+hub-lfs-sha256": "the lock file and the Hub's LFS SHA-256",
    "hub-lfs-sha256": "the Hub's LFS SHA-256",
    "lock": "the lock file",
    "hub-cache-name": "its blob name in the Hub cache (the Hub's LFS SHA-256 when it was downloaded)",
}


def _measure_hub_file(card: ModelCard, model: torch.nn.Module, fetched: FetchResult) -> WeightsOutcome:
    """Both measurements for a Hub file: unavailable for the card's claims, loaded for accuracy."""
    hub = fetched.hub
    assert hub is not None
    conditions: dict[str, Scalar] = {
        **_conditions(fetched),
        "hub_repo": hub.repo_id,
        "hub_revision": hub.revision,
        "hub_commit": hub.commit,
        "hub_file": hub.filename,
        "hub_format": hub.format,
        "hub_repo_from": hub.origin,
    }
    if hub.branch_moved_to:
        conditions["hub_revision_now_at"] = hub.branch_moved_to
    proof = _HUB_PROOFS.get(hub.proof, hub.proof)
    claim = card.claim(Metric.WEIGHTS)
    card_file = str(claim.value) if claim is not None else "the card names none"
    reason = (
        f"the card's own file ({card_file}) was not the one checked: the Hub file {hub.describe()} "
        f"(sha256 {hub.sha256[:12]}…, {hub.size} bytes, proven by {proof}) was evaluated instead; "
        f"--weights-source card checks the card's file"
    )
    file_size = Measurement.unavailable(
        Metric.FILE_SIZE.value, reason, value=hub.size, unit="bytes", method=FILE_SIZE_METHOD,
        conditions=dict(conditions), notes=list(fetched.notes),
    )
    method = f"sha256 {hub.sha256[:12]}… proven by {proof}; {hub.format}; exact fit"
    try:
        state = read_state_dict(fetched.path)
        report = load_into(model, state, model_name=card.name, file_name=hub.describe())
    except WeightsError as err:
        weights = Measurement.failed(
            Metric.WEIGHTS.value, str(err), value=hub.sha256, unit="sha256", method=method,
            conditions={**conditions, "error": type(err).__name__},
        )
        return WeightsOutcome([file_size, weights], loaded=False, fetched=fetched)
    weights = Measurement.unavailable(
        Metric.WEIGHTS.value, reason, value=hub.sha256, unit="sha256", method=method,
        conditions={**conditions, "checkpoint": describe_state(state, report)}, notes=list(fetched.notes),
    )
    return WeightsOutcome([file_size, weights], loaded=True, fetched=fetched)


def _conditions(fetched: FetchResult) -> dict[str, Scalar]:
    return {
        "source": fetched.source,
        "file_name": fetched.file_name,
        "url": fetched.url,
        "sha256": fetched.sha256,
        "lock": fetched.lock_status,
        "verified_by": fetched.verified_by,
        "path": str(Path(fetched.path)),
        "torch": torch.__version__,
    }


__all__ = ["WeightsOutcome", "measure_weights"]
