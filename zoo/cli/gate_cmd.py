"""``zoo gate``: re-judge stored runs against the current claims and policy; exit like verify."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Optional, Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, conventions_option, echo, explained_errors, index_option
from zoo.cli.runs_args import read_runs, runs_argument, stored_runs
from zoo.errors import OutOfSpaceError
from zoo.judge.exit_codes import worst_code
from zoo.judge.gate import Gate, GateSettings, gate_records
from zoo.judge.policy import parse_gate_metrics
from zoo.runs.cache import open_cache
from zoo.views.display import display_run
from zoo.views.gate_history import gate_history
from zoo.views.gate_text import gate_lines, gate_summary


@click.command("gate", epilog=EXIT_CODES_HELP)
@runs_argument
@index_option
@click.option("--tolerances", type=click.Path(dir_okay=False), default=None,
              help="Tolerances and waivers file (default: metadata/tolerances.yml).")
@click.option("--gate-metrics", default=None, metavar="METRICS",
              help="Comma-separated metrics whose drift fails the gate ('none' for no metric; default: "
              "the tolerances file's gate, top1,top5).")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), default=None,
              help="Write JUnit XML (a test suite per model, a test case per claim) to FILE.")
@click.option("--stored-claims", is_flag=True,
              help="Judge against the claims stored in the run instead of its index as it is now.")
@conventions_option
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge waivers as on this day (YYYY-MM-DD; default: today).")
@explained_errors
def command(
    runs: Sequence[str], results: Optional[str], index_paths: Sequence[str], tolerances: Optional[str],
    gate_metrics: Optional[str], junit_file: Optional[str], stored_claims: bool, conventions: Optional[str],
    today: Optional[dt.datetime],
) -> None:
    """Re-judge stored runs against the current claims and zoo data; exit by the verdicts.

    RUN: run.json files or run folders (default: the latest run in the results folder).
    Their stored measurements are judged again against the index each run was made from,
    AS IT IS NOW (--index for another; the cards changed since the run are named), and the
    current tolerances, waivers, pinned FLOPs conventions and weights lock; nothing is
    measured. Shards of one run are merged first. The causes are kept apart: drift (the
    claim is off), incomplete (download, data or memory failed), error (bad input).
    """
    settings = GateSettings(
        index_paths=index_paths, stored_claims=stored_claims, tolerances=tolerances, conventions=conventions,
        gate_metrics=parse_gate_metrics(gate_metrics) if gate_metrics is not None else None,
        today=today.date() if today else None,
    )
    if junit_file:  # JUnit XML holds every claim of every run: every run is read and judged whole
        from zoo.views.junit import write_junit

        outcomes = gate_records(read_runs(runs, results), settings)
        for result in outcomes:  # printed for people: long names shortened (the JUnit XML keeps them whole)
            for line in gate_lines(dataclasses.replace(result, run=display_run(result.run))):
                echo(line)
        code = worst_code([result.code for result in outcomes])
        try:
            write_junit([result.run for result in outcomes], Path(junit_file))
            echo(f"JUnit XML: {junit_file}", err=True)
        except OutOfSpaceError as exc:  # the verdicts stand; the file could not be written (incomplete)
            echo(f"zoo: error: {exc}", err=True)
            code = worst_code([code, exc.exit_code])
    else:  # each run's text and code, from the history cache when nothing they depend on changed
        codes = []
        gate = Gate(settings)
        with open_cache(use=len(runs) != 1) as cache:
            for found in gate_history(stored_runs(runs, results, cache), gate, cache):
                for line in found.lines:
                    echo(line)
                codes.append(found.code)
        code = worst_code(codes)
    echo(gate_summary(code))
    sys.exit(code)
