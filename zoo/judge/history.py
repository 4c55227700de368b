"""Comparing timing measurements across runs: a change counts only when it beats the noise.

A throughput (or latency) figure carries one of two spreads, named for what they are:

* ``iqr``: the *within-run* spread, the IQR of one process's timed rounds. It says how steady
  one process was, not how far a fresh process lands: on CPU the figure moves between
  processes with each one's page faults and the machine's load (two identical processes
  100 s apart on a loaded 2-core VM: 34.9 and 27.9 img/s, while each IQR was under 1 img/s);
* ``process-range``: the *between-process* spread, the range of the figures of N fresh
  processes (``zoo bench --repeat N``), whose median is the figure.

Between two runs, a difference is a regression or an improvement only when both runs carry
a between-process spread and the difference exceeds both spreads and
:data:`DEFAULT_MIN_RELATIVE` of the earlier figure. A larger difference between runs that only
have within-run spreads is "inconclusive" (the evidence for a change is missing, not the
change); a smaller one is "unchanged". Figures measured under different conditions
(device, dtype, batch, input size, threads, allocator, ...) are "incomparable", never a change.

Example::

    changes = compare_runs(load_run("runs/today"), load_run("runs/last-week"))
    regressions = [c for c in changes if c.status == "regression"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

from zoo.metrics import METRICS, timing_metrics
from zoo.records import Measurement, RunRecord, Scalar

ChangeStatus = Literal["regression", "improvement", "unchanged", "inconclusive", "incomparable"]

DEFAULT_MIN_RELATIVE = 0.05
"""A change smaller than 5% of the earlier figure is never called one: repeated fresh
``zoo bench`` processes on a quiet machine still differ by a few percent."""
WITHIN_RUN = "iqr"
BETWEEN_PROCESSES = "process-range"
SPREAD_NAMES = {
    WITHIN_RUN: "within-run spread (IQR of one process's rounds)",
    BETWEEN_PROCESSES: "between-process spread (range of fresh processes)",
}
"""What each spread kind measures, in the words reports use."""


def spread_name(kind: Optional[str]) -> str:
    """The words for an uncertainty kind of a timing figure."""
    return SPREAD_NAMES.get(kind or "", f"{kind} spread")

HIGHER_IS_BETTER = {m.name: m.better == "higher" for m in METRICS if m.better is not None}
COMPARABLE_CONDITIONS = (
    "device_name",
    "dtype",
    "channels_last",
    "compile",
    "compile_mode",
    "batch_size",
    "input_size",
    "threads",
    "allocator",
)
"""Conditions that must agree for two timing figures to be compared."""
TIMING_METRICS = timing_metrics()
"""throughput, latency_p50, latency_p90: the figures compared across runs (:data:`zoo.metrics.METRICS`)."""


@dataclass(frozen=True)
class PerformanceChange:
    """How one model's timing figure moved between a previous run and this one."""

    model: str
    metric: str
    status: ChangeStatus
    explanation: str
    current: Optional[float] = None
    previous: Optional[float] = None
    change: Optional[float] = None
    """current - previous, in the metric's unit."""
    relative_change: Optional[float] = None
    """(current - previous) / previous."""
    noise: Optional[float] = None
    """What a change had to exceed: the larger of the two runs' spreads and the relative floor."""
    differing_conditions: dict[str, list[Scalar]] = field(default_factory=dict)
    """Condition -> [previous, current] where they differ (status "incomparable")."""


def compare_measurements(
    model: str,
    current: Measurement,
    previous: Measurement,
    *,
    min_relative: float = DEFAULT_MIN_RELATIVE,
) -> PerformanceChange:
    """Set ``current`` beside ``previous`` (same model and metric); see the module doc for the rule.

    ``min_relative`` is the smallest relative change that can count (default 5%).
    """
    metric = current.metric

    def incomparable(why: str, differing: Optional[dict[str, list[Scalar]]] = None) -> PerformanceChange:
        return PerformanceChange(model, metric, "incomparable", why, differing_conditions=differing or {})

    if previous.metric != metric:
        return incomparable(f"different metrics: {previous.metric} before, {metric} now")
    for label, m in (("this run", current), ("the previous run", previous)):
        if m.status != "ok" or not isinstance(m.value, (int, float)):
            return incomparable(f"{metric} was not measured in {label}: {m.reason or m.status}")
    differing = {
        key: [previous.conditions.get(key), current.conditions.get(key)]
        for key in COMPARABLE_CONDITIONS
        if previous.conditions.get(key) != current.conditions.get(key)
    }
    if differing:
        listed = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in differing.items())
        return incomparable(f"measured under different conditions ({listed})", differing)
    if current.uncertainty is None or previous.uncertainty is None:
        return incomparable("no run-to-run spread recorded, so noise cannot be told from change")

    now, before = float(current.value), float(previous.value)  # type: ignore[arg-type]
    change = now - before
    relative = change / before if before else None
    width_now = current.uncertainty.high - current.uncertainty.low
    width_before = previous.uncertainty.high - previous.uncertainty.low
    noise = max(width_now, width_before, abs(before) * min_relative)
    unit = current.unit or ""
    described = f"{before:.4g} -> {now:.4g} {unit}".strip()
    if relative is not None:
        described += f" ({relative:+.1%})"
    kinds = (previous.uncertainty.kind, current.uncertainty.kind)
    across = all(kind == BETWEEN_PROCESSES for kind in kinds)
    spreads = (
        f"{spread_name(kinds[0])} {width_before:.3g} before, {spread_name(kinds[1])} {width_now:.3g} now"
    )
    if abs(change) <= noise:
        status: ChangeStatus = "unchanged"
        explanation = f"{described}: within the noise ({noise:.3g}{' ' + unit if unit else ''}: {spreads}, floor {min_relative:.0%})"
    elif not across:
        status = "inconclusive"
        explanation = (
            f"{described}: not judged: a within-run spread does not show how far a fresh process lands "
            f"({spreads}); compare runs made with zoo bench --repeat N"
        )
    else:
        better = (change > 0) == HIGHER_IS_BETTER.get(metric, True)
        status = "improvement" if better else "regression"
        explanation = f"{described}: {status}, larger than both runs' spreads ({spreads}) and {min_relative:.0%}"
    return PerformanceChange(
        model,
        metric,
        status,
        explanation,
        current=now,
        previous=before,
        change=change,
        relative_change=relative,
        noise=noise,
    )


def compare_runs(
    current: RunRecord,
    previous: RunRecord,
    *,
    metrics: Sequence[str] = TIMING_METRICS,
    min_relative: float = DEFAULT_MIN_RELATIVE,
) -> list[PerformanceChange]:
    """Every timing metric of every model present in both runs, in ``current``'s model order."""
    before = {result.card.name: result for result in previous.models}
    changes: list[PerformanceChange] = []
    for result in current.models:
        old = before.get(result.card.name)
        if old is None:
            continue
        for metric in metrics:
            now_m, old_m = result.measurement(metric), old.measurement(metric)
            if now_m is None or old_m is None:
                continue
            changes.append(compare_measurements(result.card.name, now_m, old_m, min_relative=min_relative))
    return changes


__all__ = [
    "BETWEEN_PROCESSES",
    "COMPARABLE_CONDITIONS",
    "DEFAULT_MIN_RELATIVE",
    "SPREAD_NAMES",
    "WITHIN_RUN",
    "spread_name",
    "ChangeStatus",
    "HIGHER_IS_BETTER",
    "PerformanceChange",
    "compare_measurements",
    "compare_runs",
]
