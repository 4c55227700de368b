"""A zoo's FLOPs counting convention, fitted over every card of the zoo and stated.

Cards state FLOPs without saying how they were counted. Every measured FLOPs figure comes with
every named convention (:mod:`zoo.measure.flops`: counter x1/x2, at the Image Size or the resize
size) and its MACs per custom layer type. Which convention a zoo's cards follow is a property of
the zoo, not of a run, so it is fitted over every card of the index (never only the models of a
run: a shard, or one model checked alone, would otherwise be judged by another rule), reviewed,
and pinned in ``metadata/flops-conventions.yml`` (:mod:`zoo.judge.conventions_file`). The rules:

1. the zoo's convention is the named one that explains the most claims within the FLOPs
   tolerance, or, over at least :data:`MIN_RATIO_CLAIMS` claims, a fixed ratio to the reference
   counter when that explains more: the ratio that explains the most claims (a mode, not a mean:
   a few cards off by a whole factor must not move it), refined to the median of the claims it
   explains;
2. a collection of at least :data:`MIN_MODELS` models may depart from the zoo's convention only
   to a *named* convention (scale 1), and only when that explains more than half of its claims
   while the zoo's explains fewer than half (and no custom layer left out explains the rest):
   never to a ratio of its own, which would absorb an error made on the whole card;
3. each model is judged against its collection's convention; a departure from it is drift, and
   the verdict says why where it can: the convention with one custom layer type's MACs left out
   (``StdConv2d``, ``Conv2dSame``, ``CondConv2d``: a counter that skipped that layer) comes closer.

A convention may be declared instead (``metadata/tolerances.yml``:
``flops_conventions: {"*": "fvcore @image", "Some Collection": "2x macs @resize"}``); a declared
one wins. The form is ``[K x ]COUNTER @image|@resize``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Optional, Sequence

from zoo.metrics import Metric
from zoo.records import Convention, ConventionTable, Measurement, ModelCard

MIN_MODELS = 3
"""A collection departs from the zoo's convention only with at least this many FLOPs claims."""
MIN_RATIO_CLAIMS = 20
"""A ratio to the reference counter is fitted only zoo-wide, over at least this many claims."""
_FORM = re.compile(r"^\s*(?:(?P<scale>\d+(?:\.\d+)?)\s*x\s+)?(?P<counter>[a-z0-9+\- ]+?)\s*@(?P<where>image|resize)\s*$")


def reference_key() -> str:
    """The reference counter at the image size: what a fitted ratio multiplies."""
    from zoo.measure.flops import REFERENCE

    return f"{REFERENCE} @image"


def parse_convention(text: str) -> Convention:
    """``"1.283x fvcore @image"`` -> Convention; ValueError for another form."""
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


def alternative_value(measurement: Measurement, key: str) -> Optional[float]:
    """The measurement's figure under the named convention ``key`` (None if it was not counted).

    Where the image is not resized before the crop (crop 1.0: ``resize_size`` is None), the
    ``@resize`` count is the ``@image`` count."""
    for alt in measurement.alternatives:
        if convention_key(alt.convention) == key:
            return float(alt.value)
    if key.endswith(" @resize") and measurement.conditions.get("resize_size") is None and "input" in measurement.conditions:
        return alternative_value(measurement, key[: -len("@resize")] + "@image")
    return None


def convention_value(convention: Convention, measurement: Measurement) -> Optional[float]:
    """What ``convention`` predicts the card claims, for this measurement."""
    base = alternative_value(measurement, convention.key)
    return None if base is None else base * convention.scale


def layer_macs(measurement: Measurement) -> dict[str, int]:
    """MACs per custom layer type, from a FLOPs measurement's conditions."""
    return {
        k.split(":", 1)[1]: int(v) for k, v in measurement.conditions.items()
        if k.startswith("layer_macs:") and isinstance(v, (int, float))
    }


@dataclass(frozen=True)
class Sample:
    """One FLOPs claim and its measurement, as the fit sees it."""

    model: str
    collection: Optional[str]
    claimed: float
    measurement: Measurement


def samples_of(pairs: Iterable[tuple[ModelCard, Sequence[Measurement]]]) -> list[Sample]:
    """Every card with a FLOPs claim whose FLOPs were measured with their conventions."""
    found = []
    for card, measurements in pairs:
        claimed = card.number(Metric.FLOPS)
        flops = next((m for m in measurements if m.metric == Metric.FLOPS.value), None)
        if claimed and flops is not None and flops.status == "ok" and flops.alternatives:
            found.append(Sample(card.name, card.collection, float(claimed), flops))
    return found


def _within(claimed: float, value: Optional[float], tolerance: float) -> bool:
    """The verdict's own rule (:func:`zoo.judge.compare.judge_claim`): off by at most ``tolerance`` of the claim."""
    return bool(value) and abs(value - claimed) <= tolerance * abs(claimed)  # type: ignore[operator]


def explains(convention: Convention, sample: Sample, tolerance: float) -> bool:
    return _within(sample.claimed, convention_value(convention, sample.measurement), tolerance)


def _best_named(samples: Sequence[Sample], tolerance: float, scope: str) -> Convention:
    """The named convention explaining the most samples (the reference wins a tie)."""
    reference = reference_key()
    keys = sorted({convention_key(a.convention) for s in samples for a in s.measurement.alternatives})
    scored = []
    for key in keys:
        explained = [s.model for s in samples if _within(s.claimed, alternative_value(s.measurement, key), tolerance)]
        scored.append((len(explained), key == reference, key, explained))
    count, _, key, _ = max(scored) if scored else (0, True, reference, [])
    return Convention(key, 1.0, scope, len(samples), count, models=sorted(s.model for s in samples))


def fit_ratio(ratios: Sequence[float], tolerance: float) -> tuple[float, int]:
    """(scale, how many ratios it explains): the scale explaining the most claims within ``tolerance``.

    A claim of ratio ``r`` (claim / reference) is explained by scale ``c`` when
    ``|c - r| <= tolerance * r``. The scale counting the most is a mode of the ratios: a group of
    cards off by a common factor moves it only when it outnumbers the rest. Of the scales that
    explain the most, the median of the ratios they explain is taken when it explains as many,
    else the middle of the best window. Hand-written: it is a one-dimensional interval count, and
    no library states "the window of relative width 2 x tolerance holding the most points".
    """
    if not ratios:
        return 1.0, 0
    # Each ratio explains the scales in [r (1 - t), r (1 + t)]; the best scale lies at an interval's start.
    starts = sorted(r * (1 - tolerance) for r in ratios)
    best_count, best_start = 0, starts[0]
    for start in starts:
        count = sum(1 for r in ratios if r * (1 - tolerance) <= start <= r * (1 + tolerance))
        if count > best_count:
            best_count, best_start = count, start
    members = [r for r in ratios if r * (1 - tolerance) <= best_start <= r * (1 + tolerance)]
    median = statistics.median(members)
    count = sum(1 for r in ratios if abs(median - r) <= tolerance * r)
    if count >= best_count:
        return median, count
    end = min(r * (1 + tolerance) for r in members)
    middle = (best_start + end) / 2
    return middle, sum(1 for r in ratios if abs(middle - r) <= tolerance * r)


def fit_zoo(samples: Sequence[Sample], tolerance: float) -> Optional[Convention]:
    """The zoo's convention over every sample (see the module doc, rule 1)."""
    if not samples:
        return None
    named = _best_named(samples, tolerance, "the zoo's")
    reference = reference_key()
    ratios = [s.claimed / v for s in samples if (v := alternative_value(s.measurement, reference))]
    if len(ratios) < MIN_RATIO_CLAIMS:
        return named
    scale, explained = fit_ratio(ratios, tolerance)
    if explained <= named.explained:
        return named
    inside = sorted(r for r in ratios if abs(scale - r) <= tolerance * r)
    quartiles = statistics.quantiles(inside, n=4) if len(inside) > 1 else [inside[0]] * 3
    return Convention(
        reference, round(scale, 4), "the zoo's", len(samples), explained, (round(quartiles[0], 4), round(quartiles[2], 4)),
        models=sorted(s.model for s in samples),
    )


def fit_collection(collection: str, members: Sequence[Sample], zoo: Convention, tolerance: float) -> Optional[Convention]:
    """A named convention the collection departs to, or None when it keeps the zoo's (rule 2)."""
    if len(members) < MIN_MODELS:
        return None
    zoo_here = sum(explains(zoo, s, tolerance) for s in members)
    own = _best_named(members, tolerance, f"collection {collection}'s")
    if own.key == zoo.key and own.scale == zoo.scale:
        return None
    if 2 * zoo_here < len(members) < 2 * own.explained and not _skips_explain(zoo, members, tolerance):
        return replace(own, zoo_explained=zoo_here)
    return None


def fit_table(
    samples: Sequence[Sample], tolerance: float, declared: Optional[Mapping[str, Convention]] = None, source: str = ""
) -> ConventionTable:
    """The zoo's conventions fitted over ``samples`` (every FLOPs claim of the index); declared ones win."""
    declared = dict(declared or {})
    zoo = declared.get("*") or fit_zoo(samples, tolerance)
    collections: dict[str, Convention] = {name: c for name, c in declared.items() if name != "*"}
    if zoo is not None:
        by_collection: dict[str, list[Sample]] = {}
        for sample in samples:
            if sample.collection is not None:
                by_collection.setdefault(sample.collection, []).append(sample)
        for name, members in sorted(by_collection.items()):
            if name in collections:
                continue
            departure = fit_collection(name, members, zoo, tolerance)
            if departure is not None:
                collections[name] = departure
    return ConventionTable(zoo=zoo, collections=collections, source=source, tolerance=tolerance)


def with_declared(table: ConventionTable, declared: Mapping[str, Convention]) -> ConventionTable:
    """``table`` with the conventions declared in the tolerances file in place of its own."""
    if not declared:
        return table
    collections = {**table.collections, **{k: v for k, v in declared.items() if k != "*"}}
    return replace(table, zoo=declared.get("*") or table.zoo, collections=collections)


def skipped_layer(convention: Convention, claimed: float, measurement: Measurement, tolerance: float) -> Optional[tuple[str, float]]:
    """(layer type, predicted value) when leaving that type's MACs out brings the convention to the claim.

    "Brings" means within tolerance, or at least half of the way from the full value to the claim.
    """
    full = convention_value(convention, measurement)
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


def _skips_explain(convention: Convention, members: Sequence[Sample], tolerance: float) -> bool:
    """Whether the zoo's convention, as it is or with one custom layer type's MACs left out, explains
    (within tolerance, the verdict's own rule) most of a collection: then the collection's counter
    skipped a layer, and its claims are judged (and drift) under the zoo's convention."""

    def explained(sample: Sample) -> bool:
        if explains(convention, sample, tolerance):
            return True
        full = convention_value(convention, sample.measurement)
        doubled = 2.0 if convention.key.startswith("2x ") else 1.0
        return bool(full) and any(
            _within(sample.claimed, full - doubled * macs * convention.scale, tolerance)  # type: ignore[operator]
            for macs in layer_macs(sample.measurement).values()
        )

    return 2 * sum(explained(s) for s in members) > len(members)
