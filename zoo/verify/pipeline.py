"""The verify pipeline: cards -> measurements -> verdicts -> one run record.

Per model (:mod:`zoo.verify.models`): build, timm config, params, FLOPs, weights (fetch,
verify, load), throughput; then accuracy over every model whose weights loaded (models sharing
a transform share decoded batches); then every model is judged on its own against the zoo's
data (:func:`zoo.judge.verdicts.judge_models`); then the run record, naming that zoo data, is
published atomically. A view never
measures: the terminal table, reports and the gate all read the record this returns.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

from zoo import progress
from zoo.judge.conventions import with_declared
from zoo.judge.conventions_file import pin_hint
from zoo.judge.policy import Policy
from zoo.judge.verdicts import judge_models
from zoo.judge.zoo_data import ZooData
from zoo.measure.allocator import describe as describe_allocator
from zoo.metrics import MEASUREMENT_KINDS
from zoo.records import ConventionTable, Measurement, ModelCard, RunRecord, Scalar
from zoo.runs.environment import fingerprint
from zoo.runs.store import new_run_id, publish, staging
from zoo.verify.models import MeasureOptions, ModelWork, measure_model

if TYPE_CHECKING:  # the options types live with the measurements that use them
    from zoo.verify.changed import CarryPlan
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
    """Published throughput tables (zoo.index.reference.ReferenceTable) to compare with, when ``zoo`` is not given."""
    options: Mapping[str, Scalar] = field(default_factory=dict)
    """The options as given, for the record."""
    today: Optional[dt.date] = None
    zoo: Optional[ZooData] = None
    """The zoo data verdicts are judged against (:func:`zoo.judge.zoo_data.load_zoo_data`); its
    policy is replaced by ``policy``. None: ``policy`` and ``reference_tables`` alone."""
    index_cards: Sequence[ModelCard] = ()
    """Every card of the index: what the FLOPs conventions are fitted over when none is pinned
    (empty: ``cards``)."""
    carried: Optional["CarryPlan"] = None
    """A ``--changed-since`` run: the models carried over from the last full run, judged with
    those measured (:mod:`zoo.verify.changed`); ``cards`` are the models to measure."""


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
    options = MeasureOptions(fetch=request.fetch, bench=request.bench)
    for number, card in enumerate(request.cards, 1):
        say(f"[{number}/{total}] {card.name}")
        works.append(measure_model(card, kinds, options, say, keep_model="accuracy" in kinds))
    artifacts: dict[str, str] = {}
    if "accuracy" in kinds:
        artifacts.update(_measure_accuracy(works, request, folder, say))
    if request.carried is not None:
        works = request.carried.combine(works)
    zoo = zoo_data_of(request, works, say)
    results = judge_models(((w.card, w.measurements) for w in works), zoo, request.today)
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
        judged_against=zoo.judged_against(),
        carried=request.carried.info if request.carried is not None else None,
    )


def zoo_data_of(request: VerifyRequest, works: Sequence[ModelWork], say: Say) -> ZooData:
    """The request's zoo data, with the FLOPs conventions fitted over every card of the index
    when none is pinned (the run's own FLOPs measurements reused)."""
    zoo = replace(request.zoo, policy=request.policy) if request.zoo is not None else ZooData(
        policy=request.policy, reference_tables=request.reference_tables,
        conventions=with_declared(ConventionTable(), request.policy.flops_conventions),
        pinned=bool(request.policy.flops_conventions.get("*")),
    )
    if zoo.pinned or "flops" not in request.kinds or not any(card.number("flops") for card in (request.index_cards or request.cards)):
        return zoo
    from zoo.verify.fit import fit_index

    cards = list(request.index_cards or request.cards)
    label = ", ".join(request.index_paths) or "the request"
    known = {w.card.name: w.measurements for w in works}
    table = fit_index(cards, request.policy, label, known)
    say(f"zoo: no pinned FLOPs conventions: {table.source}; {pin_hint(list(request.index_paths))}")
    return replace(zoo, conventions=table)


def _measure_accuracy(works: list[ModelWork], request: VerifyRequest, folder: Optional[Path], say: Say) -> dict[str, str]:
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
        [AccuracyEntry(card=w.card, model=w.model, setup=w.setup, checkpoint_sha256=_checkpoint_sha256(w)) for w in ready if w.model is not None and w.setup is not None],
        request.evaluation or EvalOptions.from_env(),
        folder,
    )
    for work in ready:
        work.measurements.extend(outcome.measurements.get(work.card.name, []))
    say(f"accuracy: {time.perf_counter() - started:.1f} s")
    return dict(outcome.artifacts)


def _checkpoint_sha256(work: ModelWork) -> Optional[str]:
    """The SHA-256 of the checkpoint the model holds (the Hub file where it was loaded), to match a baseline."""
    from zoo.runs.baselines import loaded_checkpoint

    return loaded_checkpoint(work.measurements)


def _weights_reason(work: ModelWork) -> str:
    weights = next((m for m in work.measurements if m.metric == "weights"), None)
    if weights is None:
        return "weights were not measured"
    return (weights.reason or "the checkpoint did not load").split(". ", 1)[0]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
