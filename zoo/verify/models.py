"""Measuring one model: build what its card means, then each measurement kind but accuracy.

Accuracy is measured later over every model at once (models sharing a transform share decoded
batches: :mod:`zoo.measure.accuracy`); everything else is measured here, one model at a time,
and the built model is dropped as soon as nothing later needs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from zoo.metrics import MEASUREMENT_KINDS
from zoo.records import Measurement, ModelCard
from zoo.verify.build import BuildError, BuildTarget, build_model, resolve_target

if TYPE_CHECKING:  # the options types live with the measurements that use them
    import torch

    from zoo.measure.throughput.options import BenchOptions
    from zoo.weights.options import FetchOptions

Say = Callable[[str], None]

SHAPE_ONLY_KINDS = frozenset({"config", "params", "flops"})
"""Kinds that need only the model's shapes: with nothing else asked, the model is built on the meta device."""


@dataclass(frozen=True)
class MeasureOptions:
    """The options of the kinds measured here (None: read from the environment when needed)."""

    fetch: Optional["FetchOptions"] = None
    bench: Optional["BenchOptions"] = None


@dataclass
class ModelWork:
    """A model in flight: its card, built module and measurements so far."""

    card: ModelCard
    model: Optional["torch.nn.Module"]
    measurements: list[Measurement] = field(default_factory=list)
    weights_loaded: bool = False
    target: Optional[BuildTarget] = None
    setup: Any = None
    """The card's zoo.measure.setup.EvalSetup, resolved once and passed to every measurement."""


def measure_model(card: ModelCard, kinds: Sequence[str], options: MeasureOptions, say: Say, keep_model: bool = False) -> ModelWork:
    """Build ``card``'s model and make every kind of ``kinds`` but accuracy; the model is kept
    only when ``keep_model`` (accuracy still to come)."""
    from zoo.measure.setup import setup_for_model

    kinds = list(kinds)
    metrics = [metric for kind in kinds for metric in MEASUREMENT_KINDS[kind]]
    try:
        target: Optional[BuildTarget] = resolve_target(card)
    except BuildError:
        target = None  # build_model(card) below says why (or builds what a caller put in its place)
    if target is not None and target.mismatch:  # the name leads only to another architecture: nothing of it is this card's
        say(f"    not judged: {target.mismatch}")
        return ModelWork(card, None, [Measurement.unavailable(metric, target.mismatch) for metric in metrics], target=target)
    meta = target is not None and set(kinds) <= SHAPE_ONLY_KINDS
    try:
        model = build_model(card, target, meta=meta) if target is not None else build_model(card)
    except BuildError as exc:
        say(f"    cannot build: {exc}")
        return ModelWork(card, None, [Measurement.failed(metric, str(exc)) for metric in metrics], target=target)
    alias_path, tag_reason = (target.alias_path, target.tag_reason) if target is not None else ((), "")
    setup = setup_for_model(card, model, alias_path=alias_path, tag_reason=tag_reason)
    work = ModelWork(card, model, target=target, setup=setup)
    timings = []
    for kind in kinds:
        if kind == "accuracy":
            continue
        started = time.perf_counter()
        measured = _measure_kind(kind, work, options)
        if kind == "flops" and meta and target is not None and any(m.status == "error" for m in measured):
            work.model = build_model(card, target)  # some models do not run on the meta device: count on the CPU
            measured = _measure_kind(kind, work, options)
        work.measurements.extend(_with_target(m, target) if target is not None else m for m in measured)
        timings.append(f"{kind} {time.perf_counter() - started:.1f} s")
    if timings:
        say(f"    {', '.join(timings)}")
    if not keep_model:
        work.model = None  # nothing later runs it: free its memory now, not at the end of the run
    return work


def _with_target(measurement: Measurement, target: BuildTarget) -> Measurement:
    """The measurement with what was built for the card (architecture, tag, alias path) in its conditions."""
    conditions = {"built": target.pretrained_name, "tag_reason": target.tag_reason, **measurement.conditions}
    if len(target.alias_path) > 1:
        conditions["alias_path"] = " -> ".join(target.alias_path)
    notes = list(measurement.notes) + [n for n in target.notes if n not in measurement.notes]
    return replace(measurement, conditions=conditions, notes=notes)


def _measure_kind(kind: str, work: ModelWork, options: MeasureOptions) -> list[Measurement]:
    assert work.model is not None
    if kind == "config":
        from zoo.measure.config import measure_config

        return measure_config(work.setup)
    if kind == "params":
        from zoo.measure.params import measure_params

        return [measure_params(work.model)]
    if kind == "flops":
        from zoo.measure.flops import measure_flops

        return [measure_flops(work.card, work.model, work.setup)]
    if kind == "weights":
        from zoo.measure.weights import measure_weights
        from zoo.weights.options import FetchOptions

        outcome = measure_weights(work.card, work.model, options.fetch or FetchOptions.from_env())
        work.weights_loaded = outcome.loaded
        return list(outcome.measurements)
    if kind == "throughput":
        from zoo.measure.throughput.measure import measure_throughput
        from zoo.measure.throughput.options import BenchOptions

        return measure_throughput(work.card, work.model, options.bench or BenchOptions.from_env(), setup=work.setup)
    raise ValueError(f"unknown measurement kind {kind!r}")
