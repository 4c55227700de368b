"""The output flags ``zoo verify``, ``zoo bench`` and ``zoo report`` share, and printing a run with them."""

from __future__ import annotations

from typing import Any, Callable, Optional, TypeVar

import click

from zoo.cli.common import out
from zoo.records import RunRecord

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "csv")


def output_options(func: F) -> F:
    """``--format``, ``-v/--verbose``, ``-q/--quiet`` and ``--color/--no-color``."""
    for decorator in reversed(
        [
            click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                         help="table for people; json or csv on stdout for machines (one row per model, timm's "
                         "validate.py/benchmark.py field names plus each claim's verdict)."),
            click.option("-v", "--verbose", is_flag=True, help="List every claim of every model (default: a summary row per "
                         "model and the claims that need attention, when there are several models)."),
            click.option("-q", "--quiet", is_flag=True, help="Only the summary line; no progress (like ZOO_PROGRESS=0)."),
            click.option("--color/--no-color", "color", default=None,
                         help="Force styling on or off (default: on for a terminal; NO_COLOR and FORCE_COLOR are honoured)."),
        ]
    ):
        func = decorator(func)
    return func


def print_record(record: RunRecord, fmt: str, verbose: bool = False, quiet: bool = False, color: Optional[bool] = None) -> None:
    """Print ``record`` as the table (at the detail the flags ask for), JSON or CSV on stdout."""
    if fmt == "json":
        from zoo.views.results import render_results_json

        out(render_results_json(record), json_text=True)
    elif fmt == "csv":
        from zoo.views.results import render_results_csv

        out(render_results_csv(record))
    else:
        from zoo.views.terminal import make_console, print_run

        print_run(record, make_console(color), "quiet" if quiet else "claims" if verbose else "auto")
