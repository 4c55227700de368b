"""``zoo diff RUN_A RUN_B``: the images whose top-1 prediction changed, per model."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import click

from zoo.cli.common import echo, explained_errors
from zoo.errors import InputError
from zoo.runs.diff import diff_predictions, run_predictions
from zoo.views.diff_text import render_diff, write_diff_csv


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
    echo(render_diff(result, show))
    if csv_path:
        write_diff_csv(Path(csv_path), result)
        echo(f"changed images written to {csv_path}", err=True)
