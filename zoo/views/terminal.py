"""The terminal table of a run record: every claim beside its measurement and verdict.

It reads the same display rows as the HTML and Markdown reports (:mod:`zoo.views.rows`),
so the three never disagree. Long reasons (a failed download explains itself at length)
are shortened in the table and printed once, in full, as numbered notes below it.
"""

from __future__ import annotations

from typing import Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text

from zoo.records import RunRecord
from zoo.views.rows import ClaimRow, ModelView, RunView, run_view

STYLES = {"pass": "green", "drift": "bold red", "unverified": "yellow", "error": "bold magenta", "waived": "cyan"}
SHORT = 140


class _Notes:
    """Numbered full texts, each printed once however many rows refer to it."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def refer(self, text: str) -> str:
        """``text`` itself if short, else its first sentence and a note number."""
        if len(text) <= SHORT:
            return text
        number = self.texts.setdefault(text, len(self.texts) + 1)
        first = text.split(". ", 1)[0]
        if len(first) > SHORT:
            first = first[: SHORT - 1] + "…"
        return f"{first} [{number}]"


def _why(row: ClaimRow, notes: _Notes) -> str:
    if not row.requested and row.status == "unverified":
        return "not asked for in this run"
    text = row.explanation + (f"; waived: {row.waiver}" if row.waiver and row.status == "waived" else "")
    return notes.refer(text)


def model_table(model: ModelView, notes: _Notes) -> Table:
    """One table per model: claims first, then measurements that have no claim."""
    table = Table(title=f"{model.name}  ({model.source})", title_justify="left")
    for column in ("claim", "claimed", "measured", "Δ", "verdict", "why", "source"):
        table.add_column(column, overflow="fold", ratio=3 if column == "why" else None, no_wrap=column != "why")
    for row in model.rows:
        measured = row.measured + (f" {row.uncertainty}" if row.uncertainty else "")
        difference = row.relative if row.relative and not row.uncertainty else row.difference
        status = row.status + ("" if row.gating or row.status != "drift" else " (not gating)")
        table.add_row(
            row.field or row.label, row.claimed, measured or "—", difference,
            Text(status, style=STYLES.get(row.status, "")), _why(row, notes), str(row.source or ""),
        )
    claimed = {row.metric for row in model.rows}
    for m in model.measurements:
        if m.metric in claimed:
            continue
        if m.status == "ok":
            method = m.method.split(";", 1)[0]
            table.add_row(m.label, "—", f"{m.value} {m.uncertainty}".strip(), "", Text("measured", style="dim"), notes.refer(method), "")
        else:
            table.add_row(m.label, "—", "—", "", Text(m.status, style="yellow"), notes.refer(m.reason), "")
    return table


def summary_line(view: RunView) -> Text:
    parts = [Text(f"{count} {status}", style=STYLES[status]) for status, count in view.counts.items() if count]
    text = Text(f"{len(view.models)} model(s), {view.claims_checked} claim(s): ")
    text.append_text(Text(", ").join(parts) if parts else Text("nothing judged"))
    if view.not_requested:
        text.append(f" ({len(view.not_requested)} not asked for)")
    text.append(f"  -> exit {view.gate.code} ({view.gate.meaning})")
    return text


def make_console() -> Console:
    """A console for tables: the terminal's width, or 160 columns when output is not a
    terminal (CI logs and pipes are wide; folding tables to 80 columns makes them unreadable).

    Markup is off: every string printed comes from cards and records ("[/]" in a model name
    must print as itself, not end a style); styles are set with Text objects."""
    console = Console(markup=False)
    return console if console.is_terminal else Console(width=160, markup=False)


def print_view(view: RunView, console: Optional[Console] = None) -> None:
    """Print every model's table, the notes they refer to, and the summary line."""
    console = console or make_console()
    notes = _Notes()
    for model in view.models:
        console.print(model_table(model, notes))
    for text, number in notes.texts.items():
        console.print(f"[{number}] {text}", markup=False, highlight=False)
    console.print(summary_line(view))


def print_run(record: RunRecord, console: Optional[Console] = None) -> None:
    """Print a run record's table (the exit code shown is the record's own)."""
    print_view(run_view(record), console)
