"""``zoo bench``: throughput and latency only (``zoo verify --only throughput``)."""

from __future__ import annotations

from typing import Any

import click

from zoo.cli.bench_options import bench_options
from zoo.cli.common import EXIT_CODES_HELP, explained_errors
from zoo.cli.verify_cmd import run_and_exit, verify_options


@click.command("bench", epilog=EXIT_CODES_HELP)
@verify_options
@bench_options
@explained_errors
def command(**kw: Any) -> None:
    """Measure inference throughput (images/s) and batch-1 latency of MODELS (or --all).

    The figures go into a run record like `zoo verify`'s, with every condition (device,
    dtype, memory format, batch used, threads, rounds and spread).
    """
    run_and_exit(["throughput"], kw)
