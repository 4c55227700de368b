"""The verify pipeline: cards -> measurements -> verdicts -> one run record.

Per model: build, timm config, params, FLOPs, weights (fetch, verify, load), throughput;
then accuracy over every model whose weights loaded (models sharing a transform share
decoded batches); then judging; then the run record is published atomically. A view never
measures: the terminal table, reports and the gate all read the record this returns.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

import torch

from zoo import progress
from zoo.verify.build import BuildError, BuildTarget, build_model, resolve_target
from zoo.judge.compare import judge
from zoo.judge.conventions import fit_conventions
from zoo.measure.allocator import describe as describe_allocator
from zoo.runs.environment import fingerprint
from zoo.judge.policy import Policy
from zoo.records import MEASUREMENT_KINDS, Measurement, ModelCard, ModelResult, RunRecord, Scalar
from zoo.runs.store import new_run_id, publish, staging

if TYPE_CHECKING:  # the options types live with the measurements that use them
    from zoo.measure.throughput.options import BenchOptions
    from zoo.measure.accuracy.options import EvalOptions
    from zoo.weights.options import FetchOptions

Say = Callable[[str], None]


@dataclass(frozen=True)
class VerifyRequest:
    """Everything one run needs; the CLI builds it from options, Python users directly."""

    cards: Sequence[ModelCard]
    kinds: Sequence[str]
    """Measurement kinds in run order (see zoo.records.MEASUREMENT_KINDS)."""
    policy: Policy
    results: Optional[Path]
    """Where the run record goes; None keeps it in memory only."""
    index_paths: Sequence[str] = ()
    fetch: Optional["FetchOptions"] = None
    evaluation: Optional["EvalOptions"] = None
    bench: Optional["BenchOptions"] = None
    shard: Optional[str] = None
    reference_tables: Sequence[Any] = ()
    """Published throughput tables (zoo.index.reference.ReferenceTable) to compare with."""
    options: Mapping[str, Scalar] = field(default_factory=dict)
    """The options as given, for the record."""
    today: Optional[dt.date] = None


@dataclass
class _Work:
    """A model in flight: its card, built module and measurements so far."""

    card: ModelCard
    model: Optional[torch.nn.Module]
    measurements: list[Measurement] = field(default_factory=list)
    weights_loaded: bool = False
    target: Optional[BuildTarget] = None
    setup: Any = None
    """The card's zoo.measure.setup.EvalSetup, resolved once and passed to every measurement."""


def is_main_process() -> bool:
    """False on the non-zero ranks of a torchrun launch (they do not write records)."""
    return int(os.environ.get("RANK", "0")) == 0


def run_verify(request: VerifyRequest, say: Say = progress.note) -> tuple[RunRecord, Optional[Path]]:
    """Measure and judge every card; returns the record and where it was written."""
    started = _now()
    run_id = new_run_id()
    environment = fingerprint(allocator=describe_allocator())
    writing = request.results is not None and is_main_process()
    if not writing:
        record = _measure_and_record(request, run_id, started, environment, None, say)
        return record, None
    assert request.results is not None
    with staging(request.results, run_id) as folder:
        record = _measure_and_record(request, run_id, started, environment, folder, say)
        path = publish(record, folder)
    return record, path


def _measure_and_record(request: VerifyRequest, run_id: str, started: str, environment, folder: Optional[Path], say: Say) -> RunRecord:
    kinds = list(request.kinds)
    works = []
    total = len(request.cards)
    for number, card in enumerate(request.cards, 1):
        say(f"[{number}/{total}] {card.name}")
        works.append(_measure_model(card, kinds, request, say))
    artifacts: dict[str, str] = {}
    if "accuracy" in kinds:
        artifacts.update(_measure_accuracy(works, request, folder, say))
    results = []
    conventions = fit_conventions(
        [(w.card, w.measurements) for w in works], request.policy.tolerance("flops").relative or 0.02, request.policy.flops_conventions
    )
    for work in works:
        verdicts = judge(work.card, work.measurements, request.policy, request.today, conventions=conventions)
        results.append(ModelResult(card=work.card, measurements=work.measurements, verdicts=verdicts))
    return RunRecord(
        run_id=run_id,
        started=started,
        finished=_now(),
        environment=environment,
        index=list(request.index_paths),
        measurements_requested=kinds,
        options=dict(request.options),
        models=results,
        shard=request.shard,
        artifacts=artifacts,
    )


SHAPE_ONLY_KINDS = frozenset({"config", "params", "flops"})
"""Kinds that need only the model's shapes: with nothing else asked, the model is built on the meta device."""


def _measure_model(card: ModelCard, kinds: list[str], request: VerifyRequest, say: Say) -> _Work:
    from zoo.measure.setup import setup_for_model

    metrics = [metric for kind in kinds for metric in MEASUREMENT_KINDS[kind]]
    try:
        target: Optional[BuildTarget] = resolve_target(card)
    except BuildError:
        target = None  # build_model(card) below says why (or builds what a caller put in its place)
    if target is not None and target.mismatch:  # the name leads only to another architecture: nothing of it is this card's
        say(f"    not judged: {target.mismatch}")
        return _Work(card, None, [Measurement.unavailable(metric, target.mismatch) for metric in metrics], target=target)
    meta = target is not None and set(kinds) <= SHAPE_ONLY_KINDS
    try:
        model = build_model(card, target, meta=meta) if target is not None else build_model(card)
    except BuildError as exc:
        say(f"    cannot build: {exc}")
        return _Work(card, None, [Measurement.failed(metric, str(exc)) for metric in metrics], target=target)
    alias_path, tag_reason = (target.alias_path, target.tag_reason) if target is not None else ((), "")
    setup = setup_for_model(card, model, alias_path=alias_path, tag_reason=tag_reason)
    work = _Work(card, model, target=target, setup=setup)
    timings = []
    for kind in kinds:
        if kind == "accuracy":
            continue
        started = time.perf_counter()
        measured = _measure_kind(kind, work, request)
        if kind == "flops" and meta and target is not None and any(m.status == "error" for m in measured):
            work.model = build_model(card, target)  # some models do not run on the meta device: count on the CPU
            measured = _measure_kind(kind, work, request)
        work.measurements.extend(_with_target(m, target) if target is not None else m for m in measured)
        timings.append(f"{kind} {time.perf_counter() - started:.1f} s")
    if timings:
        say(f"    {', '.join(timings)}")
    if "accuracy" not in kinds:
        work.model = None  # nothing later runs it: free its memory now, not at the end of the run
    return work


def _with_target(measurement: Measurement, target: BuildTarget) -> Measurement:
    """The measurement with what was built for the card (architecture, tag, alias path) in its conditions."""
    from dataclasses import replace

    conditions = {"built": target.pretrained_name, "tag_reason": target.tag_reason, **measurement.conditions}
    if len(target.alias_path) > 1:
        conditions["alias_path"] = " -> ".join(target.alias_path)
    notes = list(measurement.notes) + [n for n in target.notes if n not in measurement.notes]
    return replace(measurement, conditions=conditions, notes=notes)


def _measure_kind(kind: str, work: _Work, request: VerifyRequest) -> list[Measurement]:
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

        outcome = measure_weights(work.card, work.model, request.fetch or FetchOptions.from_env())
        work.weights_loaded = outcome.loaded
        return list(outcome.measurements)
    if kind == "throughput":
        from zoo.measure.throughput.options import BenchOptions
        from zoo.index.reference import attach_reference
        from zoo.measure.throughput.measure import measure_throughput

        measured = measure_throughput(work.card, work.model, request.bench or BenchOptions.from_env(), setup=work.setup)
        throughput = next((m for m in measured if m.metric == "throughput" and m.status == "ok"), None)
        if throughput is not None:  # a published figure for this device becomes a claim
            work.card = attach_reference(work.card, throughput, request.reference_tables)
        return measured
    raise ValueError(f"unknown measurement kind {kind!r}")


def _measure_accuracy(works: list[_Work], request: VerifyRequest, folder: Optional[Path], say: Say) -> dict[str, str]:
    from zoo.measure.accuracy.options import EvalOptions
    from zoo.measure.accuracy.measure import AccuracyEntry, measure_accuracy

    ready = [w for w in works if w.model is not None and w.weights_loaded]
    for work in works:
        if work.model is not None and not work.weights_loaded:
            reason = _weights_reason(work)
            work.measurements.extend(Measurement.unavailable(m, f"weights not loaded ({reason})") for m in MEASUREMENT_KINDS["accuracy"])
    if not ready:
        return {}
    say(f"accuracy: {len(ready)} model(s)")
    started = time.perf_counter()
    outcome = measure_accuracy(
        [AccuracyEntry(card=w.card, model=w.model, checkpoint_sha256=_checkpoint_sha256(w), setup=w.setup) for w in ready if w.model is not None],
        request.evaluation or EvalOptions.from_env(),
        folder,
    )
    for work in ready:
        work.measurements.extend(outcome.measurements.get(work.card.name, []))
    say(f"accuracy: {time.perf_counter() - started:.1f} s")
    return dict(outcome.artifacts)


def _checkpoint_sha256(work: _Work) -> Optional[str]:
    """The SHA-256 of the checkpoint the model holds (the Hub file where it was loaded), to match a baseline."""
    from zoo.runs.baselines import loaded_checkpoint

    return loaded_checkpoint(work.measurements)


def _weights_reason(work: _Work) -> str:
    weights = next((m for m in work.measurements if m.metric == "weights"), None)
    if weights is None:
        return "weights were not measured"
    return (weights.reason or "the checkpoint did not load").split(". ", 1)[0]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
