"""What the history views show of each run, kept small so a year of runs costs little.

The HTML report's runs table and history plots need, of every run but the latest, a row
(run id, times, shard, host, commit, model count, verdict counts) and, per plotted metric,
the value each model's verdict judged (:func:`zoo.views.rows.judged_value`), its unit and
the claim. :class:`RunDigest` holds exactly that; :func:`digest_run` makes it from a
(re-judged) run record. A :class:`History` is the latest run and the one before it in full
(the report shows the first whole and sets the second's timing figures beside it) plus a
digest of every run.

:func:`collect_history` reads run records into a History: the latest two runs in full, the
others as digests, kept in the history cache (:mod:`zoo.runs.cache`) under the SHA-256s of
their records and everything the judging depends on, so a later report reads no historic
record again. The digests it keeps are those :func:`digest_run` makes of the same records
read and judged in full (``tests/test_report_history_scale.py`` holds the two paths equal).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence, Union

from zoo.records import Metric, RunRecord
from zoo.judge.policy import waiver_is_live
from zoo.runs.cache import DerivedCache, canonical, code_fingerprint, key_of
from zoo.runs.history import StoredRun, previous_and_latest
from zoo.views.rows import VERDICT_ORDER, finish_order, judged_value, latest

if TYPE_CHECKING:
    from zoo.judge.policy import Policy

PLOTTED_METRICS = frozenset(
    m.value for m in (Metric.PARAMETERS, Metric.FLOPS, Metric.FILE_SIZE, Metric.TOP1, Metric.TOP5,
                      Metric.THROUGHPUT, Metric.LATENCY_P50, Metric.LATENCY_P90)
)
"""Quantities worth a plot (claims and history); settings such as image size or crop pct are not."""
DIGEST_KIND = "history-digest"


@dataclass(frozen=True)
class RunDigest:
    """One run as the history views show it."""

    run_id: str
    started: str
    finished: str
    shard: str
    """"K/N" of a shard record, the shards of a merged one ("1/5,2/5,..."), else ""."""
    host: str
    commit: str
    """The git commit, first 10 characters."""
    models: int
    counts: dict[str, int]
    """Verdicts by status, every status of :data:`~zoo.views.rows.VERDICT_ORDER` present."""
    names: list[str] = field(default_factory=list)
    """The models with a plotted value, in the run's order."""
    values: dict[str, list[Optional[float]]] = field(default_factory=dict)
    """Metric -> the judged value of each of :attr:`names` (None where it has none)."""
    units: dict[str, str] = field(default_factory=dict)
    """Metric -> the unit of the run's first plotted value of it."""
    claims: dict[str, dict[str, float]] = field(default_factory=dict)
    """Metric -> model -> the claimed number, for models with a plotted value."""


def digest_run(run: RunRecord) -> RunDigest:
    """The digest of ``run`` (already judged as the report shows it)."""
    counts: dict[str, int] = {status: 0 for status in VERDICT_ORDER}
    counts.update(Counter(verdict.status for verdict in run.verdicts()))
    names: list[str] = []
    columns: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    claims: dict[str, dict[str, float]] = {}
    for result in run.models:
        for measurement in result.measurements:
            if measurement.metric not in PLOTTED_METRICS:
                continue
            # The value the verdict judged (the matched FLOPs convention), as every view shows.
            judged = judged_value(result, measurement.metric)
            if not isinstance(judged, (int, float)) or isinstance(judged, bool):
                continue
            name = result.card.name
            if not names or names[-1] != name:
                names.append(name)
            columns.setdefault(measurement.metric, {})[name] = float(judged)
            units.setdefault(measurement.metric, measurement.unit)
            claimed = result.card.number(measurement.metric)
            if claimed is not None:
                claims.setdefault(measurement.metric, {})[name] = claimed
    return RunDigest(
        run_id=run.run_id,
        started=run.started,
        finished=run.finished,
        shard=run.shard or (",".join(run.merge.shards) if run.merge is not None else ""),
        host=run.environment.hostname,
        commit=(run.environment.git_commit or "")[:10],
        models=len(run.models),
        counts=counts,
        names=names,
        values={metric: [column.get(name) for name in names] for metric, column in columns.items()},
        units=units,
        claims=claims,
    )


def _payload(digest: RunDigest) -> dict[str, Any]:
    return {key: getattr(digest, key) for key in RunDigest.__dataclass_fields__}


def _from_payload(payload: Any) -> Optional[RunDigest]:
    """The digest a cache entry holds, or ``None`` when it is not one (then it is made again)."""
    if not isinstance(payload, dict) or set(payload) != set(RunDigest.__dataclass_fields__):
        return None
    try:
        digest = RunDigest(**payload)
    except TypeError:
        return None
    lengths = {len(column) for column in digest.values.values() if isinstance(column, list)}
    if not isinstance(digest.names, list) or lengths - {len(digest.names)} or not isinstance(digest.counts, dict):
        return None
    return digest


@dataclass(frozen=True)
class History:
    """Runs as the reports show them: the latest and the previous run whole, every run digested."""

    current: RunRecord
    previous: Optional[RunRecord]
    runs: list[RunDigest]
    """Every run, the latest included, ordered by start time (then run id)."""

    @property
    def records(self) -> list[RunRecord]:
        """The runs held whole (previous first)."""
        return [run for run in (self.previous, self.current) if run is not None]

    @classmethod
    def of(cls, runs: Sequence[RunRecord]) -> "History":
        """The history of runs held whole in memory."""
        if not runs:
            raise ValueError("a history needs at least one run record")
        ordered = sorted(runs, key=finish_order)
        current = latest(runs)
        previous = ordered[-2] if len(ordered) > 1 else None
        digests = [digest_run(run) for run in sorted(runs, key=lambda r: (r.started, r.run_id))]
        return cls(current=current, previous=previous, runs=digests)


def as_history(runs: Union[Sequence[RunRecord], RunRecord, History]) -> History:
    """``runs`` as a :class:`History` (run records are digested here)."""
    if isinstance(runs, History):
        return runs
    return History.of([runs] if isinstance(runs, RunRecord) else list(runs))


def judging_inputs(policy: "Policy", today: dt.date, **more: Any) -> dict[str, Any]:
    """What a re-judged run depends on besides its records: the policy with the waivers in
    force on ``today`` (an expired waiver changes no verdict, only its explanation), and
    ``more`` (the index, the lock, ...)."""
    live = [waiver for waiver in policy.waivers if waiver_is_live(waiver, today)]
    return canonical({"policy": dataclasses.replace(policy, waivers=tuple(live)), **more})


def collect_history(
    runs: Sequence[StoredRun],
    judge: Callable[[RunRecord], RunRecord],
    judging: Any,
    cache: DerivedCache,
) -> History:
    """The history of the stored ``runs``: the latest two read whole and passed through
    ``judge`` (the report's re-judging), the others digested, from ``cache`` when it holds
    their digest under the same records and ``judging`` (what the judgement depends on:
    tolerances, waivers in force, ...).

    Runs are read one at a time, so memory holds one run beside the latest two.
    """
    previous_run, current_run = previous_and_latest(runs)
    current = judge(current_run.load())
    previous = judge(previous_run.load()) if previous_run is not None else None
    whole = {id(current_run): current, id(previous_run): previous}
    fingerprint = key_of(DIGEST_KIND, judging, code_fingerprint())
    digests = []
    for run in runs:
        record = whole.get(id(run))
        if record is not None:
            digests.append(digest_run(record))
            continue
        key = key_of(fingerprint, run.sha256s)
        digest = _from_payload(cache.get(DIGEST_KIND, key)) if cache.active else None
        if digest is None:
            digest = digest_run(judge(run.load()))
            cache.put(DIGEST_KIND, key, _payload(digest))
        digests.append(digest)
    return History(current=current, previous=previous, runs=digests)


def every_run(runs: Sequence[StoredRun], history: History, judge: Callable[[RunRecord], RunRecord]) -> Iterator[RunRecord]:
    """Every stored run read whole and judged, one at a time, in order (the two ``history``
    holds are not read again): for views that show every run in full (the CSV)."""
    held = {run.run_id: run for run in history.records}
    for run in runs:
        yield held.get(run.header.run_id) or judge(run.load())


__all__ = ["History", "PLOTTED_METRICS", "RunDigest", "as_history", "collect_history", "digest_run", "every_run", "judging_inputs"]
