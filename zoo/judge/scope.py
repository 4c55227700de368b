"""Whether a measurement speaks to a claim at all: the user's own checkpoint, data that is not ImageNet val.

Two rules, each one small function the judge (:func:`zoo.judge.compare.judge`) calls before
comparing numbers:

- :func:`own_checkpoint`: a file given with ``--weights MODEL=PATH`` that is not the card's
  (zoo.measure.weights records why in the weights measurement's ``not_card_file``) says nothing
  about the card's ``Weights`` and ``File Size`` claims, which stay ``unverified`` with that
  reason; accuracy is measured on it and judged, the verdict naming the file.
- :func:`not_claim_data`: an ImageNet top-1/top-5 claim is about the ImageNet validation set.
  Scored on other images (``imagenet_val`` False in the measurement's conditions, see
  :mod:`zoo.measure.accuracy.data.imagenet_val`), the figure is shown with its interval and the
  claim stays ``unverified``, unless ``--population N|all`` said the data is the population
  the claim is about, or a baseline (saved from such a run) paired it.

Records made before these conditions existed carry neither key and are judged as before.
"""

from __future__ import annotations

from typing import Optional

from zoo.weights.results import NO_CARD_FILE
from zoo.records import Claim, Measurement, Metric

OWN_FILE_METRICS = frozenset({Metric.WEIGHTS.value, Metric.FILE_SIZE.value})
"""The claims about the card's own file, which another file cannot prove."""
ACCURACY_METRICS = frozenset({Metric.TOP1.value, Metric.TOP5.value})


def own_checkpoint(weights: Optional[Measurement]) -> Optional[str]:
    """Why the checkpoint measured is the user's own file and not the card's, or None."""
    if weights is None or weights.status != "ok":
        return None
    why = weights.conditions.get("not_card_file")
    if not why:
        return None
    source = str(weights.conditions.get("source") or "")
    path = source.removeprefix("local ") if source.startswith("local ") else "a local file"
    sha = str(weights.value or "")[:12]
    return f"not the card's file: the checkpoint measured is {path} (sha256 {sha}…, given with --weights): {why}"


def checkpoint_note(weights: Optional[Measurement]) -> str:
    """``"; measured with own.pth (--weights), not the card's file"`` for accuracy verdicts, or ""."""
    if own_checkpoint(weights) is None:
        return ""
    assert weights is not None
    source = str(weights.conditions.get("source") or "").removeprefix("local ")
    if weights.conditions.get("not_card_file") == NO_CARD_FILE:
        return f"; measured with {source} (--weights; {NO_CARD_FILE})"
    return f"; measured with {source} (--weights), not the card's file"


def not_claim_data(claim: Claim, measurement: Optional[Measurement]) -> Optional[str]:
    """Why ``measurement`` (top-1/top-5) says nothing about the ImageNet ``claim``, or None."""
    if claim.metric not in ACCURACY_METRICS or measurement is None or measurement.status != "ok":
        return None
    conditions = measurement.conditions
    if conditions.get("imagenet_val") is not False:
        return None
    if conditions.get("population_given") is not None or (measurement.paired is not None and measurement.paired.used):
        return None  # the user said this data is the population the claim is about
    figure = f"{float(measurement.value or 0.0):.2f}%"
    interval = measurement.uncertainty
    if interval is not None:
        figure += f" [{interval.low:.2f}, {interval.high:.2f}] ({interval.kind})"
    images = conditions.get("images")
    data = f"{images:,} images of {conditions.get('dataset')}" if isinstance(images, int) else str(conditions.get("dataset"))
    return (
        f"the data is not ImageNet val ({conditions.get('imagenet_val_evidence') or 'not recognised'}), and the claim "
        f"is about ImageNet val: measured {figure} on {data}; if this data is the population the claim is about, "
        "--population all judges it"
    )


__all__ = ["ACCURACY_METRICS", "NO_CARD_FILE", "OWN_FILE_METRICS", "checkpoint_note", "not_claim_data", "own_checkpoint"]
