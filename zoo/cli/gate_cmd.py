"""``zoo gate``: re-judge stored runs against the current claims and policy; exit like verify."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors, index_option
from zoo.cli.runs_args import read_runs, runs_argument
from zoo.errors import InputError, OutOfSpaceError
from zoo.judge.exit_codes import worst_code
from zoo.judge.gate import gate_runs
from zoo.index import DEFAULT_INDEX, Index, load_index
from zoo.judge.policy import load_policy, parse_gate_metrics
from zoo.weights.lockfile import load_lock
from zoo.weights.options import DEFAULT_LOCK_PATH
from zoo.views.display import display_run
from zoo.views.gate_text import gate_lines, gate_summary


def _index(paths: Sequence[str], stored_claims: bool) -> Optional[Index]:
    if stored_claims:
        return None
    if not paths and not DEFAULT_INDEX.exists():
        raise InputError(
            f"no index to judge against: {DEFAULT_INDEX}/ does not exist here",
            hint="pass --index PATH (or $ZOO_INDEX), or --stored-claims to judge against the claims stored in the run",
        )
    return load_index(paths)


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
              help="Judge against the claims stored in the run instead of the current index.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge waivers as on this day (YYYY-MM-DD; default: today).")
@explained_errors
def command(
    runs: Sequence[str], results: Optional[str], index_paths: Sequence[str], tolerances: Optional[str],
    gate_metrics: Optional[str], junit_file: Optional[str], stored_claims: bool, today: Optional[dt.datetime],
) -> None:
    """Re-judge stored runs against the current claims and policy; exit by the verdicts.

    RUN: run.json files or run folders (default: the latest run in the results folder).
    Their stored measurements are judged again against the CURRENT index, tolerances
    and waivers; nothing is measured. Shards of one run are merged first. The causes are kept apart: drift (the claim is
    off), incomplete (download, data or memory failed), error (bad input).
    """
    records = read_runs(runs, results)
    policy = load_policy(tolerances)
    if gate_metrics is not None:
        policy = policy.with_gate_metrics(parse_gate_metrics(gate_metrics))
    index = _index(index_paths, stored_claims)
    lock_path = Path(os.environ.get("ZOO_LOCK") or DEFAULT_LOCK_PATH)  # the lock says which file a card means
    lock = load_lock(lock_path) if lock_path.is_file() else None
    outcomes = gate_runs(records, policy, index=index, today=today.date() if today else None, lock=lock)
    for result in outcomes:  # printed for people: long names shortened (the JUnit XML keeps them whole)
        for line in gate_lines(dataclasses.replace(result, run=display_run(result.run)), index, policy):
            echo(line)
    code = worst_code([result.code for result in outcomes])
    if junit_file:
        from zoo.views.junit import write_junit

        try:
            write_junit([result.run for result in outcomes], Path(junit_file))
            echo(f"JUnit XML: {junit_file}", err=True)
        except OutOfSpaceError as exc:  # the verdicts stand; the file could not be written (incomplete)
            echo(f"zoo: error: {exc}", err=True)
            code = worst_code([code, exc.exit_code])
    echo(gate_summary(code))
    sys.exit(code)
