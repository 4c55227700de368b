"""Weights and File Size: fetch the card's checkpoint, prove its bytes, load it in place.

Two measurements per model:

- ``file_size``: the byte size of the verified file (unit "bytes"). When a hash proves
  the file's identity (in its name, or pinned in the lock file) its true size is
  reported even if the card claims another, so a wrong File Size shows as drift. When
  nothing but the File Size could prove the bytes, a different size rejects them.
- ``weights``: the file's full SHA-256; ``ok`` only when fetched, verified and loaded
  exactly; ``error`` when it is unsafe or does not fit; ``unavailable`` when it
  cannot be had, or nothing proves which bytes are right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

from zoo.errors import EXIT_BAD_INPUT
from zoo.records import Measurement, Metric, ModelCard, Scalar
from zoo.weights.checkpoint import describe_state, load_into, read_state_dict
from zoo.weights.errors import WeightsError
from zoo.weights.options import FetchOptions
from zoo.weights.sources import FetchResult, WeightsRequest, fetch_request

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
    with a reason. Only a broken lock file (bad input) raises
    :class:`zoo.errors.InputError`.
    """
    try:
        request = WeightsRequest.from_card(card, options)
    except WeightsError as err:  # a Weights URL that cannot name a file in the cache: bad input
        reason = str(err)
        return WeightsOutcome(
            [Measurement.failed(Metric.FILE_SIZE.value, reason), Measurement.failed(Metric.WEIGHTS.value, reason)]
        )
    if request is None:
        reason = f"the card names no weights URL (no Weights field at {card.source})"
        return WeightsOutcome(
            [Measurement.unavailable(Metric.FILE_SIZE.value, reason), Measurement.unavailable(Metric.WEIGHTS.value, reason)]
        )
    try:
        fetched = fetch_request(request, options)
    except (WeightsError, OSError) as err:  # OSError: the disk or folders around the cache
        conditions: dict[str, Scalar] = {"file_name": request.file_name, "url": request.url, "error": type(err).__name__}
        bad_input = getattr(err, "exit_code", None) == EXIT_BAD_INPUT  # the card's fault, not the network's
        make = Measurement.failed if bad_input else Measurement.unavailable
        reason = str(err) if bad_input else f"weights unavailable: {err}"
        return WeightsOutcome(
            [
                make(Metric.FILE_SIZE.value, reason, conditions=dict(conditions)),
                make(Metric.WEIGHTS.value, reason, conditions=dict(conditions)),
            ]
        )

    conditions = _conditions(fetched)
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
    try:
        state = read_state_dict(fetched.path)
        report = load_into(model, state, model_name=card.name, file_name=fetched.file_name)
    except WeightsError as err:
        weights = Measurement.failed(
            Metric.WEIGHTS.value, str(err), value=fetched.sha256, unit="sha256", method=method,
            conditions={**conditions, "error": type(err).__name__},
        )
        return WeightsOutcome([file_size, weights], loaded=False, fetched=fetched)

    conditions = {**conditions, "checkpoint": describe_state(state, report)}
    if fetched.verified_by == "file-size-claim":
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
