"""``zoo conventions``: fit a zoo's FLOPs conventions over every card and pin them, or show the pinned ones."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import click

from zoo import progress
from zoo.cli.common import EXIT_CODES_HELP, echo, conventions_option, explained_errors, index_option, report_index_problems
from zoo.errors import InputError
from zoo.records import ConventionTable


@click.group("conventions", epilog=EXIT_CODES_HELP)
def command() -> None:
    """A zoo's FLOPs counting conventions: fitted over every card, pinned in flops-conventions.yml.

    `zoo verify`, `gate` and `report` judge every FLOPs claim against the pinned file and never fit.
    """


@command.command("fit", epilog=EXIT_CODES_HELP)
@index_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the file (default: flops-conventions.yml in the index's folder).")
@click.option("--tolerances", type=click.Path(dir_okay=False), default=None,
              help="Tolerances file whose FLOPs tolerance counts a claim as explained (default: metadata/tolerances.yml).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
@explained_errors
def fit(index_paths: Sequence[str], out: Optional[str], tolerances: Optional[str], quiet: bool) -> None:
    """Measure the FLOPs of every card of the index (meta device), fit the conventions, write the file.

    Review the file like a change to a card and commit it: the zoo's convention (a named counter, or a
    ratio to the reference counter fitted over 20 or more claims), and each collection that counts
    another named way, with the claims each explains and the models it was fitted on.
    """
    import platform

    import timm
    import torch

    from zoo import __version__
    from zoo.index import load_index
    from zoo.judge.conventions_file import default_path, write_conventions
    from zoo.judge.policy import load_policy
    from zoo.verify.fit import fit_index

    progress.configure(quiet=quiet)
    index = load_index(index_paths)
    if report_index_problems(index):  # a pin must cover every card of the zoo, not the readable ones
        raise InputError(
            f"conventions not pinned: the index has {len(index.all_problems())} problem(s), named above",
            hint="fix them and fit again; the conventions are fitted over every card",
        )
    policy = load_policy(tolerances)
    label = ", ".join(index.roots)
    table = fit_index(index.models, policy, label, source=f"fitted over every card of {label}")
    target = Path(out) if out else default_path(index.roots)
    command_line = "zoo conventions fit" + "".join(f" --index {p}" for p in index.roots)
    versions = {"zoo": __version__, "timm": timm.__version__, "torch": torch.__version__.split("+")[0], "python": platform.python_version()}
    written = write_conventions(target, table, index.roots, versions, command_line)
    for line in describe_table(table):
        echo(line)
    echo(f"conventions: {written}", err=True)


@command.command("show", epilog=EXIT_CODES_HELP)
@index_option
@conventions_option
@explained_errors
def show(index_paths: Sequence[str], conventions: Optional[str]) -> None:
    """Print the FLOPs conventions verify, gate and report use for the index, and where they come from."""
    from zoo.index import load_index
    from zoo.judge.conventions_file import find_pinned, pin_hint

    index = load_index(index_paths)
    pinned = find_pinned(index.roots, conventions)
    if pinned is None:
        echo(f"no pinned FLOPs conventions for {', '.join(index.roots)}: verify fits them over every card at each run; "
                   f"{pin_hint(index.roots)}")
        sys.exit(0)
    for line in describe_table(pinned.table):
        echo(line)


def describe_table(table: ConventionTable) -> list[str]:
    """The table in a few lines: where it comes from, the zoo's convention, each departure."""
    lines = [f"FLOPs conventions {table.source} (tolerance {table.tolerance:g})"]
    if table.zoo is not None:
        lines.append(f"  zoo: {table.zoo.describe()}")
    for name, convention in sorted(table.collections.items()):
        lines.append(f"  {name}: {convention.describe()}")
    if table.zoo is None and not table.collections:
        lines.append("  none: no card claims FLOPs")
    return lines
