"""Measuring one model: build what its card means, then each measurement kind but accuracy.

Accuracy is measured later over every model at once (models sharing a transform share decoded
batches: :mod:`zoo.measure.accuracy`); everything else is measured here, one model at a time,
and the built model is dropped as soon as nothing later needs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from zoo.metrics import MEASUREMENT_KINDS
from zoo.records import Measurement, ModelCard
from zoo.verify.build import BuildError, BuildTarget
from zoo.verify.builders import Builder, builder_for, no_builder_reason

if TYPE_CHECKING:  # the options types live with the measurements that use them
    import torch

    from zoo.measure.setup import EvalSetup
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
    setup: Optional["EvalSetup"] = None
    """The card's evaluation setup, resolved once by its builder and passed to every measurement
    (None only when nothing was built)."""


def measure_model(card: ModelCard, kinds: Sequence[str], options: MeasureOptions, say: Say, keep_model: bool = False) -> ModelWork:
    """Build ``card``'s model with its library's builder and make every kind of ``kinds`` but
    accuracy; the model is kept only when ``keep_model`` (accuracy still to come)."""
    kinds = list(kinds)
    metrics = [metric for kind in kinds for metric in MEASUREMENT_KINDS[kind]]
    builder = builder_for(card)
    if builder is None:  # a library zoo cannot build (mmpretrain, ...): listed and judged unverified, never dropped
        reason = no_builder_reason(card)
        say(f"    not built: {reason}")
        return ModelWork(card, None, [Measurement.unavailable(metric, reason) for metric in metrics])
    try:
        target = builder.target(card)
    except BuildError as exc:
        say(f"    cannot build: {exc}")
        return ModelWork(card, None, [Measurement.failed(metric, str(exc)) for metric in metrics])
    if target.mismatch:  # the name leads only to another architecture: nothing of it is this card's
        say(f"    not judged: {target.mismatch}")
        return ModelWork(card, None, [Measurement.unavailable(metric, target.mismatch) for metric in metrics], target=target)
    meta = set(kinds) <= SHAPE_ONLY_KINDS
    try:
        model = _build(builder, card, target, meta, say)
    except BuildError as exc:
        say(f"    cannot build: {exc}")
        return ModelWork(card, None, [Measurement.failed(metric, str(exc)) for metric in metrics], target=target)
    setup = builder.setup(card, target, model)
    work = ModelWork(card, model, target=target, setup=setup)
    timings = []
    for kind in kinds:
        if kind == "accuracy":
            continue
        started = time.perf_counter()
        measured = _measure_kind(kind, work, setup, options)
        if kind == "flops" and _on_meta(work.model) and any(m.status == "error" for m in measured):
            work.model = builder.build(card, target, meta=False)  # some models do not run on the meta device: count on the CPU
            measured = _measure_kind(kind, work, setup, options)
        work.measurements.extend(_with_setup(m, setup) for m in measured)
        timings.append(f"{kind} {time.perf_counter() - started:.1f} s")
    if timings:
        say(f"    {', '.join(timings)}")
    if not keep_model:
        work.model = None  # nothing later runs it: free its memory now, not at the end of the run
    return work


def _build(builder: Builder, card: ModelCard, target: BuildTarget, meta: bool, say: Say) -> "torch.nn.Module":
    """The model, on the meta device when asked and it can be built there, else on the CPU."""
    if not meta:
        return builder.build(card, target, meta=False)
    try:
        return builder.build(card, target, meta=True)
    except BuildError as exc:  # construction that needs real tensors (torchvision's RegNet computes widths from them)
        say(f"    built on the CPU: {str(exc).rsplit(': ', 1)[-1][:120]}")
        return builder.build(card, target, meta=False)


def _on_meta(model: Optional["torch.nn.Module"]) -> bool:
    return model is not None and any(p.is_meta for p in model.parameters())


def _with_setup(measurement: Measurement, setup: "EvalSetup") -> Measurement:
    """The measurement with what was built for the card (architecture, tag, alias path) in its conditions."""
    conditions = {**setup.built_conditions(), **measurement.conditions}
    notes = list(measurement.notes) + [n for n in setup.notes if n not in measurement.notes]
    return replace(measurement, conditions=conditions, notes=notes)


def _measure_kind(kind: str, work: ModelWork, setup: "EvalSetup", options: MeasureOptions) -> list[Measurement]:
    assert work.model is not None
    if kind == "config":
        from zoo.measure.config import measure_config

        return measure_config(setup)
    if kind == "params":
        from zoo.measure.params import measure_params

        return [measure_params(work.model)]
    if kind == "flops":
        from zoo.measure.flops import measure_flops

        return [measure_flops(work.card, work.model, setup)]
    if kind == "weights":
        from zoo.measure.weights import measure_weights
        from zoo.weights.options import FetchOptions

        outcome = measure_weights(work.card, work.model, options.fetch or FetchOptions.from_env())
        work.weights_loaded = outcome.loaded
        return list(outcome.measurements)
    if kind == "throughput":
        from zoo.measure.throughput.measure import measure_throughput
        from zoo.measure.throughput.options import BenchOptions

        return measure_throughput(work.card, work.model, options.bench or BenchOptions.from_env(), setup)
    raise ValueError(f"unknown measurement kind {kind!r}")
