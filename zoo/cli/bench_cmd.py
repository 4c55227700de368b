"""``zoo bench``: throughput and latency only (``zoo verify --only throughput``)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors
from zoo.cli.declared import click_options, options_from
from zoo.cli.verify_cmd import run_and_exit, verify_options
from zoo.measure.throughput.options import BenchOptions


@click.command("bench", epilog=EXIT_CODES_HELP)
@verify_options
@click_options(BenchOptions)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run the benchmark in N fresh processes, one after another; the figure is their median and "
    "the spread their range (evidence across processes, which `zoo report` needs to call a change).",
)
@explained_errors
def command(repeat: int, **kw: Any) -> None:
    """Measure inference throughput (images/s) and batch-1 latency of MODELS (or --all).

    The figures go into a run record like `zoo verify`'s, with every condition (device,
    dtype, memory format, batch used, threads, allocator, rounds and spread).
    """
    from zoo.verify.repeat import CHILD_ENV

    if repeat > 1 and not os.environ.get(CHILD_ENV):
        _repeated(repeat, kw)
    run_and_exit(["throughput"], kw)


def _repeated(repeat: int, kw: dict[str, Any]) -> None:
    """Run this same command in ``repeat`` fresh processes, then record and print the combination."""
    from zoo.judge.gate import run_exit_code
    from zoo.judge.policy import load_policy, parse_gate_metrics
    from zoo.runs.store import new_run_id, publish, results_dir, staging
    from zoo.verify.repeat import combine_processes, run_in_fresh_processes, save_processes
    from zoo.views.terminal import print_run

    from zoo.index import load_index

    from zoo.judge.zoo_data import load_zoo_data

    options_from(BenchOptions, kw)  # bad options and unknown models fail here, before any process starts
    index = load_index(kw["index_paths"])
    index.select(kw["models"], kw["all_models"])
    args = ["bench", *_arguments(click.get_current_context())]
    records = run_in_fresh_processes(args, repeat, say=lambda line: echo(f"zoo bench: {line}", err=True))
    policy = load_policy(kw["tolerances"])
    if kw["gate_metrics"] is not None:
        policy = policy.with_gate_metrics(parse_gate_metrics(kw["gate_metrics"]))
    zoo = load_zoo_data(index.roots, index.digests, conventions=kw["conventions"], tables=kw["reference_tables"], policy=policy)
    combined = combine_processes(records, zoo, new_run_id(), dt.date.today())
    path = None
    if not kw["no_record"]:
        with staging(results_dir(kw["results"]), combined.run_id) as folder:
            save_processes(records, folder)
            path = publish(combined, folder)
    print_run(combined)
    if path is not None:
        echo(f"run record: {path}", err=True)
    from zoo.cli.common import report_index_problems
    from zoo.judge.exit_codes import worst_code

    sys.exit(worst_code([run_exit_code(combined), report_index_problems(index)]))


def _arguments(ctx: click.Context) -> list[str]:
    """The command line that gives this command's parsed values again, without --repeat.

    click keeps no copy of the raw arguments (and ``sys.argv`` is not ours under a test
    runner), so the line is rebuilt from the parameters."""
    args: list[str] = []
    positional: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name == "repeat" or value is None:
            continue
        if isinstance(param, click.Argument):
            positional.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
        elif isinstance(param, click.Option):
            if param.is_flag and param.secondary_opts:
                args.append(param.opts[0] if value else param.secondary_opts[0])
            elif param.is_flag:
                if value:
                    args.append(param.opts[0])
            elif param.multiple:
                for item in value:
                    args.extend([param.opts[0], str(item)])
            else:
                args.extend([param.opts[0], str(value)])
    return [*args, "--", *positional] if positional else args
