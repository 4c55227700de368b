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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence, Union

from zoo.metrics import METRICS
from zoo.records import RunRecord
from zoo.judge.policy import waiver_is_live
from zoo.runs.cache import DerivedCache, code_fingerprint, key_of
from zoo.runs.history import StoredRun, previous_and_latest
from zoo.judge.tally import tally
from zoo.views.rows import finish_order, judged_value, latest

if TYPE_CHECKING:
    from zoo.judge.gate import Gate, GateResult

PLOTTED_METRICS = frozenset(m.name for m in METRICS if m.plot)
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
    """Claims by verdict as :func:`zoo.judge.tally.tally` counts them, every status present."""
    names: list[str] = field(default_factory=list)
    """The models with a plotted value, in the run's order."""
    values: dict[str, list[Optional[float]]] = field(default_factory=dict)
    """Metric -> the judged value of each of :attr:`names` (None where it has none)."""
    units: dict[str, str] = field(default_factory=dict)
    """Metric -> the unit of the run's first plotted value of it."""
    claims: dict[str, dict[str, float]] = field(default_factory=dict)
    """Metric -> model -> the claimed number, for models with a plotted value."""
    notes: list[str] = field(default_factory=list)
    """What the judging of the run rested on that a reader should know (:func:`gate_notes`)."""


def digest_run(run: RunRecord, notes: Sequence[str] = ()) -> RunDigest:
    """The digest of ``run`` (already judged as the report shows it), with the judging's ``notes``."""
    counts = dict(tally(run).by_status)  # as every view counts them (claims not asked for apart)
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
        notes=list(notes),
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


class JudgingKeys:
    """The cache key part of everything a verdict re-judged by ``gate`` depends on besides the
    run's own records: the tolerances with the waivers in force on the gate's day (an expired
    waiver changes a verdict, and only a live one can), the zoo data beside the index judged
    against (:meth:`zoo.judge.zoo_data.ZooData.judged_against`: every card file's SHA-256, the
    tolerances file, the FLOPs conventions table and the pinned file it came from, the weights
    lock, the benchmark tables), the index roots, whether stored claims are judged, and zoo's
    own code. A cached verdict is therefore never stale: any of these changing gives a new key.
    Runs judged against the same index and zoo data share one key (computed once)."""

    def __init__(self, gate: "Gate", kind: str) -> None:
        self.gate = gate
        self.kind = kind
        self._known: dict[tuple[int, int], str] = {}

    def of(self, run: RunRecord) -> str:
        """The key part for ``run`` (its header is enough)."""
        index, zoo = self.gate.zoo_for(run)
        memo = (id(index), id(zoo))
        if memo not in self._known:
            live = tuple(waiver for waiver in zoo.policy.waivers if waiver_is_live(waiver, self.gate.today))
            inputs = {
                "policy": dataclasses.replace(zoo.policy, waivers=live),
                "zoo": zoo.judged_against(),
                "pinned": zoo.pinned,
                "index": None if index is None else list(index.roots),
                "stored_claims": self.gate.settings.stored_claims,
            }
            self._known[memo] = key_of(self.kind, inputs, code_fingerprint())
        return self._known[memo]


def collect_history(runs: Sequence[StoredRun], gate: "Gate", cache: DerivedCache) -> History:
    """The history of the stored ``runs``: the latest two read whole and judged by ``gate`` (as
    ``zoo gate`` judges them), the others digested, from ``cache`` when it holds their digest
    under the same records' SHA-256s and judging inputs (:class:`JudgingKeys`).

    Runs are read one at a time, so memory holds one run beside the latest two.
    """
    previous_run, current_run = previous_and_latest(runs)
    current = gate.judge(current_run.load())
    previous = gate.judge(previous_run.load()) if previous_run is not None else None
    whole = {id(current_run): current, id(previous_run): previous}
    keys = JudgingKeys(gate, DIGEST_KIND)
    digests = []
    for run in runs:
        outcome = whole.get(id(run))
        if outcome is not None:
            digests.append(digest_run(outcome.run, gate_notes(outcome)))
            continue
        key = key_of(keys.of(run.header), run.sha256s)
        digest = _from_payload(cache.get(DIGEST_KIND, key)) if cache.active else None
        if digest is None:
            outcome = gate.judge(run.load())
            digest = digest_run(outcome.run, gate_notes(outcome))
            cache.put(DIGEST_KIND, key, _payload(digest))
        digests.append(digest)
    return History(current=current.run, previous=previous.run if previous is not None else None, runs=digests)


def gate_notes(outcome: "GateResult") -> list[str]:
    """What a reader of a re-judged run should know (the gate's notes, the cards changed since)."""
    return outcome.notes + ([f"changed since the run: {', '.join(outcome.changed)}"] if outcome.changed else [])


def every_run(runs: Sequence[StoredRun], history: History, gate: "Gate") -> Iterator[RunRecord]:
    """Every stored run read whole and judged, one at a time, in order (the two ``history``
    holds are not read again): for views that show every run in full (the CSV)."""
    held = {run.run_id: run for run in history.records}
    for run in runs:
        yield held.get(run.header.run_id) or gate.judge(run.load()).run


__all__ = ["History", "PLOTTED_METRICS", "RunDigest", "as_history", "collect_history", "digest_run", "every_run", "JudgingKeys", "gate_notes"]
