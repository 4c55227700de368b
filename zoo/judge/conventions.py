"""One FLOPs counting convention per collection (or for the whole zoo), fitted and stated.

Choosing, model by model, whichever of many conventions lies closest to the claim overfits:
sibling models "pass" under different conventions by coincidence. So the convention is a
property of the group of models whose figures were made together:

1. every measured FLOPs figure comes with every named convention (:mod:`zoo.measure.flops`:
   counter x1/x2, at the Image Size or the resize size) and its MACs per custom layer type;
2. for the zoo (every model of the run with a FLOPs claim) and for each collection of at least
   :data:`MIN_MODELS` models, the convention that explains the most claims within tolerance is
   fitted: a named one, or, when more claims follow a fixed ratio to the reference counter than
   any named convention, that ratio (the median claim/reference, with its spread);
3. a collection keeps the zoo's convention unless that explains under half of its models and its
   own explains more than half (then its own is stated, as a departure);
4. each model is judged against its collection's convention; one that departs is drift, and the
   verdict says why where it can: the convention with one custom layer type's MACs left out
   (``StdConv2d``, ``Conv2dSame``, ``CondConv2d``: a counter that skipped that layer) comes
   closer to the claim.

A convention may be declared instead of fitted, in ``metadata/tolerances.yml``
(``flops_conventions: {"*": "macs+norm+pool @image", "Some Collection": "2x macs @resize"}``);
the form is ``[K x ]COUNTER @image|@resize``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from zoo.records import Measurement, Metric, ModelCard

MIN_MODELS = 3
"""A scale factor is fitted only over at least this many models; smaller collections use the zoo's."""
REFERENCE_KEY = "macs+norm+pool @image"
_FORM = re.compile(r"^\s*(?:(?P<scale>\d+(?:\.\d+)?)\s*x\s+)?(?P<counter>[a-z+\- ]+?)\s*@(?P<where>image|resize)\s*$")


@dataclass(frozen=True)
class Convention:
    """A counting convention: a named counter at a size, times a scale (1 for a named one)."""

    key: str
    """``COUNTER @image`` or ``COUNTER @resize`` (with ``2x `` in front for doubled counts)."""
    scale: float = 1.0
    scope: str = "the zoo's"
    """Whose it is: "the zoo's", "collection NAME's own", or "declared in FILE:LINE"."""
    models: int = 0
    explained: int = 0
    spread: Optional[tuple[float, float]] = None
    """Interquartile range of claim/reference over the fitted models (for a fitted scale)."""

    def label(self) -> str:
        return f"{self.scale:.4g}x {self.key}" if self.scale != 1.0 else self.key

    def describe(self) -> str:
        if self.scope.startswith("declared"):
            return f"{self.label()} ({self.scope})"
        text = f"{self.label()} ({self.scope}"
        if self.models:
            text += f" convention: explains {self.explained} of {self.models} models"
        if self.spread:
            text += f", claim/reference IQR {self.spread[0]:.3f}-{self.spread[1]:.3f}"
        return text + ")"

    def value(self, measurement: Measurement) -> Optional[float]:
        base = convention_value(measurement, self.key)
        return None if base is None else base * self.scale


def parse_convention(text: str) -> Convention:
    """``"1.283x macs+norm+pool @image"`` -> Convention; ValueError for another form."""
    from zoo.measure.flops import COUNTERS, NO_ATTENTION

    match = _FORM.match(str(text).lower())
    counter = match.group("counter").strip() if match else ""
    doubled = counter.startswith("2x ")
    name = counter[3:].strip() if doubled else counter
    if not match or name not in (*COUNTERS, NO_ATTENTION):
        raise ValueError(f"{text!r} is not [K x ]COUNTER @image|@resize with COUNTER one of {', '.join((*COUNTERS, NO_ATTENTION))}")
    key = f"{'2x ' if doubled else ''}{name} @{match.group('where')}"
    return Convention(key=key, scale=float(match.group("scale") or 1.0))


def convention_key(alternative_name: str) -> str:
    """``"2x macs @256px (resize before crop)"`` -> ``"2x macs @resize"``."""
    head = alternative_name.split(" @", 1)[0]
    return f"{head} @{'resize' if 'resize before crop' in alternative_name else 'image'}"


def convention_value(measurement: Measurement, key: str) -> Optional[float]:
    for alt in measurement.alternatives:
        if convention_key(alt.convention) == key:
            return float(alt.value)
    return None


def layer_macs(measurement: Measurement) -> dict[str, int]:
    """MACs per custom layer type, from a FLOPs measurement's conditions."""
    return {
        k.split(":", 1)[1]: int(v) for k, v in measurement.conditions.items()
        if k.startswith("layer_macs:") and isinstance(v, (int, float))
    }


@dataclass(frozen=True)
class _Sample:
    model: str
    collection: Optional[str]
    claimed: float
    measurement: Measurement


def _within(claimed: float, value: Optional[float], tolerance: float) -> bool:
    """The verdict's own rule (:func:`zoo.judge.compare.judge_claim`): off by at most ``tolerance`` of the claim."""
    return bool(value) and abs(value - claimed) <= tolerance * abs(claimed)  # type: ignore[operator]


def fit(samples: Sequence[_Sample], tolerance: float, scope: str) -> Optional[Convention]:
    """The convention explaining the most samples (named first; a fixed ratio when it explains more)."""
    if not samples:
        return None
    keys = sorted({convention_key(a.convention) for s in samples for a in s.measurement.alternatives})
    scored = []
    for key in keys:
        explained = sum(_within(s.claimed, convention_value(s.measurement, key), tolerance) for s in samples)
        scored.append((explained, key == REFERENCE_KEY, key))
    best_named = max(scored) if scored else (0, False, REFERENCE_KEY)
    named = Convention(best_named[2], 1.0, scope, len(samples), best_named[0])
    ratios = [s.claimed / v for s in samples if (v := convention_value(s.measurement, REFERENCE_KEY))]
    if len(ratios) < MIN_MODELS:
        return named
    scale = statistics.median(ratios)
    explained = sum(_within(r, scale, tolerance) for r in ratios)  # scale x reference vs claim, divided by reference
    if explained <= named.explained:
        return named
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return Convention(REFERENCE_KEY, round(scale, 4), scope, len(samples), explained, (quartiles[0], quartiles[2]))


def _explained(convention: Convention, samples: Iterable[_Sample], tolerance: float) -> int:
    return sum(_within(s.claimed, convention.value(s.measurement), tolerance) for s in samples)


def fit_conventions(
    cards_and_measurements: Iterable[tuple[ModelCard, Sequence[Measurement]]],
    tolerance: float,
    declared: Optional[Mapping[str, Convention]] = None,
) -> dict[str, Convention]:
    """Model name -> the FLOPs convention its claim is judged against (see the module doc)."""
    declared = dict(declared or {})
    samples = []
    for card, measurements in cards_and_measurements:
        claimed = card.number(Metric.FLOPS)
        flops = next((m for m in measurements if m.metric == Metric.FLOPS.value), None)
        if claimed and flops is not None and flops.status == "ok" and flops.alternatives:
            samples.append(_Sample(card.name, card.collection, float(claimed), flops))
    if not samples:
        return {}
    zoo = declared.get("*") or fit(samples, tolerance, "the zoo's")
    assert zoo is not None
    chosen: dict[str, Convention] = {}
    by_collection: dict[Optional[str], list[_Sample]] = {}
    for sample in samples:
        by_collection.setdefault(sample.collection, []).append(sample)
    for collection, members in by_collection.items():
        convention = zoo
        if collection is not None and collection in declared:
            convention = declared[collection]
        elif collection is not None and len(members) >= MIN_MODELS and "*" not in declared:
            own = fit(members, tolerance, f"collection {collection}'s own")
            zoo_here = _explained(zoo, members, tolerance)
            if own is not None and 2 * zoo_here < len(members) < 2 * own.explained and not _skips_explain(zoo, members, tolerance):
                convention = own
        for sample in members:
            chosen[sample.model] = convention
    return chosen


def skipped_layer(convention: Convention, claimed: float, measurement: Measurement, tolerance: float) -> Optional[tuple[str, float]]:
    """(layer type, predicted value) when leaving that type's MACs out brings the convention to the claim.

    "Brings" means within tolerance, or at least half of the way from the full value to the claim.
    """
    full = convention.value(measurement)
    if not full:
        return None
    doubled = 2.0 if convention.key.startswith("2x ") else 1.0
    best = None
    for layer, macs in layer_macs(measurement).items():
        predicted = full - doubled * macs * convention.scale
        if predicted <= 0:
            continue
        gap_full, gap_skip = abs(claimed - full), abs(claimed - predicted)
        if _within(claimed, predicted, tolerance) or gap_skip <= gap_full / 2:
            if best is None or gap_skip < best[2]:
                best = (layer, predicted, gap_skip)
    return (best[0], best[1]) if best else None


def _skips_explain(convention: Convention, members: Sequence[_Sample], tolerance: float) -> bool:
    """Whether the zoo's convention, with one custom layer left out, explains most of a collection."""
    explained = sum(
        _within(s.claimed, convention.value(s.measurement), tolerance)
        or skipped_layer(convention, s.claimed, s.measurement, tolerance) is not None
        for s in members
    )
    return 2 * explained > len(members)
