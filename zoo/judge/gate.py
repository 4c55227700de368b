"""The gate: re-judge stored measurements against the current claims and zoo data.

Nothing is measured. Each model of a run record is looked up in the index (by default the one
the run was made from, as it is now; or, with ``index=None``, the card stored in the record),
and its stored measurements are judged by the one judge (:func:`zoo.judge.verdicts.judge_models`)
against the current tolerances, waivers, gating metrics, pinned FLOPs conventions (else the ones
the run used) and lock. The result is a new run record whose exit code follows design.md:
1 drift, 2 bad input, 3 incomplete, 0 otherwise. ``zoo report`` shows what this judges.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

from zoo.errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, InputError
from zoo.index import Index
from zoo.judge.conventions import with_declared
from zoo.judge.exit_codes import exit_code, worst_code
from zoo.judge.policy import Policy
from zoo.judge.verdicts import judge_models
from zoo.judge.zoo_data import ZooData
from zoo.metrics import MEASUREMENT_KINDS, metrics_of
from zoo.records import GateInfo, Measurement, RunRecord, Verdict

if TYPE_CHECKING:
    from zoo.weights.lockfile import WeightsLock

CAUSES: dict[str, str] = {
    "drift": "the claim is off: fix the card or waive it",
    "incomplete": "a requested measurement could not be made or could not decide (download, data, memory, "
    "too few images): the claim is not judged; fix the setup and re-run",
    "error": "the input is bad (model, checkpoint or card): fix the input",
}


def requested_metrics(run: RunRecord) -> set[str]:
    """The metrics the run asked for (its measurement kinds, or metric names as given)."""
    kinds = [k for k in run.measurements_requested if k in MEASUREMENT_KINDS]
    others = {k for k in run.measurements_requested if k not in MEASUREMENT_KINDS}
    return metrics_of(kinds) | others


def missing_shards(run: RunRecord) -> list[str]:
    """Shards a merged record should hold but does not (see :mod:`zoo.runs.merge`)."""
    return list(run.merge.missing) if run.merge is not None else []


def unclaimed_failures(run: RunRecord) -> list[tuple[str, Measurement]]:
    """(model, measurement) for each requested measurement that failed or could not be made
    and that no claim of the model judges (a failed download on a card with no File Size)."""
    requested = requested_metrics(run)
    found = []
    for result in run.models:
        judged = {v.metric for v in result.verdicts}
        found += [
            (result.card.name, m) for m in result.measurements
            if m.status != "ok" and m.metric in requested and m.metric not in judged
        ]
    return found


def run_exit_code(run: RunRecord) -> int:
    """The exit code of the verdicts stored in ``run``, and of requested measurements no claim
    judges; a merge missing shards is incomplete."""
    missing = EXIT_INCOMPLETE if missing_shards(run) else EXIT_OK
    unclaimed = [m for _, m in unclaimed_failures(run)]
    return worst_code([exit_code(run.verdicts(), requested_metrics(run), unclaimed), missing])


@dataclass(frozen=True)
class GateResult:
    """A re-judged run and what the gate makes of it."""

    run: RunRecord
    code: int
    dropped: list[str] = field(default_factory=list)
    """Models of the run that are no longer in the index (not judged)."""
    changed: list[str] = field(default_factory=list)
    """Index files whose content changed since the run (the verdicts judge the claims as they are now)."""
    notes: list[str] = field(default_factory=list)
    """What the judging rested on that a reader should know (e.g. conventions that are not pinned)."""
    index_read: bool = True
    """Whether the cards came from an index (else from the run's stored claims)."""

    def by_cause(self) -> dict[str, list[Verdict]]:
        """Verdicts that keep the gate from passing, by the cause a user must treat.

        ``drift`` holds only gating drifts; ``incomplete`` only measurements that were asked
        for and could not be made.
        """
        requested = requested_metrics(self.run)
        verdicts = self.run.verdicts()
        return {
            "drift": [v for v in verdicts if v.status == "drift" and v.gating],
            "incomplete": [v for v in verdicts if v.status == "unverified" and v.metric in requested],
            "error": [v for v in verdicts if v.status == "error"],
        }

    def reported_drifts(self) -> list[Verdict]:
        """Drifts of metrics that do not gate: shown, but they do not fail the gate."""
        return [v for v in self.run.verdicts() if v.status == "drift" and not v.gating]


def run_index(run: RunRecord) -> Index:
    """The index a run was judged against, as it is now (its roots as the run recorded them)."""
    from zoo.index import load_index
    from zoo.index.loader import is_index_form

    roots = [root.rstrip("/") for root in run.index]
    missing = [root for root in roots if not is_index_form(root) and not Path(root).exists()]
    if not roots or missing:
        what = f"its index {', '.join(missing)} does not exist here" if missing else "it names no index"
        raise InputError(
            f"run {run.run_id}: {what}",
            hint="pass --index PATH to judge it against another index, or --stored-claims to judge the claims stored in the run",
        )
    return load_index(roots)


def changed_cards(run: RunRecord, index: Index) -> list[str]:
    """Index files whose content differs from what the run was judged against (added or removed too)."""
    if run.judged_against is None:
        return []
    then = {d.path: d.sha256 for d in run.judged_against.cards}
    now = {d.path: d.sha256 for d in index.digests}
    changed = [path for path in now if path in then and now[path] != then[path]]
    added = [f"{path} (new)" for path in now if path not in then]
    removed = [f"{path} (gone)" for path in then if path not in now]
    return changed + added + removed


def conventions_for(run: RunRecord, zoo: ZooData) -> tuple[ZooData, Optional[str]]:
    """``zoo`` with the FLOPs conventions to judge ``run`` by, and a note when they are not pinned.

    Pinned conventions are used as they are. Without them, the table the run fitted over its
    whole index at measuring time (stored in the record) is used, so the gate judges as verify
    did; a record older than schema 3 stores none, and they are fitted over its own models."""
    if zoo.pinned:
        return zoo, None
    stored = run.judged_against.conventions if run.judged_against is not None else None
    if stored is not None and (stored.zoo is not None or stored.collections):
        table = with_declared(stored, zoo.policy.flops_conventions)
        return replace(zoo, conventions=table), f"FLOPs conventions: none pinned; those the run used ({stored.source})"
    from zoo.judge.conventions import fit_table, samples_of

    # A record older than schema 3: only its own measurements are at hand here (the gate measures
    # nothing), so the table is fitted over them, and the note says so.
    tolerance = zoo.policy.tolerance("flops").relative or 0.02
    samples = samples_of((result.card, result.measurements) for result in run.models)
    source = f"fitted over the {len(samples)} FLOPs claims of run {run.run_id} (a record older than schema 3 stores no conventions)"
    table = fit_table(samples, tolerance, zoo.policy.flops_conventions, source=source)
    return replace(zoo, conventions=table), f"FLOPs conventions: none pinned; {source}; pin them to judge it as today's runs are"


def rejudge(
    run: RunRecord, zoo: Union[ZooData, Policy], *, index: Optional[Index] = None, today: Optional[dt.date] = None,
    lock: Optional["WeightsLock"] = None,
) -> GateResult:
    """Judge the stored measurements of ``run`` again against ``zoo`` and ``index``.

    With ``index=None`` the cards stored in the run are used (the claims as they were).
    """
    today = today or dt.date.today()
    zoo = zoo if isinstance(zoo, ZooData) else ZooData(policy=zoo)
    if lock is not None:
        zoo = replace(zoo, lock=lock)
    known = {card.name: card for card in index.models} if index is not None else {}
    dropped: list[str] = []
    pairs = []
    for result in run.models:
        card = result.card
        if index is not None:
            if card.name not in known:
                dropped.append(card.name)
                continue
            card = known[card.name]
        pairs.append((card, result.measurements))
    problems = [str(p) for p in index.problems] if index is not None else []  # bad input outside any one card
    if run.models and not pairs:
        raise InputError(
            f"run {run.run_id}: none of its models ({', '.join(dropped)}) is in the index"
            + (f"; the index could not all be read: {'; '.join(problems)}" if problems else ""),
            hint="pass the --index the run was made from, or --stored-claims to judge the claims stored in the run",
        )
    zoo, note = conventions_for(run, zoo)
    models = judge_models(pairs, zoo, today)
    if index is not None:
        zoo = replace(zoo, cards=list(index.digests))
    elif run.judged_against is not None:
        zoo = replace(zoo, cards=list(run.judged_against.cards))
    gate = GateInfo(gate_metrics=sorted(zoo.policy.gate_metrics), judged_on=today.isoformat())
    roots = list(index.roots) if index is not None else list(run.index)
    rejudged = replace(run, models=models, gate=gate, judged_against=zoo.judged_against(), index=roots)
    changed = changed_cards(run, index) if index is not None else []
    return GateResult(
        run=rejudged, code=worst_code([run_exit_code(rejudged), EXIT_BAD_INPUT if problems else EXIT_OK]), dropped=dropped,
        changed=changed, notes=([note] if note else []) + [f"bad input in the index: {p}" for p in problems],
        index_read=index is not None,
    )


def gate_runs(
    runs: Sequence[RunRecord], zoo: Union[ZooData, Policy], *, index: Optional[Index] = None, today: Optional[dt.date] = None,
    lock: Optional["WeightsLock"] = None,
) -> list[GateResult]:
    """:func:`rejudge` for each run; the gate's exit code is the worst by :func:`worst_code`."""
    return [rejudge(run, zoo, index=index, today=today, lock=lock) for run in runs]


@dataclass(frozen=True)
class GateSettings:
    """How ``zoo gate`` and ``zoo report`` re-judge runs: the same defaults for both."""

    index_paths: Sequence[str] = ()
    """Judge against this index instead of each run's own."""
    stored_claims: bool = False
    """Judge the claims stored in each run (no index is read)."""
    tolerances: Optional[str] = None
    gate_metrics: Optional[Sequence[str]] = None
    conventions: Optional[str] = None
    today: Optional[dt.date] = None


class Gate:
    """Re-judges runs as ``zoo gate`` does under one :class:`GateSettings`: the tolerances are read
    once, and each index with the zoo data beside it once (runs of one index share them)."""

    def __init__(self, settings: GateSettings = GateSettings()) -> None:
        from zoo.index import load_index
        from zoo.judge.policy import load_policy

        self.settings = settings
        self.today = settings.today or dt.date.today()
        policy = load_policy(settings.tolerances)
        if settings.gate_metrics is not None:
            policy = policy.with_gate_metrics(settings.gate_metrics)
        self.policy = policy
        self._given = load_index(settings.index_paths) if settings.index_paths and not settings.stored_claims else None
        self._indexes: dict[tuple[str, ...], Index] = {}
        self._zoos: dict[tuple, ZooData] = {}

    def zoo_for(self, run: RunRecord) -> tuple[Optional[Index], ZooData]:
        """The index (``None``: the run's stored claims) and zoo data ``run`` is judged against.
        Only the run's header is looked at (its index, options and ``judged_against``)."""
        from zoo.judge.zoo_data import load_zoo_data

        index: Optional[Index] = self._given
        if index is None and not self.settings.stored_claims:
            key = tuple(run.index)
            if key not in self._indexes:
                self._indexes[key] = run_index(run)
            index = self._indexes[key]
        roots = tuple(index.roots if index is not None else run.index)
        tables = run.options.get("reference_tables")
        stored = tuple(run.judged_against.cards) if index is None and run.judged_against else ()
        zoo_key = (roots, tables, stored)
        if zoo_key not in self._zoos:
            digests = index.digests if index is not None else list(stored)
            self._zoos[zoo_key] = load_zoo_data(
                roots, digests, conventions=self.settings.conventions, tables=str(tables) if tables else None,
                policy=self.policy,
            )
        return index, self._zoos[zoo_key]

    def judge(self, run: RunRecord) -> GateResult:
        """:func:`rejudge` of ``run`` against its index and zoo data (:meth:`zoo_for`)."""
        index, zoo = self.zoo_for(run)
        return rejudge(run, zoo, index=index, today=self.today)


def gate_records(runs: Sequence[RunRecord], settings: GateSettings = GateSettings()) -> list[GateResult]:
    """Re-judge each run as ``zoo gate`` does: against its own index as it is now (or the one
    given, or its stored claims), the current tolerances and the zoo data beside that index."""
    gate = Gate(settings)
    return [gate.judge(run) for run in runs]
