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
import functools
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Sequence, Union

from zoo.records import Metric, RunRecord, Uncertainty, Verdict
from zoo.views.history_data import PLOTTED_METRICS, RunDigest, digest_run
from zoo.views.rows import is_percent, judged_value, metric_label, metric_sort_key, unit_suffix

if TYPE_CHECKING:
    from matplotlib.figure import Figure
# matplotlib itself is imported where a figure is drawn: a report's plots are drawn in a second
# process (zoo.views.drawing), and this one need not pay for the import.

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
    note: str = ""
    """What a reader must know to read the figure right (claimed points, the load while timing)."""
    narrow_png: Optional[bytes] = None
    """The same figure drawn for a phone's width (a wide figure scaled down there is unreadable)."""

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def narrow_data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.narrow_png or self.png).decode("ascii")


Job = Callable[[], Optional[Plot]]
"""Draws one plot (``None``: nothing to draw)."""


def _render(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    FigureCanvasAgg(figure)
    for text in figure.findobj(Text):  # model names come from cards: "$" must not start mathtext
        text.set_parse_math(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _new_figure(size: tuple[float, float] = SIZE) -> Figure:
    from matplotlib.figure import Figure

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
    from matplotlib.ticker import EngFormatter, FuncFormatter

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
MAX_MARKED_RUNS = 60
"""Longest history whose runs are drawn as points on its lines (beyond, only the lines)."""
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


def claim_plot_jobs(run: RunRecord) -> list[Job]:
    """What :func:`claim_plots` draws, one job per plot (for :func:`draw`)."""
    by_metric: dict[str, list[Verdict]] = {}
    for verdict in run.verdicts():
        if verdict.metric in PLOTTED_METRICS and _plottable(verdict):
            by_metric.setdefault(verdict.metric, []).append(verdict)
    return [functools.partial(_claim_plot, metric, by_metric[metric]) for metric in sorted(by_metric, key=metric_sort_key)]


def claim_plots(run: RunRecord) -> list[Plot]:
    """One measured-vs-claimed scatter per measured quantity that has a numeric claim."""
    return [job() for job in claim_plot_jobs(run)]  # type: ignore[misc]


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
    """Top-1 accuracy (measured, and claimed where it was not measured) vs measured throughput,
    drawn wide and, for phones, narrow; its note says which points are claims and the
    machine's load while the throughput was timed.

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
    only_claimed = [name for name, _, measured, _, _ in points if measured is None]
    title = "Claimed accuracy vs throughput" if len(only_claimed) == len(points) else "Accuracy vs throughput"
    notes = []
    if only_claimed:
        notes.append(
            "Hollow points are the cards' claimed top-1, not measured in this run"
            + ("" if len(only_claimed) == len(points) else f" ({', '.join(only_claimed)} has no measured top-1)")
            + "."
        )
    load = _throughput_load(run)
    if load:
        notes.append(f"Throughput timed at {load}; a figure timed under load is the machine's as much as the model's.")
    names = ", ".join(p[0] for p in points)
    return Plot(
        key="accuracy-throughput",
        title=title,
        alt=f"Top-1 accuracy against measured throughput for {names}; hollow markers are claimed accuracy, filled are measured.",
        png=_render(_accuracy_throughput_figure(run, points, title, (7.2, 3.9))),
        note=" ".join(notes),
        narrow_png=_render(_accuracy_throughput_figure(run, points, title, (4.2, 4.4))),
    )


def _accuracy_throughput_figure(run: RunRecord, points: list, title: str, size: tuple[float, float]) -> Figure:
    figure = _new_figure(size)
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
    narrow = size[0] < 5
    ax.set_xlabel("measured throughput (images/s" + (f",\n{device}" if device and narrow else f", {device}" if device else "") + ")")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.yaxis.set_major_formatter(_value_formatter("%"))  # type: ignore[arg-type]
    ax.xaxis.set_major_formatter(_value_formatter(""))  # type: ignore[arg-type]
    if narrow:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(4))
        figure.subplots_adjust(bottom=0.9 / size[1])
    low, high = _limits(ys, percent=True, floor_pad=0.25)
    ax.set_ylim(low, high + (high - low) * 0.15)  # room above the top point for its name
    span = max(max(xs) - min(xs), max(xs) * 0.1)
    ax.set_xlim(min(xs) - span * 0.12, max(xs) + span * (0.55 if narrow else 0.3))  # room on the right for the names
    ax.set_title(title, fontsize=11)
    _style(ax)
    ax.legend(fontsize=7.5, frameon=False, loc="best")
    return figure


def _throughput_load(run: RunRecord) -> str:
    """"cpu float32 batch 32, load 6.80-7.03 (2 CPUs)": how the plotted throughputs were timed,
    the load over all of them (zoo.measure.throughput.load), or "" when nothing was recorded."""
    loads: list[float] = []
    cpus = None
    for result in run.models:
        m = result.measurement(Metric.THROUGHPUT.value)
        if m is not None and m.status == "ok":
            values = [m.conditions.get(k) for k in ("load_1min_before", "load_1min_after")]
            loads += [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            cpus = m.conditions.get("cpus")
    if not loads:
        return ""
    device = _throughput_device(run)
    where = f"{device}, " if device else ""
    spread = f"{min(loads):.2f}" if min(loads) == max(loads) else f"{min(loads):.2f}-{max(loads):.2f}"
    return f"{where}1-minute load average {spread}" + (f" on {cpus} CPUs" if cpus else "")


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


def _when(run: Union[RunRecord, RunDigest]) -> dt.datetime:
    for text in (run.finished, run.started):
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (ValueError, AttributeError):
            continue
    return dt.datetime.fromtimestamp(0)


def history_plots(runs: Union[Sequence[RunRecord], Sequence[RunDigest]]) -> list[Plot]:
    """Each measured metric over time, one line per model; empty with fewer than two runs.

    ``runs``: run records, or their digests (:func:`zoo.views.history_data.digest_run`), which
    hold the values the verdicts judged."""
    return [job() for job in history_plot_jobs(runs)]  # type: ignore[misc]


def history_plot_jobs(runs: Union[Sequence[RunRecord], Sequence[RunDigest]]) -> list[Job]:
    """What :func:`history_plots` draws, one job per plot (for :func:`draw`)."""
    if len(runs) < 2:
        return []
    digests = [run if isinstance(run, RunDigest) else digest_run(run) for run in runs]
    ordered = sorted(digests, key=_when)
    # Each model's values first (references to the digests' own floats); the dated points only
    # for the models a plot draws: a year of a large zoo holds hundreds of thousands of values.
    values: dict[str, dict[str, list[float]]] = {}
    claims: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    for digest in ordered:
        for metric, column in digest.values.items():
            per_model = values.setdefault(metric, {})
            for name, value in zip(digest.names, column):
                if value is not None:
                    per_model.setdefault(name, []).append(value)
            units.setdefault(metric, digest.units.get(metric, ""))
        for metric, claimed in digest.claims.items():
            claims.setdefault(metric, {}).update(claimed)
    drawn = {metric: _most_changed(per_model) for metric, per_model in values.items()
             if metric in PLOTTED_METRICS and per_model and max(len(found) for found in per_model.values()) >= 2}
    points = _points(ordered, drawn)
    return [functools.partial(_history_plot, metric, points[metric], claims.get(metric, {}), units.get(metric, ""),
                              len(values[metric])) for metric in sorted(drawn, key=metric_sort_key)]


def _points(ordered: Sequence[RunDigest], drawn: dict[str, list[str]]) -> dict[str, dict[str, list[tuple[dt.datetime, float]]]]:
    """Metric -> model -> (time, value) in each run (oldest first) that measured it, for the
    models ``drawn`` names per metric."""
    points: dict[str, dict[str, list[tuple[dt.datetime, float]]]] = {
        metric: {name: [] for name in names} for metric, names in drawn.items()
    }
    for digest in ordered:
        when = _when(digest)
        where = {name: i for i, name in enumerate(digest.names)}
        for metric, names in drawn.items():
            column = digest.values.get(metric)
            if column is None:
                continue
            for name in names:
                i = where.get(name)
                if i is not None and column[i] is not None:
                    points[metric][name].append((when, column[i]))  # type: ignore[arg-type]
    return points


def _most_changed(per_model: dict[str, list[float]]) -> list[str]:
    """The :data:`MAX_LINES` models whose value moved the most (relative), in name order."""
    if len(per_model) <= MAX_LINES:
        return sorted(per_model)

    def change(values: list[float]) -> float:
        return (max(values) - min(values)) / (abs(sum(values) / len(values)) or 1.0)

    return sorted(sorted(per_model, key=lambda m: (-change(per_model[m]), m))[:MAX_LINES])


def _history_plot(metric: str, per_model: dict[str, list[tuple[dt.datetime, float]]], claims: dict[str, float], unit: str,
                  every_model: int) -> Plot:
    """``per_model``: the models drawn (:func:`_most_changed`) of ``every_model`` with a value of ``metric``."""
    label = metric_label(metric)
    return Plot(
        key=f"history-{metric}",
        title=f"{label} over time",
        alt=f"{label} measured in each run, one line per model ({', '.join(sorted(per_model))}); dotted lines are the claims.",
        png=_render(_history_figure(metric, per_model, every_model, claims, unit, narrow=False)),
        narrow_png=_render(_history_figure(metric, per_model, every_model, claims, unit, narrow=True)),
    )


def _history_figure(
    metric: str, per_model: dict[str, list[tuple[dt.datetime, float]]], models: int, claims: dict[str, float], unit: str,
    *, narrow: bool,
) -> Figure:
    """The figure wide (legend beside the axes) or, for a phone, narrow (legend below them)."""
    legend_rows = (len(per_model) + 1) // 2 + 1  # two columns, and the legend's title
    size = (4.2, 3.2 + 0.17 * legend_rows) if narrow else (6.6, 3.4)
    figure = _new_figure(size)
    if narrow:
        figure.subplots_adjust(bottom=(0.75 + 0.17 * legend_rows) / size[1])  # the legend sits under the axes
    else:
        figure.subplots_adjust(right=1 - 1.75 / 6.6)  # the legend sits to the right of the axes
    ax = figure.add_subplot()
    for i, (model, points) in enumerate(sorted(per_model.items())):
        colour = f"C{i % 10}"
        xs, ys = zip(*points)
        # A point per run while they can be told apart; a year of nightly runs is drawn as its line.
        marker = "o" if len(points) <= MAX_MARKED_RUNS else None
        ax.plot(xs, ys, marker=marker, markersize=4, linewidth=1.4, color=colour, label=model)
        if model in claims:
            ax.axhline(claims[model], color=colour, linewidth=0.9, linestyle=":", alpha=0.8)
    label = metric_label(metric)
    shown = "" if len(per_model) == models else f" ({len(per_model)} of {models} models: the most changed)"
    ax.set_title(f"{label} over time{shown}", fontsize=11 if not shown else 9)
    ax.set_ylabel(_lower_first(label) + _axis_unit(metric, unit))
    ax.yaxis.set_major_formatter(_value_formatter(unit))  # type: ignore[arg-type]
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(maxticks=4 if narrow else 6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.margins(x=0.08, y=0.15)
    _style(ax)
    if narrow:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.16), ncols=2,
                  title="dotted: the claim", title_fontsize=7, alignment="left")
    else:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  title="dotted: the claim", title_fontsize=7, alignment="left")
    return figure
