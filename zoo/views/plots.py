"""Plots of run records, drawn with matplotlib's Agg canvas and returned as PNG bytes.

- :func:`claim_plots`: measured vs claimed for each numeric metric, with the identity
  line and the tolerance band;
- :func:`accuracy_throughput_plot`: top-1 accuracy vs throughput for the zoo;
- :func:`history_plots`: each metric over time per model, when several runs are given.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot), so
rendering keeps no global state and needs no display.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass
from typing import Optional, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import EngFormatter, FuncFormatter

from zoo.metrics import METRICS
from zoo.records import Metric, RunRecord, Uncertainty, Verdict
from zoo.views.rows import is_percent, judged_value, metric_label, metric_sort_key, unit_suffix

VERDICT_COLOURS: dict[str, str] = {
    "pass": "#1a7f37",
    "drift": "#cf222e",
    "unverified": "#9a6700",
    "error": "#8250df",
    "waived": "#0969da",
}
BAND_COLOUR = "#1a7f37"
DPI = 110
SIZE = (4.4, 4.4)
"""Square: the measured-vs-claimed axes have equal scales."""


@dataclass(frozen=True)
class Plot:
    """One rendered figure."""

    key: str
    """A file-name-safe identifier ("claims-top1", "accuracy-throughput", ...)."""
    title: str
    alt: str
    """What the figure shows, for people who cannot see it."""
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _render(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    for text in figure.findobj(Text):  # model names come from cards: "$" must not start mathtext
        text.set_parse_math(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _new_figure(size: tuple[float, float] = SIZE) -> Figure:
    # Fixed margins rather than layout="constrained": that solver costs ~40% more time
    # per figure, and these figures have one axes with short tick labels.
    figure = Figure(figsize=size)
    inch_w, inch_h = size
    figure.subplots_adjust(left=0.95 / inch_w, right=1 - 0.2 / inch_w, bottom=0.62 / inch_h, top=1 - 0.38 / inch_h)
    return figure


def _style(ax: object) -> None:
    ax.grid(True, color="#d0d7de", linewidth=0.6, alpha=0.8)  # type: ignore[attr-defined]
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]


def _value_formatter(unit: str) -> object:
    if is_percent(unit):
        return FuncFormatter(lambda v, _: f"{v:g} %")
    if unit == "bytes":
        return EngFormatter(unit="B")
    return EngFormatter()


def _unit_of(verdict: Verdict) -> str:
    if verdict.measurement is not None and verdict.measurement.unit:
        return verdict.measurement.unit
    return verdict.claim.unit if verdict.claim is not None else ""


def _axis_unit(metric: str, unit: str) -> str:
    """The unit an axis label ends with: " (%)", " (B)", " (img/s)", " (count)"."""
    if metric == Metric.PARAMETERS.value:
        return " (count)"
    if unit.startswith(("MACs", "FLOPs")):
        return f" ({unit.split()[0]})"
    suffix = "B" if unit == "bytes" else unit_suffix(unit)
    return f" ({suffix})" if suffix else ""


def _limits(values: Sequence[float], percent: bool, floor_pad: float = 0.0) -> tuple[float, float]:
    """Axis limits around ``values`` with a margin, never below 0 nor (for percentages)
    beyond 100: every plotted quantity is non-negative."""
    low, high = min(values), max(values)
    pad = max((high - low) * 0.1, floor_pad, abs(high) * 0.01, 1e-9)
    lo, hi = low - pad, high + pad
    if low >= 0:
        lo = max(lo, 0.0)
    if percent and high <= 100:
        hi = min(hi, 100.0 + pad * 0.25)
    return lo, hi


def _label_groups(points: Sequence[tuple[str, float, float]], x_span: float, y_span: float) -> list[tuple[float, float, list[str]]]:
    """Names of points that would print on top of each other, gathered into one label each
    (one line per name), so no two labels overlap at the same spot."""
    groups: list[tuple[float, float, list[str]]] = []
    for name, x, y in points:
        for gx, gy, names in groups:
            if abs(gx - x) <= x_span * 0.04 and abs(gy - y) <= y_span * 0.04:
                names.append(name)
                break
        else:
            groups.append((x, y, [name]))
    return groups


MAX_NAMES = 20
"""Beyond this many points a plot names only the models that did not pass (a zoo of
hundreds of models would otherwise be a blot of labels)."""
MAX_LINES = 12
"""A history plot draws at most this many models: those that changed the most."""


def _names_to_show(verdicts: Sequence[Verdict]) -> set[str]:
    if len(verdicts) <= MAX_NAMES:
        return {v.model for v in verdicts}
    return {v.model for v in verdicts if v.status != "pass"}


def _interval(verdict: Verdict) -> Optional[Uncertainty]:
    return verdict.measurement.uncertainty if verdict.measurement is not None else None


def _lower_first(label: str) -> str:
    """"Top-1 accuracy" -> "top-1 accuracy", but "FLOPs" stays "FLOPs"."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _plottable(verdict: Verdict) -> bool:
    claim, measurement = verdict.claim, verdict.measurement
    return (
        claim is not None
        and measurement is not None
        and measurement.status == "ok"
        and isinstance(claim.value, (int, float))
        and not isinstance(claim.value, bool)
        and verdict.difference is not None
    )


# --------------------------------------------------------------------------- measured vs claimed


PLOTTED_METRICS = frozenset(m.name for m in METRICS if m.plot)
"""Quantities worth a scatter; settings such as image size or crop pct are not."""


def claim_plots(run: RunRecord) -> list[Plot]:
    """One measured-vs-claimed scatter per measured quantity that has a numeric claim."""
    by_metric: dict[str, list[Verdict]] = {}
    for verdict in run.verdicts():
        if verdict.metric in PLOTTED_METRICS and _plottable(verdict):
            by_metric.setdefault(verdict.metric, []).append(verdict)
    return [_claim_plot(metric, by_metric[metric]) for metric in sorted(by_metric, key=metric_sort_key)]


def _claim_plot(metric: str, verdicts: list[Verdict]) -> Plot:
    figure = _new_figure()
    ax = figure.add_subplot()
    unit = _unit_of(verdicts[0])
    # A verdict's difference is measured minus claimed under the convention it was judged
    # by (e.g. the closest FLOPs convention), so the point sits where the verdict did.
    claimed = [float(v.claim.value) for v in verdicts]  # type: ignore[union-attr, arg-type]
    measured = [c + float(v.difference) for c, v in zip(claimed, verdicts)]  # type: ignore[arg-type]
    allowed = [v.tolerance.allowed(c) if v.tolerance else 0.0 for c, v in zip(claimed, verdicts)]

    values = claimed + measured
    lo, hi = _limits(values, is_percent(unit), floor_pad=max(allowed) * 1.5)
    ax.plot([lo, hi], [lo, hi], color="#57606a", linewidth=1, linestyle="--", label="measured = claimed", zorder=1)
    tolerance = verdicts[0].tolerance
    if tolerance is not None and (tolerance.relative or tolerance.absolute):
        xs = [lo + (hi - lo) * i / 100 for i in range(101)]
        ax.fill_between(
            xs, [x - tolerance.allowed(x) for x in xs], [x + tolerance.allowed(x) for x in xs],
            color=BAND_COLOUR, alpha=0.12, linewidth=0, label="tolerance band", zorder=0,
        )
    # One artist per verdict status (not per point): a zoo of hundreds of models stays fast.
    crowded = len(verdicts) > MAX_NAMES
    by_status: dict[str, list[int]] = {}
    for i, verdict in enumerate(verdicts):
        by_status.setdefault(verdict.status, []).append(i)
    for status, members in by_status.items():
        colour = VERDICT_COLOURS.get(status, "#57606a")
        xs, ys = [claimed[i] for i in members], [measured[i] for i in members]
        intervals = [_interval(verdicts[i]) for i in members]
        if any(interval is not None for interval in intervals):
            below = [max(y - iv.low, 0) if iv else 0.0 for y, iv in zip(ys, intervals)]
            above = [max(iv.high - y, 0) if iv else 0.0 for y, iv in zip(ys, intervals)]
            ax.errorbar(xs, ys, yerr=[below, above], fmt="o", color=colour, ecolor=colour, elinewidth=1.2,
                        capsize=0 if crowded else 3, markersize=3.5 if crowded else 6, label=status, zorder=3)
        else:
            ax.scatter(xs, ys, color=colour, s=40 if not crowded else 14, label=status, zorder=3, edgecolors="white", linewidths=0.6)
    named = _names_to_show(verdicts)
    shown = [(v.model, x, y) for v, x, y in zip(verdicts, claimed, measured) if v.model in named]
    for x, y, names in _label_groups(shown, hi - lo, hi - lo):
        right_side = x > lo + (hi - lo) * 0.6  # put the names where they stay inside the figure
        ax.annotate("\n".join(names), (x, y), textcoords="offset points", xytext=(-7, 3) if right_side else (6, -10),
                    ha="right" if right_side else "left", va="bottom" if right_side else "top", fontsize=7.5, color="#24292f")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    formatter = _value_formatter(unit)
    ax.xaxis.set_major_formatter(formatter)  # type: ignore[arg-type]
    ax.yaxis.set_major_formatter(formatter)  # type: ignore[arg-type]
    label = metric_label(metric)
    ax.set_xlabel(f"claimed {_lower_first(label)}{_axis_unit(metric, unit)}")
    ax.set_ylabel(f"measured {_lower_first(label)}{_axis_unit(metric, unit)}")
    ax.set_title(f"{label}: measured vs claimed", fontsize=11)
    ax.set_aspect("equal", adjustable="box")
    _style(ax)
    ax.legend(fontsize=7.5, loc="upper left", frameon=False)
    statuses = ", ".join(f"{v.model} {v.status}" for v in verdicts)
    return Plot(
        key=f"claims-{metric}",
        title=f"{label}: measured vs claimed",
        alt=f"Scatter of measured against claimed {label.lower()} with the identity line and tolerance band: {statuses}.",
        png=_render(figure),
    )


# --------------------------------------------------------------------------- accuracy vs throughput


def _number(result_measurement: object) -> Optional[float]:
    m = result_measurement
    if m is None or m.status != "ok" or not isinstance(m.value, (int, float)) or isinstance(m.value, bool):  # type: ignore[attr-defined]
        return None
    return float(m.value)  # type: ignore[attr-defined]


def accuracy_throughput_plot(run: RunRecord) -> Optional[Plot]:
    """Top-1 accuracy (measured, and claimed where it was not measured) vs measured throughput.

    ``None`` when no model has a measured throughput and some top-1 figure.
    """
    points = []
    for result in run.models:
        throughput = _number(result.measurement(Metric.THROUGHPUT.value))
        if throughput is None:
            continue
        top1 = result.measurement(Metric.TOP1.value)
        claimed = result.card.number(Metric.TOP1)
        judged = judged_value(result, Metric.TOP1.value)  # the figure the verdict judged (a paired estimate where one was used)
        measured = float(judged) if isinstance(judged, (int, float)) and not isinstance(judged, bool) else None
        if measured is None and claimed is None:
            continue
        points.append((result.card.name, throughput, measured, claimed, top1.uncertainty if measured is not None and top1 else None))
    if not points:
        return None
    figure = _new_figure((7.2, 3.9))
    ax = figure.add_subplot()
    crowded = len(points) > MAX_NAMES
    claimed_points = [(t, c) for _, t, _, c, _ in points if c is not None]
    measured_points = [(t, m, c, iv) for _, t, m, c, iv in points if m is not None]
    if claimed_points:
        ax.scatter([t for t, _ in claimed_points], [c for _, c in claimed_points], facecolors="none", edgecolors="#57606a", s=18 if crowded else 46, zorder=2,
                   label="claimed top-1")
    if measured_points:
        joined = [(t, c, m) for t, m, c, _ in measured_points if c is not None]
        if joined:
            ax.vlines([t for t, _, _ in joined], [c for _, c, _ in joined], [m for _, _, m in joined],
                      color="#8c959f", linewidth=0.8, zorder=1)
        below = [max(m - iv.low, 0) if iv else 0.0 for _, m, _, iv in measured_points]
        above = [max(iv.high - m, 0) if iv else 0.0 for _, m, _, iv in measured_points]
        ax.errorbar([t for t, *_ in measured_points], [m for _, m, _, _ in measured_points], yerr=[below, above],
                    fmt="o", color="#0969da", capsize=0 if crowded else 3, markersize=3.5 if crowded else 6, zorder=3,
                    label="measured top-1")
    xs = [p[1] for p in points]
    ys = [v for p in points for v in (p[2], p[3]) if v is not None]
    ys += [b for p in points if p[4] is not None for b in (p[4].low, p[4].high)]
    if len(points) <= MAX_NAMES:
        placed = [(name, t, measured if measured is not None else claimed) for name, t, measured, claimed, _ in points]
        span_x = max(max(xs) - min(xs), max(xs) * 0.1, 1e-9)
        span_y = max(max(ys) - min(ys), 0.5)
        for x, y, names in _label_groups(placed, span_x, span_y):  # type: ignore[arg-type]
            ax.annotate("\n".join(names), (x, y), textcoords="offset points", xytext=(6, 4), va="bottom", fontsize=7.5, color="#24292f")
    device = _throughput_device(run)
    ax.set_xlabel("measured throughput (images/s" + (f", {device}" if device else "") + ")")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
    ax.xaxis.set_major_formatter(EngFormatter())
    low, high = _limits(ys, percent=True, floor_pad=0.25)
    ax.set_ylim(low, high + (high - low) * 0.15)  # room above the top point for its name
    span = max(max(xs) - min(xs), max(xs) * 0.1)
    ax.set_xlim(min(xs) - span * 0.12, max(xs) + span * 0.3)  # room on the right for the names
    ax.set_title("Accuracy vs throughput", fontsize=11)
    _style(ax)
    ax.legend(fontsize=7.5, frameon=False, loc="best")
    names = ", ".join(p[0] for p in points)
    return Plot(
        key="accuracy-throughput",
        title="Accuracy vs throughput",
        alt=f"Top-1 accuracy against measured throughput for {names}; hollow markers are claimed accuracy, filled are measured.",
        png=_render(figure),
    )


def _throughput_device(run: RunRecord) -> str:
    """"cpu float32 batch 32" when every throughput was measured alike, else ""."""
    settings = set()
    for result in run.models:
        m = result.measurement(Metric.THROUGHPUT.value)
        if m is not None and m.status == "ok":
            parts = [str(m.conditions[k]) for k in ("device", "dtype") if m.conditions.get(k) is not None]
            if m.conditions.get("batch_size") is not None:
                parts.append(f"batch {m.conditions['batch_size']}")
            settings.add(" ".join(parts))
    return settings.pop() if len(settings) == 1 else ""


# --------------------------------------------------------------------------- history


def _when(run: RunRecord) -> dt.datetime:
    for text in (run.finished, run.started):
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (ValueError, AttributeError):
            continue
    return dt.datetime.fromtimestamp(0)


def history_plots(runs: Sequence[RunRecord]) -> list[Plot]:
    """Each measured metric over time, one line per model; empty with fewer than two runs."""
    if len(runs) < 2:
        return []
    ordered = sorted(runs, key=_when)
    series: dict[str, dict[str, list[tuple[dt.datetime, float]]]] = {}
    claims: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    for run in ordered:
        when = _when(run)
        for result in run.models:
            for measurement in result.measurements:
                # The value the verdict judged (the matched FLOPs convention), as every view shows.
                judged = judged_value(result, measurement.metric)
                value = float(judged) if isinstance(judged, (int, float)) and not isinstance(judged, bool) else None
                if value is None or measurement.metric not in PLOTTED_METRICS:
                    continue
                series.setdefault(measurement.metric, {}).setdefault(result.card.name, []).append((when, value))
                units.setdefault(measurement.metric, measurement.unit)
                claimed = result.card.number(measurement.metric)
                if claimed is not None:
                    claims.setdefault(measurement.metric, {})[result.card.name] = claimed
    plots = []
    for metric in sorted(series, key=metric_sort_key):
        per_model = series[metric]
        if max(len(points) for points in per_model.values()) < 2:
            continue
        plots.append(_history_plot(metric, per_model, claims.get(metric, {}), units.get(metric, "")))
    return plots


def _most_changed(per_model: dict[str, list[tuple[dt.datetime, float]]]) -> dict[str, list[tuple[dt.datetime, float]]]:
    """The :data:`MAX_LINES` models whose value moved the most (relative), in name order."""
    if len(per_model) <= MAX_LINES:
        return per_model

    def change(points: list[tuple[dt.datetime, float]]) -> float:
        values = [v for _, v in points]
        return (max(values) - min(values)) / (abs(sum(values) / len(values)) or 1.0)

    chosen = sorted(per_model, key=lambda m: (-change(per_model[m]), m))[:MAX_LINES]
    return {m: per_model[m] for m in sorted(chosen)}


def _history_plot(metric: str, every_model: dict[str, list[tuple[dt.datetime, float]]], claims: dict[str, float], unit: str) -> Plot:
    per_model = _most_changed(every_model)
    figure = _new_figure((6.6, 3.4))
    figure.subplots_adjust(right=1 - 1.75 / 6.6)  # the legend sits to the right of the axes
    ax = figure.add_subplot()
    for i, (model, points) in enumerate(sorted(per_model.items())):
        colour = f"C{i % 10}"
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker="o", markersize=4, linewidth=1.4, color=colour, label=model)
        if model in claims:
            ax.axhline(claims[model], color=colour, linewidth=0.9, linestyle=":", alpha=0.8)
    label = metric_label(metric)
    shown = "" if len(per_model) == len(every_model) else f" ({len(per_model)} of {len(every_model)} models: the most changed)"
    ax.set_title(f"{label} over time{shown}", fontsize=11 if not shown else 9)
    ax.set_ylabel(_lower_first(label) + _axis_unit(metric, unit))
    ax.yaxis.set_major_formatter(_value_formatter(unit))  # type: ignore[arg-type]
    locator = AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.margins(x=0.08, y=0.15)
    _style(ax)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              title="dotted: the claim", title_fontsize=7, alignment="left")
    return Plot(
        key=f"history-{metric}",
        title=f"{label} over time",
        alt=f"{label} measured in each run, one line per model ({', '.join(sorted(per_model))}); dotted lines are the claims.",
        png=_render(figure),
    )
