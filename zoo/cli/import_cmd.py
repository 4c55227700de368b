"""``zoo import SOURCE``: another zoo's documented numbers written as model-index cards."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors

DEFAULT_OUT = Path("metadata") / "torchvision"


@click.group("import", epilog=EXIT_CODES_HELP)
def command() -> None:
    """Write another zoo's documented numbers as model-index cards (claims to review, diff and pin)."""


@command.command("torchvision", epilog=EXIT_CODES_HELP)
@click.option("--out", type=click.Path(file_okay=False), default=str(DEFAULT_OUT), show_default=True,
              help="Folder for the cards (cards/<builder>.yml), their root model-index.yml and the pinned FLOPs convention.")
@explained_errors
def torchvision_command(out: str) -> None:
    """Every classification weights of the installed torchvision (parameters, GFLOPS, file size,
    ImageNet acc@1/acc@5, eval transform) as one card per builder; nothing is downloaded.

    Then: zoo verify --all --only config,params,flops --index OUT
    """
    from zoo.index.torchvision_cards import import_torchvision

    done = import_torchvision(Path(out))
    echo(f"torchvision {done.version}: {done.models} weights of {done.builders} builders written to {done.folder}/", err=True)
    for path in done.files:
        echo(str(path))
    echo(f"zoo: verify them with `zoo verify --all --only config,params,flops --index {done.folder}`", err=True)
