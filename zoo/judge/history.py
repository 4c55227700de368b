"""Comparing timing measurements across runs: a change counts only when it beats the noise.

A throughput (or latency) is a median of timed rounds with its spread (IQR) kept
beside it. Between two runs, a difference is called a regression or an improvement
only when it is larger than the spread of *both* runs (and larger than an optional
relative floor); otherwise it is "unchanged". Figures measured under different
conditions (device, dtype, batch, input size, ...) are "incomparable", never a change.

Example::

    changes = compare_runs(load_run("runs/today"), load_run("runs/last-week"))
    regressions = [c for c in changes if c.status == "regression"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

from zoo.records import Measurement, Metric, RunRecord, Scalar

ChangeStatus = Literal["regression", "improvement", "unchanged", "incomparable"]

HIGHER_IS_BETTER = {
    Metric.THROUGHPUT.value: True,
    Metric.LATENCY_P50.value: False,
    Metric.LATENCY_P90.value: False,
}
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
TIMING_METRICS = tuple(HIGHER_IS_BETTER)
"""throughput, latency_p50, latency_p90: the order of :data:`zoo.measure.throughput.timing.TIMING_METRICS`, kept
here without importing the timing code (and torch), so that views can compare runs."""


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
    """The larger of the two runs' spreads (IQR width): what a change must exceed."""
    differing_conditions: dict[str, list[Scalar]] = field(default_factory=dict)
    """Condition -> [previous, current] where they differ (status "incomparable")."""


def compare_measurements(
    model: str,
    current: Measurement,
    previous: Measurement,
    *,
    min_relative: float = 0.0,
) -> PerformanceChange:
    """Set ``current`` beside ``previous`` (same model and metric).

    ``min_relative`` (e.g. 0.02) is a floor under the noise for runs whose spread is tiny.
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
    if abs(change) <= noise:
        status: ChangeStatus = "unchanged"
        explanation = f"{described}: within the run-to-run spread ({noise:.3g}{' ' + unit if unit else ''})"
    else:
        better = (change > 0) == HIGHER_IS_BETTER.get(metric, True)
        status = "improvement" if better else "regression"
        explanation = (
            f"{described}: {status}, larger than the spread of both runs "
            f"({width_before:.3g} before, {width_now:.3g} now)"
        )
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
    min_relative: float = 0.0,
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
    "COMPARABLE_CONDITIONS",
    "ChangeStatus",
    "HIGHER_IS_BETTER",
    "PerformanceChange",
    "compare_measurements",
    "compare_runs",
]
