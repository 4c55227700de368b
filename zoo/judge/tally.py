"""Counting a run's verdicts once, the same way for every view.

A claim is counted when the run asked for its measurement, or when it was judged anyway (a
verdict other than ``unverified``); claims left out by ``--only``/``--skip`` are counted apart,
as "not asked for", never as unverified. The terminal summary line, the HTML and Markdown
reports, JUnit XML and the gate all show these numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from zoo.judge.gate import requested_metrics
from zoo.metrics import label
from zoo.records import ModelResult, RunRecord, Verdict, VerdictStatus

VERDICT_ORDER: tuple[VerdictStatus, ...] = ("drift", "error", "unverified", "waived", "pass")
"""Worst first: the order in which summaries list verdicts."""


@dataclass(frozen=True)
class Tally:
    """How many claims a run (or a model) has of each verdict, and how many it did not ask for."""

    models: int
    by_status: dict[str, int]
    """Every verdict status in :data:`VERDICT_ORDER`, zero included."""
    not_requested: int
    not_requested_metrics: tuple[str, ...]
    """The metrics (as labels) of the claims not asked for."""

    @property
    def claims(self) -> int:
        """Claims counted (judged or asked for)."""
        return sum(self.by_status.values())

    @property
    def worst(self) -> str:
        """The worst verdict counted ("pass" when none)."""
        return next((s for s in VERDICT_ORDER if self.by_status.get(s)), "pass")


def counted(verdict: Verdict, requested: set[str]) -> bool:
    """Whether ``verdict`` counts: its measurement was asked for, or it was judged anyway."""
    return verdict.metric in requested or verdict.status != "unverified"


def tally_verdicts(verdicts: Iterable[Verdict], requested: set[str], models: int = 1) -> Tally:
    kept: Counter[str] = Counter()
    left: list[Verdict] = []
    for verdict in verdicts:
        if counted(verdict, requested):
            kept[verdict.status] += 1
        else:
            left.append(verdict)
    metrics = tuple(sorted({label(v.metric) for v in left}, key=str.lower))
    return Tally(models, {s: kept.get(s, 0) for s in VERDICT_ORDER}, len(left), metrics)


def tally(run: RunRecord) -> Tally:
    """The run's counts (see the module doc)."""
    return tally_verdicts(run.verdicts(), requested_metrics(run), len(run.models))


def tally_model(result: ModelResult, requested: set[str]) -> Tally:
    return tally_verdicts(result.verdicts, requested)
