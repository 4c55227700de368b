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
:data:`DEFAULT_MIN_RELATIVE` of the earlier figure; within both spreads it is "unchanged". Between
runs that only have within-run spreads, a difference under :data:`DEFAULT_MIN_RELATIVE` is
"unchanged" and a larger one "inconclusive" (the evidence for a change is missing, not the
change), however wide the rounds' spread. Figures measured under different conditions
(device, dtype, batch, input size, threads, allocator, ...) are "incomparable", never a change.

The machine's load while timing (zoo.measure.throughput.load: the 1-minute load average before
and after, the process's CPU seconds per wall second) is compared too (:func:`load_difference`):
figures timed under different load are "inconclusive", never a regression, an improvement or
"unchanged", and the explanation gives both loads; where a run did not record its load, the
explanation says so.

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
LOAD_STEP = 0.5
"""Load averages differ when the load of other work per core (the 1-minute load average, less
the run's own threads, divided by the cores; the larger of before and after) differs by more than this."""
CPU_SHARE_STEP = 0.25
"""CPU shares differ when the process's CPU seconds per wall second per thread differ by more than this."""
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


def _number(conditions: dict[str, Scalar], key: str) -> Optional[float]:
    value = conditions.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _others_per_core(conditions: dict[str, Scalar]) -> Optional[float]:
    """The load of other work per core while timing, from the load averages around the phase."""
    loads = [v for v in (_number(conditions, "load_1min_before"), _number(conditions, "load_1min_after")) if v is not None]
    cpus = _number(conditions, "cpus")
    if not loads or not cpus:
        return None
    own = _number(conditions, "threads") or 1.0
    return max(0.0, max(loads) - own) / cpus


def _cpu_share(conditions: dict[str, Scalar]) -> Optional[float]:
    """CPU seconds per wall second per thread: about 1 when the process had its cores."""
    ratio = _number(conditions, "cpu_per_wall")
    threads = _number(conditions, "threads") or 1.0
    return None if ratio is None else ratio / threads


def describe_load(conditions: dict[str, Scalar]) -> str:
    """``"load 1.52-1.61 (2 CPUs), CPU per wall second 1.93 (2 threads)"``, or "" when not recorded."""
    parts = []
    loads = [_number(conditions, "load_1min_before"), _number(conditions, "load_1min_after")]
    if any(v is not None for v in loads):
        shown = "-".join(f"{v:.2f}" for v in loads if v is not None)
        cpus = _number(conditions, "cpus")
        parts.append(f"load {shown}" + (f" ({cpus:.0f} CPUs)" if cpus else ""))
    ratio = _number(conditions, "cpu_per_wall")
    if ratio is not None:
        threads = _number(conditions, "threads")
        parts.append(f"CPU per wall second {ratio:.2f}" + (f" ({threads:.0f} threads)" if threads else ""))
    return ", ".join(parts)


def load_difference(previous: Measurement, current: Measurement) -> tuple[Optional[str], Optional[str]]:
    """(how the machine's load differed between the two figures, or None; which run did not
    record its load, or None). See :data:`LOAD_STEP` and :data:`CPU_SHARE_STEP`."""
    missing = [label for label, m in (("the earlier run", previous), ("this run", current)) if not describe_load(m.conditions)]
    if missing:
        return None, f"the machine's load was not recorded in {' or '.join(missing)}"
    differs = False
    others = (_others_per_core(previous.conditions), _others_per_core(current.conditions))
    if None not in others and abs(others[0] - others[1]) > LOAD_STEP:  # type: ignore[operator]
        differs = True
    shares = (_cpu_share(previous.conditions), _cpu_share(current.conditions))
    if None not in shares and abs(shares[0] - shares[1]) > CPU_SHARE_STEP:  # type: ignore[operator]
        differs = True
    if not differs:
        return None, None
    return f"{describe_load(previous.conditions)} before, {describe_load(current.conditions)} now", None


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
    floor = abs(before) * min_relative
    kinds = (previous.uncertainty.kind, current.uncertainty.kind)
    across = all(kind == BETWEEN_PROCESSES for kind in kinds)
    # A within-run spread says how steady one process was, not how far the next lands: only
    # between-process spreads widen what counts as noise.
    noise = max(width_now, width_before, floor) if across else floor
    unit = current.unit or ""
    described = f"{before:.4g} -> {now:.4g} {unit}".strip()
    if relative is not None:
        described += f" ({relative:+.1%})"
    spreads = (
        f"{spread_name(kinds[0])} {width_before:.3g} before, {spread_name(kinds[1])} {width_now:.3g} now"
    )
    load_differs, load_unknown = load_difference(previous, current)
    if load_differs is not None:
        status: ChangeStatus = "inconclusive"
        explanation = (
            f"{described}: not judged: measured under different load ({load_differs}), so the change may be "
            "the machine's, not the model's; compare figures timed under the same load"
        )
    elif abs(change) <= noise:
        status = "unchanged"
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
    if load_unknown is not None and status != "inconclusive":
        explanation += f" ({load_unknown})"
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
    "CPU_SHARE_STEP",
    "LOAD_STEP",
    "describe_load",
    "load_difference",
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
