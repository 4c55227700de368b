"""The terminal view of a run record: a summary per model, then the claims that need attention.

It reads the same display rows as the HTML and Markdown reports (:mod:`zoo.views.rows`),
so the views never disagree. The layout degrades instead of breaking:

- a terminal wide enough for the table gets a rich table per model;
- a narrow terminal gets one head line per claim (verdict, label, Δ, ``file:line``, never
  broken) with the details wrapped beneath it;
- piped output (CI logs) gets one plain line per claim, no box drawing, no colour.

In every layout the verdict, the Δ and the ``file:line`` of a claim stand whole on one line;
long values are shortened (hashes, URLs, paths; see :func:`zoo.views.rows.short_text`) and
reasons too long for their place become numbered notes under the table, each said once.
"""

from __future__ import annotations

import os
import textwrap
from typing import Literal, Optional, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from zoo.inert import inert_console
from zoo.metrics import METRICS, MetricSpec
from zoo.records import RunRecord
from zoo.views.display import display_run
from zoo.views.notes import Notes
from zoo.views.rows import (
    VERDICT_ORDER,
    ClaimRow,
    MeasurementRow,
    ModelView,
    RunView,
    format_condition,
    format_value,
    run_view,
    short_source,
)

STYLES = {"pass": "green", "drift": "bold red", "unverified": "yellow", "error": "bold magenta", "waived": "cyan"}
Detail = Literal["auto", "summary", "claims", "quiet"]
"""auto: the summary for several models, every claim for one; claims: every claim (-v);
summary: one row per model and the claims that need attention; quiet: the summary line."""

ATTENTION = ("drift", "error", "unverified")
"""Verdicts the compact summary lists claim by claim."""

PIPED_NOTE_AT = 100
"""Piped, a reason longer than this becomes a note (a log line stays readable)."""

_CONDITIONS = (("batch_size", "batch {}"), ("threads", "{} threads"), ("dtype", "{}"), ("device", "{}"), ("channels_last", "channels_last={}"))


# --------------------------------------------------------------------------- console


def make_console(color: Optional[bool] = None, *, stderr: bool = False) -> Console:
    """A console that honours ``COLUMNS``, ``NO_COLOR`` and ``FORCE_COLOR``.

    ``color`` is the ``--color/--no-color`` flag: True forces styling even when piped, False
    turns every style off (not only colour: ``NO_COLOR`` also drops bold and italic here).
    """
    no_color = color is False or (color is None and bool(os.environ.get("NO_COLOR")))
    # Every character it prints passes the inert-text rule (zoo.inert): names and reasons come from cards and records.
    if no_color:
        return inert_console(stderr=stderr, color_system=None, highlight=False, emoji=False)
    return inert_console(stderr=stderr, force_terminal=True if color else None, highlight=False, emoji=False)


def _plain(console: Console) -> bool:
    """Piped output (and ``--no-color`` to a pipe) gets the log layout."""
    return not console.is_terminal


# --------------------------------------------------------------------------- notes


class _Notes(Notes):
    """Numbered full texts under the table (:class:`zoo.views.notes.Notes`), printed once."""

    def print(self, console: Console) -> None:
        for text, number in self.texts.items():
            console.print(Text(f"[{number}] {text}"), soft_wrap=_plain(console))


# --------------------------------------------------------------------------- one claim


def _verdict(row: ClaimRow) -> str:
    return row.status + ("" if row.gating or row.status != "drift" else " (not gating)")


def _difference(row: ClaimRow) -> str:
    return (row.relative if row.relative and not row.uncertainty else row.difference) or "—"


def _measured(row: ClaimRow) -> str:
    text = row.measured or "—"
    if row.uncertainty:
        text += f" {row.uncertainty}"
    if row.convention:
        text += f" ({row.convention})"
    return text


def _why(row: ClaimRow) -> str:
    return row.explanation  # a waiver is already in it (zoo.judge.compare)


def _conditions(measurement: MeasurementRow) -> str:
    found = dict(measurement.measurement.conditions)
    parts = [pattern.format(format_condition(found[key])) for key, pattern in _CONDITIONS if key in found and found[key] is not None]
    return ", ".join(parts)


def _unclaimed(model: ModelView) -> list[MeasurementRow]:
    claimed = {row.metric for row in model.rows}
    return [m for m in model.measurements if m.metric not in claimed]


def _shown_rows(model: ModelView, only: Sequence[str] = ()) -> list[ClaimRow]:
    """The claims the run asked for (those left out by ``--only`` are counted, not listed)."""
    rows = [row for row in model.rows if row.requested or row.status != "unverified"]
    return [row for row in rows if row.status in only] if only else rows


# --------------------------------------------------------------------------- table layout

_COLUMNS = ("claim", "claimed", "measured", "Δ", "verdict", "source", "why")


def _claim_name(row: ClaimRow) -> str:
    """The card's field name, or the metric's when the field is long (``FPS (GPU RTX 3090)``)."""
    return row.field if row.field and len(row.field) <= 16 else row.label


def _table_width(rows: list[ClaimRow]) -> int:
    """The width the table needs to keep claim, Δ, verdict and source whole."""
    whole = [
        max([len(_claim_name(r)) for r in rows] + [5]),
        max([len(_difference(r)) for r in rows] + [2]),
        max([len(r.status) for r in rows] + [8]),
        max([len(short_source(r.source)) for r in rows] + [6]),
    ]
    return sum(whole) + 22 + 28 + 30 + 3 * len(_COLUMNS) + 1  # claimed, measured and why wide enough to read


def _value_widths(model: ModelView, rows: list[ClaimRow], width: int, unclaimed: bool) -> dict[str, int]:
    """Widths for the claimed and measured columns: at least 22 and 28, and as wide as their
    longest value where the terminal has the room (a file name is not folded mid-hash while
    the why column keeps its 30)."""
    measured = [_measured(r) for r in rows] + [f"{m.value} {m.uncertainty}".strip() for m in (_unclaimed(model) if unclaimed else [])]
    natural = {"claimed": max([len(r.claimed or "") for r in rows] + [22]), "measured": max([len(t) for t in measured] + [28])}
    spare = width - (_table_width(rows) - 22 - 28)  # what the two columns may take, the why column's 30 kept
    claimed = min(natural["claimed"], max(22, spare - natural["measured"]), max(22, spare - 28))
    return {"claimed": claimed, "measured": max(28, min(natural["measured"], spare - claimed))}


def _model_table(model: ModelView, rows: list[ClaimRow], notes: _Notes, width: int, unclaimed: bool) -> Table:
    table = Table(title=f"{model.name}  ({short_source(model.source)})", title_justify="left", box=box.SQUARE)
    values = _value_widths(model, rows, width, unclaimed)
    for column in _COLUMNS:
        whole = column in ("claim", "Δ", "verdict", "source")
        table.add_column(
            column, no_wrap=whole, overflow="fold", min_width={"why": 30}.get(column),
            max_width=values.get(column), justify="right" if column == "Δ" else "left",
        )
    why_width = max(30, width - (_table_width(rows) - 30) - (values["claimed"] - 22) - (values["measured"] - 28))
    room = 3 * why_width  # a reason may wrap over three lines of its cell before a note is clearer
    for row in rows:
        why = ("not gating: " if row.status == "drift" and not row.gating else "") + _why(row)
        table.add_row(
            _claim_name(row), row.claimed, _measured(row), _difference(row),
            Text(row.status, style=STYLES.get(row.status, "")), short_source(row.source), notes.refer(why, room),
        )
    for m in _unclaimed(model) if unclaimed else []:
        if m.status == "ok":
            why = _conditions(m) or m.method.split(";", 1)[0]
            table.add_row(m.label, "—", f"{m.value} {m.uncertainty}".strip(), "", Text("measured", style="dim"), "", notes.refer(why, room))
        else:
            table.add_row(m.label, "—", "—", "", Text(m.status, style="yellow"), "", notes.refer(m.reason, room))
    return table


# --------------------------------------------------------------------------- line layout


def _print_lines(console: Console, model: ModelView, rows: list[ClaimRow], notes: _Notes, unclaimed: bool) -> None:
    """One head line per claim that is never broken (verdict, Δ, ``file:line``, claim), the
    details wrapped beneath it; piped, the details follow on the same line."""
    plain = _plain(console)
    console.print(Text(f"{model.name}  ({short_source(model.source)})", style="bold"), soft_wrap=True)
    verdict_w = max([len(_verdict(r)) for r in rows] + [8])
    delta_w = max([len(_difference(r)) for r in rows] + [1])
    source_w = max([len(short_source(r.source)) for r in rows] + [1])
    indent = " " * 6
    room = max(console.width - len(indent), 20)
    for row in rows:
        head = Text("  ")
        head.append(_verdict(row).ljust(verdict_w), style=STYLES.get(row.status, ""))
        head.append(f"  {_difference(row).rjust(delta_w)}  {short_source(row.source).ljust(source_w)}  {row.field or row.label}")
        detail = f"claimed {row.claimed or '—'}, measured {_measured(row)}"
        if plain:
            head.append(f": {detail}; {notes.refer(_why(row), PIPED_NOTE_AT)}")
            console.print(head, soft_wrap=True)
            continue
        console.print(head, soft_wrap=True)
        for text in (detail, notes.refer(_why(row), 2 * room)):
            for line in textwrap.wrap(text, room, break_on_hyphens=False):
                console.print(indent + line, soft_wrap=True, markup=False)
    for m in _unclaimed(model) if unclaimed else []:
        status = "measured" if m.status == "ok" else m.status
        what = f"{m.value} {m.uncertainty}".strip() if m.status == "ok" else notes.refer(m.reason, PIPED_NOTE_AT)
        extra = _conditions(m) if m.status == "ok" else ""
        line = Text("  ")
        line.append(status.ljust(verdict_w), style="dim" if m.status == "ok" else "yellow")
        line.append(f"  {m.label}: {what}" + (f" ({extra})" if extra else ""))
        console.print(line, soft_wrap=True)


def _print_claims(console: Console, model: ModelView, rows: list[ClaimRow], notes: _Notes, unclaimed: bool = True) -> None:
    if not rows and not (unclaimed and _unclaimed(model)):
        return
    if not _plain(console) and console.width >= _table_width(rows):
        console.print(_model_table(model, rows, notes, console.width, unclaimed))
    else:
        _print_lines(console, model, rows, notes, unclaimed)


# --------------------------------------------------------------------------- summary


_SUMMARY_SPECS = tuple(m for m in METRICS if m.short)
SUMMARY_COLUMNS = ("model", *(m.short for m in _SUMMARY_SPECS), "verdict")


def _figure(model: ModelView, spec: MetricSpec) -> str:
    """The value the verdict judged where a claim was judged, else the measurement's, as the table formats it."""
    row = next((r for r in model.rows if r.metric == spec.name), None)
    measurement = next((m for m in model.measurements if m.metric == spec.name), None)
    if measurement is None or measurement.status != "ok":
        return "—"
    value = measurement.measurement.value
    if row is not None and row.verdict.compared_value is not None:
        value = row.verdict.compared_value
    if not isinstance(value, (int, float)) or isinstance(value, bool) or spec.summary is None:
        return format_value(value)
    return spec.summary(value)


def _timing_conditions(model: ModelView) -> str:
    found = next((m for m in model.measurements if m.metric == "throughput" and m.status == "ok"), None)
    return _conditions(found) if found is not None else ""


def summary_rows(view: RunView) -> tuple[list[str], list[list[str]], str]:
    """(headers, one row per model, conditions said once): the measured params, GFLOPs, file
    size, top-1, top-5, img/s, p50 latency and worst verdict; columns nothing filled are left
    out, and the throughput conditions are a column only when the models differ in them."""
    rows = [[model.name, *(_figure(model, spec) for spec in _SUMMARY_SPECS), model.worst] for model in view.models]
    keep = [i for i in range(len(SUMMARY_COLUMNS)) if i in (0, len(SUMMARY_COLUMNS) - 1) or any(row[i] != "—" for row in rows)]
    headers = [SUMMARY_COLUMNS[i] for i in keep]
    rows = [[row[i] for i in keep] for row in rows]
    conditions = [_timing_conditions(model) for model in view.models]
    shared = ""
    if len(set(conditions)) == 1:
        shared = conditions[0]
    else:
        headers.insert(-1, "timed at")
        for row, text in zip(rows, conditions):
            row.insert(-1, text or "—")
    return headers, rows, shared


def _print_summary_table(console: Console, view: RunView) -> None:
    headers, rows, shared = summary_rows(view)
    widths = [max(len(header), *(len(row[i]) for row in rows)) for i, header in enumerate(headers)]
    if not _plain(console) and console.width >= sum(widths) + 3 * len(widths) + 1:
        table = Table(box=box.SIMPLE_HEAD, title=f"{len(rows)} models", title_justify="left")
        for i, header in enumerate(headers):
            table.add_column(header, no_wrap=True, justify="left" if i in (0, len(widths) - 1) or header == "timed at" else "right")
        for row in rows:
            table.add_row(*row[:-1], Text(row[-1], style=STYLES.get(row[-1], "")))
        console.print(table)
    else:
        # Aligned plain columns, never cut: a log line may be long, but every figure stays whole.
        def line(cells: Sequence[str]) -> str:
            parts = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells[:-1], widths))]
            return "  ".join(parts) + "  " + cells[-1]

        console.print(Text(line(headers), style="bold"), soft_wrap=True)
        for row in rows:
            text = Text(line(row[:-1] + [""]))
            text.append(row[-1], style=STYLES.get(row[-1], ""))
            console.print(text, soft_wrap=True)
    if shared:
        console.print(Text(f"throughput timed at {shared}", style="dim"), soft_wrap=True)


def print_grid(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> None:
    """A table that never cuts a cell: rich's box table where it fits, else aligned plain
    columns (piped, or a narrow terminal, where long lines wrap rather than lose text)."""
    widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(headers)]
    if not _plain(console) and console.width >= sum(widths) + 3 * len(widths) + 1:
        table = Table(title=title, title_justify="left")
        for i, header in enumerate(headers):
            table.add_column(header, no_wrap=True, justify="right" if i in numeric else "left")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(w) if i in numeric else cell.ljust(w) for i, (cell, w) in enumerate(zip(cells, widths))).rstrip()

    console.print(title, soft_wrap=True, markup=False)
    console.print(Text(line(headers), style="bold"), soft_wrap=True)
    for row in rows:
        console.print(line(row), soft_wrap=True, markup=False)


def summary_line(view: RunView) -> Text:
    counts = dict(view.counts)  # claims not asked for are counted apart (zoo.judge.tally)
    parts = [Text(f"{count} {status}", style=STYLES[status]) for status, count in counts.items() if count]
    text = Text(f"{len(view.models)} model(s), {sum(counts.values())} claim(s): ")
    text.append_text(Text(", ").join(parts) if parts else Text("nothing judged"))
    if view.not_requested:
        text.append(f" ({len(view.not_requested)} not asked for: {', '.join(view.not_requested_metrics)})")
    text.append(f"  -> exit {view.gate.code} ({view.gate.meaning})")
    return text


def print_view(view: RunView, console: Optional[Console] = None, detail: Detail = "auto") -> None:
    """Print ``view`` at the chosen detail (see :data:`Detail`), its notes and the summary line."""
    console = console or make_console()
    if detail == "auto":
        detail = "summary" if len(view.models) > 1 else "claims"
    notes = _Notes()
    if detail == "summary":
        _print_summary_table(console, view)
        attention = [(model, _shown_rows(model, ATTENTION)) for model in view.models]
        attention = [(model, rows) for model, rows in attention if rows]
        if attention:
            console.print(Text(f"\nneeds attention ({sum(len(rows) for _, rows in attention)} claims; -v lists every claim):"), soft_wrap=True)
        for model, rows in attention:
            _print_claims(console, model, rows, notes, unclaimed=False)
    elif detail == "claims":
        for model in view.models:
            _print_claims(console, model, _shown_rows(model), notes)
    notes.print(console)
    console.print(summary_line(view), soft_wrap=_plain(console))


def print_run(record: RunRecord, console: Optional[Console] = None, detail: Detail = "auto") -> None:
    """Print a run record's table (the exit code shown is the record's own), long names shortened."""
    print_view(run_view(display_run(record)), console, detail)


__all__ = ["ATTENTION", "Detail", "VERDICT_ORDER", "make_console", "print_grid", "print_run", "print_view", "summary_line", "summary_rows"]
