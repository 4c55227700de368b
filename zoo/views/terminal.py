"""The terminal table of a run record: every claim beside its measurement and verdict."""

from __future__ import annotations

from collections import Counter
from typing import Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text

from zoo.records import Measurement, ModelResult, RunRecord, Verdict

STYLES = {"pass": "green", "drift": "bold red", "unverified": "yellow", "error": "bold magenta", "waived": "cyan"}


def _value(value: object, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or isinstance(value, str):
        text = str(value)
        return text if len(text) <= 40 else "…" + text[-39:]
    if isinstance(value, int) or float(value).is_integer() and abs(float(value)) >= 1000:
        return f"{int(value):,}"
    return f"{float(value):.4g}{'%' if unit == '%' else ''}"


def _measured(measurement: Optional[Measurement], compared: Optional[float] = None) -> str:
    if measurement is None or measurement.status != "ok":
        return "—"
    text = _value(measurement.value if compared is None else compared, measurement.unit)
    if measurement.uncertainty is not None:
        u = measurement.uncertainty
        text += f" [{u.low:.4g}, {u.high:.4g}]"
    return text


def _difference(verdict: Verdict) -> str:
    if verdict.difference is None:
        return ""
    if verdict.relative_difference is not None and verdict.metric not in ("top1", "top5"):
        return f"{verdict.relative_difference:+.2%}"
    return f"{verdict.difference:+.3g}"


def model_table(result: ModelResult) -> Table:
    """One table per model: claims first, then measurements that have no claim."""
    table = Table(title=f"{result.card.name}  ({result.card.source})", title_justify="left", expand=False)
    for column in ("claim", "claimed", "measured", "Δ", "verdict", "why", "source"):
        table.add_column(column, overflow="fold", ratio=3 if column == "why" else None, no_wrap=column != "why")
    for verdict in result.verdicts:
        claim = verdict.claim
        table.add_row(
            claim.field if claim else verdict.metric,
            _value(claim.raw.rsplit("/", 1)[-1] if claim and verdict.metric == "weights" else (claim.raw if claim else None)),
            _measured(verdict.measurement, verdict.compared_value),
            _difference(verdict),
            Text(verdict.status + ("" if verdict.gating else ""), style=STYLES.get(verdict.status, "")),
            verdict.explanation,
            str(claim.source) if claim else "",
        )
    claimed = {v.metric for v in result.verdicts}
    for measurement in result.measurements:
        if measurement.metric in claimed:
            continue
        status = "measured" if measurement.status == "ok" else measurement.status
        table.add_row(
            measurement.metric, "—", _measured(measurement), "", Text(status, style="dim" if status == "measured" else "yellow"),
            measurement.reason or measurement.method, "",
        )
    return table


def summary_line(record: RunRecord, exit_code: int) -> Text:
    counts = Counter(v.status for v in record.verdicts())
    parts = [Text(f"{counts[s]} {s}", style=STYLES[s]) for s in ("pass", "drift", "unverified", "error", "waived") if counts[s]]
    text = Text(f"{len(record.models)} model(s), {sum(counts.values())} claim(s): ")
    text.append_text(Text(", ").join(parts) if parts else Text("nothing judged"))
    meaning = {0: "every checked claim passes or is waived", 1: "a gating claim drifted", 2: "bad input", 3: "incomplete: some measurements could not be made"}
    text.append(f"  -> exit {exit_code} ({meaning.get(exit_code, '')})")
    return text


def make_console() -> Console:
    """A console for tables: the terminal's width, or 160 columns when output is not a
    terminal (CI logs and pipes are wide; folding tables to 80 columns makes them unreadable)."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def print_run(record: RunRecord, exit_code: int, console: Optional[Console] = None) -> None:
    """Print every model's table and the summary line."""
    console = console or make_console()
    for result in record.models:
        console.print(model_table(result))
    console.print(summary_line(record, exit_code))
