"""Timing figures of the latest run beside the run before it, as display rows.

The judgement is :func:`zoo.judge.history.compare_runs`: a change is a regression or an
improvement only when it exceeds the between-process spread of *both* runs (``zoo bench
--repeat N``) and 5%; runs with only a within-run spread are "inconclusive"; figures measured
under different conditions are "incomparable", with the reason. This module only picks
the two runs (by finish time) and formats what the HTML and Markdown reports show.

>>> changes = performance_changes([last_week, today])  # doctest: +SKIP
>>> [row.status for row in changes.rows]  # doctest: +SKIP
['regression', 'unchanged', 'incomparable']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from zoo.judge.history import DEFAULT_MIN_RELATIVE, ChangeStatus, PerformanceChange, compare_runs
from zoo.records import Measurement, RunRecord
from zoo.views.rows import (
    finish_order,
    format_relative,
    format_uncertainty,
    format_value,
    metric_label,
    unit_suffix,
)

CHANGE_ORDER: tuple[ChangeStatus, ...] = ("regression", "incomparable", "inconclusive", "improvement", "unchanged")
"""Worst first: the order in which summaries count changes."""


@dataclass(frozen=True)
class ChangeRow:
    """One model's timing figure, previous run beside the latest."""

    model: str
    metric: str
    label: str
    status: ChangeStatus
    previous: str
    previous_spread: str
    current: str
    current_spread: str
    relative: str
    """The relative change, only where the figures were comparable."""
    noise: str
    """The spread a change had to exceed (the larger of the two runs')."""
    explanation: str
    change: PerformanceChange


@dataclass(frozen=True)
class PerformanceChanges:
    """The latest run's timing figures compared with the run that finished before it."""

    current: RunRecord
    previous: RunRecord
    rows: list[ChangeRow]
    counts: dict[str, int]

    def with_status(self, *statuses: str) -> list[ChangeRow]:
        return [row for row in self.rows if row.status in statuses]


def _value(measurement: Optional[Measurement]) -> tuple[str, str]:
    """The figure and its spread as shown, or ("", "") when it was not measured."""
    if measurement is None or measurement.status != "ok":
        return "", ""
    return format_value(measurement.value, measurement.unit), format_uncertainty(measurement.uncertainty, measurement.unit)


def _row(change: PerformanceChange, current: Optional[Measurement], previous: Optional[Measurement]) -> ChangeRow:
    unit = (current.unit if current else "") or (previous.unit if previous else "")
    before, before_spread = _value(previous)
    now, now_spread = _value(current)
    noise = ""
    if change.noise is not None:
        suffix = unit_suffix(unit)
        noise = f"±{format_value(change.noise)}" + (f" {suffix}" if suffix else "")
    return ChangeRow(
        model=change.model,
        metric=change.metric,
        label=metric_label(change.metric),
        status=change.status,
        previous=before,
        previous_spread=before_spread,
        current=now,
        current_spread=now_spread,
        relative=format_relative(change.relative_change) if change.status != "incomparable" else "",
        noise=noise,
        explanation=change.explanation,
        change=change,
    )


def performance_changes(
    runs: Sequence[RunRecord], *, min_relative: float = DEFAULT_MIN_RELATIVE
) -> Optional[PerformanceChanges]:
    """Rows for every model and timing metric in both of the two runs that finished last.

    ``None`` with fewer than two runs, or when no model has a timing figure in both.
    ``min_relative`` is passed to :func:`~zoo.judge.history.compare_runs`.
    """
    if len(runs) < 2:
        return None
    previous, current = sorted(runs, key=finish_order)[-2:]
    changes = compare_runs(current, previous, min_relative=min_relative)
    if not changes:
        return None
    now = {result.card.name: result for result in current.models}
    before = {result.card.name: result for result in previous.models}
    rows = [
        _row(change, now[change.model].measurement(change.metric), before[change.model].measurement(change.metric))
        for change in changes
    ]
    counts = {status: sum(1 for row in rows if row.status == status) for status in CHANGE_ORDER}
    return PerformanceChanges(current=current, previous=previous, rows=rows, counts=counts)


__all__ = ["CHANGE_ORDER", "ChangeRow", "PerformanceChanges", "performance_changes"]
