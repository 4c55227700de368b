"""The report as Markdown, sized for a CI job summary (GitHub's step summary takes 1 MiB).

Gate outcome and counts first, then what needs attention, then every claim folded in a
``<details>`` block (GitHub renders it; plain Markdown viewers show it as a list), then,
given several runs, the latest run's timing figures beside the previous run's.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from zoo.records import RunRecord
from zoo.views.baseline_rows import BaselineChanges, baseline_changes
from zoo.views.history_data import History, as_history
from zoo.views.history_rows import CHANGE_ORDER, PerformanceChanges, performance_changes
from zoo.views.rows import VERDICT_ORDER, ClaimRow, RunView, run_view

VERDICT_MARKS = {"pass": "✅", "drift": "❌", "error": "⛔", "unverified": "⚠️", "waived": "➖"}
CHANGE_MARKS = {"regression": "❌", "improvement": "✅", "unchanged": "➖", "inconclusive": "❔", "incomparable": "⚠️"}
GATE_MARKS = {"pass": "✅", "drift": "❌", "error": "⛔", "incomplete": "⚠️"}
MAX_DETAIL_ROWS = 2000
"""Beyond this many claims the full table is cut (a job summary must stay under 1 MiB)."""
MAX_CHANGED_ROWS = 1000
"""Changed images listed in all (the HTML report and the run record hold the rest)."""


def _cell(text: object) -> str:
    """Text safe inside a table cell: no pipes or line breaks, and no HTML or link syntax
    (card values are untrusted: ``<img onerror=...>`` must show as text)."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip()
    text = text.replace("<", "&lt;")  # no HTML tag can open ("->" stays readable)
    return text.replace("](", "]\\(")  # no [text](target) link or image made of card text


def _code(text: object) -> str:
    """Text as a code span: backticks and pipes cannot end it or the cell."""
    return "`" + str(text).replace("`", "'").replace("|", "/").replace("\r", " ").replace("\n", " ").strip() + "`"


def _source(row: ClaimRow, linked: bool) -> str:
    if row.source is None:
        return ""
    return f"[{_cell(row.source)}](<{row.source_href}>)" if linked else _code(row.source)


def _verdict(row: ClaimRow) -> str:
    mark = VERDICT_MARKS.get(row.status, "")
    text = f"{mark} {row.status}".strip()
    return f"**{text}**" if row.status in ("drift", "error") else text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """A pipe table; cells must already be safe (see :func:`_cell`)."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _claim_rows(rows: Sequence[ClaimRow], linked: bool, with_why: bool) -> list[str]:
    header = ["Model", "Claim", "Claimed", "Measured", "Δ", "Δ rel", "Tolerance", "Verdict"] + (["Why"] if with_why else []) + ["Source"]
    body = []
    for row in rows:
        texts = [row.model, row.label + (" (gate)" if row.gating else ""), row.claimed, row.measured or "—",
                 row.difference, row.relative, row.tolerance]
        cells = [_cell(text) for text in texts] + [_verdict(row)]
        if with_why:
            cells.append(_cell(row.explanation))
        cells.append(_source(row, linked))
        body.append(cells)
    return _table(header, body, right=(2, 3, 4, 5, 6))


def render_markdown(
    runs: Union[Sequence[RunRecord], RunRecord, History], *, link_template: Optional[str] = None,
    title: str = "zoo reproducibility report",
) -> str:
    """Markdown for the latest of ``runs``: outcome, counts, attention, unverified, all claims,
    and with several runs the performance changes since the run that finished before it.

    Claim sources become links only with ``link_template`` (a CI summary cannot open
    local files); otherwise they are shown as ``path:line``.
    """
    if not isinstance(runs, (History, RunRecord)) and not runs:
        raise ValueError("render_markdown needs at least one run record")
    history = as_history(runs)
    view = run_view(history.current, link_template=link_template)
    linked = bool(link_template)
    lines = _header(view, title)

    attention = view.with_status("drift", "error")
    if attention:
        lines += ["", "### Needs attention", ""] + _claim_rows(attention, linked, with_why=True)
    unverified = view.incomplete
    if unverified:
        lines += ["", "### Unverified", ""]
        # Claims that share a reason sit together and the reason is written once.
        groups: dict[str, list] = {}
        for r in unverified:
            groups.setdefault(r.reason or r.explanation, []).append(r)
        lines += _table(["Model", "Claim", "Claimed", "Reason", "Source"],
                        [[_cell(r.model), _cell(r.label), _cell(r.claimed), _cell(reason) if i == 0 else "″ (same reason)", _source(r, linked)]
                         for reason, members in groups.items() for i, r in enumerate(members)],
                        right=(2,))
    if view.not_requested:
        lines += ["", f"_Not asked for in this run: {len(view.not_requested)} claims "
                      f"({_cell(', '.join(view.not_requested_metrics))})._"]
    lines += ["", "### Models", ""]
    lines += _table(["Model"] + list(VERDICT_ORDER) + ["Worst"],
                    [[_cell(m.name)] + [str(m.counts.get(s, 0)) for s in VERDICT_ORDER] + [f"{VERDICT_MARKS.get(m.worst, '')} {m.worst}"]
                     for m in view.models],
                    right=tuple(range(1, len(VERDICT_ORDER) + 1)))
    evaluated = [m for m in view.models if m.evaluated]
    if evaluated:
        lines += ["", "### Weights evaluated", ""]
        lines += _table(["Model", "File (source, repo@commit, name, SHA-256)"],
                        [[_cell(m.name), _cell(m.evaluated)] for m in evaluated])
    rows = view.rows
    shown = rows[:MAX_DETAIL_ROWS]
    lines += ["", f"<details><summary>All {len(rows)} claims</summary>", ""]
    lines += _claim_rows(shown, linked, with_why=False)
    if len(rows) > len(shown):
        lines += ["", f"_{len(rows) - len(shown)} more claims are in the HTML report and the CSV export._"]
    lines += ["", "</details>"]
    paired = baseline_changes(view.run)
    if paired:
        lines += [""] + _baseline_changes(paired)
    changes = performance_changes(history.records)
    if changes is not None:
        lines += [""] + _changes(changes)
    lines += ["", _environment_line(view.run), ""]
    return "\n".join(lines)


def _baseline_changes(rows: Sequence[BaselineChanges]) -> list[str]:
    """Per model: the baseline its top-1/top-5 were paired with, and the images whose top-1 changed."""
    lines = ["### Changed images against the baseline", ""]
    for row in rows:
        if not row.used:
            lines += [f"- **{_cell(row.model)}**: baseline `{_cell(row.baseline)}` not used: {_cell(row.reason)}"]
            continue
        lines += [f"- **{_cell(row.model)}**: paired with `{_cell(row.baseline)}` on {row.images:,} images; "
                  f"{row.changed_count:,} changed top-1 ({row.gained} gained, {row.lost} lost)"]
    budget = MAX_CHANGED_ROWS
    for row in [row for row in rows if row.used and row.changed]:
        shown = row.changed[:budget]
        budget -= len(shown)
        lines += ["", f"<details><summary>{_cell(row.model)}: {row.changed_count:,} changed images</summary>", ""]
        if shown:
            lines += _table(["Image", "Label", "Baseline top-1", "New top-1"],
                            [[_cell(c.name), str(c.label), str(c.baseline_top1), str(c.new_top1)] for c in shown],
                            right=(1, 2, 3))
        if row.changed_count > len(shown):
            lines += ["", f"_{row.changed_count - len(shown):,} more are in the HTML report and the run record._"]
        lines += ["", "</details>"]
    return lines


def _changes(changes: PerformanceChanges) -> list[str]:
    """The latest run's timing figures beside the previous run's, with compare_runs' status."""
    counts = " · ".join(f"{changes.counts.get(s, 0)} {s}" for s in CHANGE_ORDER)
    lines = [
        "### Performance changes",
        "",
        f"Run {_code(changes.current.run_id)} compared with {_code(changes.previous.run_id)} (the run before it): {counts}. "
        "A change counts only when it exceeds the between-process spread of both runs (`zoo bench --repeat N`) "
        "and 5%; with only within-run spreads it is inconclusive.",
        "",
    ]
    body = []
    for row in changes.rows[:MAX_DETAIL_ROWS]:
        mark = CHANGE_MARKS.get(row.status, "")
        status = f"{mark} {row.status}".strip()
        previous = row.previous + (f" {row.previous_spread}" if row.previous_spread else "")
        current = row.current + (f" {row.current_spread}" if row.current_spread else "")
        body.append([
            _cell(row.model), _cell(row.label), _cell(previous or "—"), _cell(current or "—"), _cell(row.relative),
            f"**{status}**" if row.status == "regression" else status, _cell(row.explanation),
        ])
    lines += _table(["Model", "Metric", "Previous", "Current", "Δ rel", "Status", "Why"], body, right=(2, 3, 4))
    if len(changes.rows) > MAX_DETAIL_ROWS:
        lines += ["", f"_{len(changes.rows) - MAX_DETAIL_ROWS} more timing figures are in the HTML report._"]
    return lines


def _header(view: RunView, title: str) -> list[str]:
    gate = view.gate
    counts = " · ".join(f"{view.counts.get(s, 0)} {s}" for s in VERDICT_ORDER)
    run = view.run
    lines = [
        f"## {title}",
        "",
        f"**Gate: {GATE_MARKS.get(gate.label, '')} {gate.label}** (exit code {gate.code}): {gate.meaning}.",
        "",
        f"{len(view.models)} models · {view.claims_checked} claims: {counts}. "
        f"Gating metrics: {', '.join(view.gating_metrics) or 'none'}.",
        "",
        f"Run {_code(run.run_id)} · {_cell(run.started)} → {_cell(run.finished)}"
        + (f" · shards {_cell(','.join(run.merge.shards))}" if run.merge is not None else "")
        + (f" · shard {_cell(run.shard)}" if run.shard else ""),
    ]
    if view.missing_shards:
        lines += ["", f"> **Missing shards:** {_cell(', '.join(view.missing_shards))}; their models were not checked."]
    return lines


def _environment_line(run: RunRecord) -> str:
    env = run.environment
    device = ", ".join(env.gpus) if env.gpus else env.cpu
    packages = " · ".join(f"{k} {v}" for k, v in sorted(env.packages.items()) if v)
    commit = f" · commit {_code(env.git_commit[:10])}{' (dirty)' if env.git_dirty else ''}" if env.git_commit else ""
    malloc = f"malloc: {env.allocator}" if env.allocator else ""
    parts = (f"Python {env.python}", f"torch {env.torch}", packages, device, malloc, env.hostname)
    text = " · ".join(_cell(part) for part in parts if part)
    return f"<sub>{text}{commit}</sub>"
