"""``zoo diff`` as text and CSV: a summary line per model, then its changed images."""

from __future__ import annotations

import csv
from pathlib import Path

from zoo.atomic import atomic_open
from zoo.inert import csv_row
from zoo.runs.diff import ModelDiff, RunDiff


def render_diff(result: RunDiff, show: int) -> str:
    """The diff as text: a summary line per model, then its changed images."""
    lines: list[str] = []
    for diff in result.models:
        lines.append(_summary(diff))
        listed = diff.changed if show == 0 else diff.changed[:show]
        if listed:
            width = max(len("image"), *(len(c.name) for c in listed))
            lines.append(f"  {'image':<{width}}  {'label':>5}  {'A top-1':>7}  {'B top-1':>7}  change")
            for c in listed:
                lines.append(f"  {c.name:<{width}}  {c.label:>5}  {c.before:>7}  {c.after:>7}  {c.change}")
        if len(listed) < len(diff.changed):
            lines.append(f"  ... {len(diff.changed) - len(listed)} more (--show 0 lists all, --csv writes them)")
    for name in result.only_in_a:
        lines.append(f"{name}: predictions only in run A")
    for name in result.only_in_b:
        lines.append(f"{name}: predictions only in run B")
    if not lines:
        lines.append("no model has predictions in both runs")
    return "\n".join(lines)


def _summary(diff: ModelDiff) -> str:
    text = (
        f"{diff.model}: {len(diff.changed):,} of {diff.common:,} images changed top-1 "
        f"(fixed {diff.count('fixed')}, broken {diff.count('broken')}, wrong to wrong {diff.count('wrong')})"
    )
    extra = []
    if diff.only_in_a:
        extra.append(f"{diff.only_in_a:,} images only in A")
    if diff.only_in_b:
        extra.append(f"{diff.only_in_b:,} only in B")
    if diff.label_mismatches:
        extra.append(f"{diff.label_mismatches:,} with different labels")
    return text + (f"; {', '.join(extra)}" if extra else "")


def write_diff_csv(path: Path, result: RunDiff) -> None:
    """Every changed image of every model, written atomically."""
    with atomic_open(path, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["model", "image", "label", "a_top1", "b_top1", "change"])
        for diff in result.models:
            for c in diff.changed:
                writer.writerow(csv_row([diff.model, c.name, c.label, c.before, c.after, c.change]))  # zoo.inert's cell rule


__all__ = ["render_diff", "write_diff_csv"]
