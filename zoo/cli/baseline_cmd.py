"""``zoo baseline save RUN [MODEL ...]`` and ``zoo baseline show``: stored full evaluations."""

from __future__ import annotations

from typing import Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors
from zoo.runs.baselines import DEFAULT_DIR, baselines_from_run, list_baselines, save_baseline

_DIR_HELP = f"Folder of baseline files. [default: {DEFAULT_DIR}]"


@click.group("baseline")
def command() -> None:
    """Keep a full accuracy evaluation as data, so subset runs (--limit) are judged paired with it.

    One full run on trusted hardware -> `zoo baseline save RUN` -> commit metadata/baselines/
    -> `zoo verify --limit 2000` pairs every scored image with the baseline's prediction.
    """


@command.command("save", epilog=EXIT_CODES_HELP)
@click.argument("run", type=click.Path(exists=True))
@click.argument("models", nargs=-1)
@click.option("--dir", "folder", type=click.Path(file_okay=False), default=str(DEFAULT_DIR), help=_DIR_HELP)
@explained_errors
def save(run: str, models: Sequence[str], folder: str) -> None:
    """Write one baseline file per model of RUN (or of MODELS) from its per-image predictions.

    RUN is a run folder or its run.json; it must have scored its whole population (no --limit;
    --population all for data other than ImageNet val) and verified each checkpoint.
    """
    from pathlib import Path

    from zoo.cli.diff_cmd import run_predictions
    from zoo.runs.store import load_run

    record = load_run(run)
    baselines = baselines_from_run(record, run_predictions(run), models)
    for baseline in baselines:
        path = save_baseline(Path(folder), baseline)
        info = baseline.info
        echo(
            f"{path}: {info.model}, {info.images:,} images, top-1 {info.top1:.3f}%, top-5 {info.top5:.3f}%, "
            f"{path.stat().st_size / 1024:,.0f} KB"
        )


@command.command("show", epilog=EXIT_CODES_HELP)
@click.option("--dir", "folder", type=click.Path(file_okay=False), default=str(DEFAULT_DIR), help=_DIR_HELP)
@explained_errors
def show(folder: str) -> None:
    """List the stored baselines: model, images, accuracy and what a run must match."""
    baselines = list_baselines(folder)  # type: ignore[arg-type]
    if not baselines:
        echo(f"no baselines in {folder} (create them with `zoo baseline save RUN`)")
        return
    for b in baselines:
        i = b.info
        echo(
            f"{i.model}: {i.images:,} of {i.population:,} images, top-1 {i.top1:.3f}%, top-5 {i.top5:.3f}% "
            f"(run {i.run_id}, saved {i.created}; {b.path.stat().st_size / 1024:,.0f} KB)"
        )
        echo(f"  checkpoint sha256 {i.checkpoint_sha256}")
        echo(f"  transform {i.transform}")
        echo(f"  dataset {i.dataset} ({i.dataset_images:,} images, fingerprint {i.dataset_fingerprint})")
        versions = ", ".join(f"{k} {v}" for k, v in i.environment.items() if k in ("python", "torch", "timm", "cuda"))
        echo(f"  environment {versions}; {i.environment.get('cpu', '')}")
