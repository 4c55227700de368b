"""``zoo diff RUN_A RUN_B``: the images whose top-1 prediction changed, per model."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Sequence

import click

from zoo.cli.common import explained_errors
from zoo.errors import InputError
from zoo.runs.diff import ModelDiff, RunDiff, diff_predictions
from zoo.runs.predictions import ARTIFACT_NAME, ImagePredictions, read_predictions


def run_predictions(path: str | Path) -> dict[str, ImagePredictions]:
    """The per-image predictions stored beside a run record (folder or run.json), or a baseline file."""
    from zoo.runs.baselines import SUFFIX, load_baseline
    from zoo.runs.store import load_run, run_file

    if Path(path).is_file() and str(path).endswith(SUFFIX):
        baseline = load_baseline(Path(path))
        return {baseline.info.model: baseline.predictions}
    file = run_file(path)
    record = load_run(file)
    name = record.artifacts.get(ARTIFACT_NAME)
    if not name:
        raise InputError(
            f"{file}: run {record.run_id} stored no per-image predictions",
            hint="only runs that measured accuracy on data (zoo verify --data ...) have them",
        )
    predictions = file.parent / name
    if not predictions.is_file():
        raise InputError(
            f"{file}: its predictions file {predictions} is missing", hint="was the run folder copied without it?"
        )
    return read_predictions(predictions)


@click.command("diff")
@click.argument("run_a", type=click.Path(exists=True))
@click.argument("run_b", type=click.Path(exists=True))
@click.option("--model", "models", multiple=True, help="Only this model (repeatable).")
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Changed images listed per model (0: all).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write every changed image to this CSV file.",
)
@explained_errors
def command(run_a: str, run_b: str, models: Sequence[str], show: int, csv_path: str | None) -> None:
    """List the images whose top-1 prediction changed between RUN_A and RUN_B, per model.

    RUN_A and RUN_B are run folders, their run.json files, or baseline files
    (metadata/baselines/MODEL.parquet, from `zoo baseline save`). Images are matched by name,
    so runs over different layouts of the same images compare. Exit code 0 unless a run
    cannot be read (2).
    """
    a, b = run_predictions(run_a), run_predictions(run_b)
    if models:
        unknown = [m for m in models if m not in a and m not in b]
        if unknown:
            raise InputError(
                f"no predictions for model(s) {', '.join(unknown)} in either run",
                hint=f"models in {run_a}: {', '.join(a) or 'none'}",
            )
        a = {k: v for k, v in a.items() if k in models}
        b = {k: v for k, v in b.items() if k in models}
    result = diff_predictions(a, b)
    click.echo(render(result, show))
    if csv_path:
        write_csv(Path(csv_path), result)
        click.echo(f"changed images written to {csv_path}", err=True)


def render(result: RunDiff, show: int) -> str:
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


def write_csv(path: Path, result: RunDiff) -> None:
    """Every changed image of every model, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["model", "image", "label", "a_top1", "b_top1", "change"])
            for diff in result.models:
                for c in diff.changed:
                    writer.writerow([diff.model, c.name, c.label, c.before, c.after, c.change])
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
