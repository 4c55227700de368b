"""The gate: re-judge stored measurements against the current claims and policy.

Nothing is measured. Each model of a run record is looked up in the current index (or,
with ``stored_claims=True``, keeps the card stored in the record), its stored
measurements are judged with :func:`zoo.judge.compare.judge` under the current tolerances,
waivers and gating metrics, and the result is a new run record whose exit code follows
design.md: 1 drift, 2 bad input, 3 incomplete, 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Optional, Sequence

from zoo.judge.compare import judge
from zoo.judge.conventions import fit_conventions
from zoo.errors import EXIT_INCOMPLETE, EXIT_OK, InputError
from zoo.index import Index
from zoo.judge.exit_codes import exit_code, worst_code
from zoo.judge.policy import Policy
from zoo.records import MEASUREMENT_KINDS, GateInfo, Measurement, Metric, ModelResult, RunRecord, Verdict, metrics_of

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


def rejudge(
    run: RunRecord, policy: Policy, *, index: Optional[Index] = None, today: Optional[dt.date] = None,
    lock: Optional["WeightsLock"] = None,
) -> GateResult:
    """Judge the stored measurements of ``run`` again under ``policy`` and ``index``.

    With ``index=None`` the cards stored in the run are used (the claims as they were).
    """
    today = today or dt.date.today()
    known = {card.name: card for card in index.models} if index is not None else {}
    models: list[ModelResult] = []
    dropped: list[str] = []
    pairs = []
    for result in run.models:
        card = result.card
        if index is not None:
            if card.name not in known:
                dropped.append(card.name)
                continue
            fresh = known[card.name]
            # A throughput claim comes from a published figure for the measured device, found at
            # measuring time (zoo.index.reference); the index alone cannot rebuild it.
            stored = card.claim(Metric.THROUGHPUT)
            if stored is not None and fresh.claim(Metric.THROUGHPUT) is None:
                fresh = replace(fresh, claims={**fresh.claims, Metric.THROUGHPUT.value: stored})
            card = fresh
        pairs.append((card, result))
    # FLOPs conventions are fitted over every model judged together, as at measuring time.
    conventions = fit_conventions([(c, r.measurements) for c, r in pairs], policy.tolerance("flops").relative or 0.02, policy.flops_conventions)
    for card, result in pairs:
        verdicts = judge(card, result.measurements, policy, today, lock=lock, conventions=conventions)
        models.append(ModelResult(card=card, measurements=list(result.measurements), verdicts=verdicts))
    if run.models and not models:
        raise InputError(
            f"run {run.run_id}: none of its models ({', '.join(dropped)}) is in the index",
            hint="pass the --index the run was made from, or --stored-claims to judge the claims stored in the run",
        )
    gate = GateInfo(gate_metrics=sorted(policy.gate_metrics), judged_on=today.isoformat())
    rejudged = replace(run, models=models, gate=gate)
    return GateResult(run=rejudged, code=run_exit_code(rejudged), dropped=dropped)


def gate_runs(
    runs: Sequence[RunRecord], policy: Policy, *, index: Optional[Index] = None, today: Optional[dt.date] = None,
    lock: Optional["WeightsLock"] = None,
) -> list[GateResult]:
    """:func:`rejudge` for each run; the gate's exit code is the worst by :func:`worst_code`."""
    return [rejudge(run, policy, index=index, today=today, lock=lock) for run in runs]
