"""``zoo fix``: the corrected card values for the claims a run found drifted, as a diff, in place, or as a PR description."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Optional, Sequence

import click

from zoo import progress
from zoo.atomic import write_atomic
from zoo.inert import inert_text
from zoo.cli.common import EXIT_CODES_HELP, conventions_option, echo, explained_errors, index_option, out
from zoo.cli.runs_args import read_runs
from zoo.errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, InputError
from zoo.fix.diff import unified_diff
from zoo.fix.edit import prepare_edits, write_edits
from zoo.fix.source import FRESH_KINDS, fresh_run, propose, split_arguments
from zoo.judge.exit_codes import worst_code
from zoo.judge.gate import GateSettings
from zoo.runs.store import results_dir
from zoo.verify.plan import parse_kinds
from zoo.fix.text import pull_request, summary_lines

FIX_EXIT_HELP = (
    "Exit codes: 0 every drifted claim in scope got a new value (or none drifted); 2 bad usage or input, or a card "
    "file refused (outside the index folder, a symbolic link, changed since the run): nothing is written then; "
    "3 some drifted claims were left alone (the summary says why); 4 a bug in zoo."
)


@click.command("fix", epilog=FIX_EXIT_HELP + "\n\n" + EXIT_CODES_HELP)
@click.argument("arguments", nargs=-1, metavar="[MODEL ...] [RUN ...]")
@click.option("--all", "all_models", is_flag=True, help="Every model (of the index, or of the runs given).")
@index_option
@click.option("--results", type=click.Path(file_okay=False), default=None,
              help="Where the runs zoo fix makes are written: the measurement without RUN, the recount of "
              "models given a new config value (default: runs/, or $ZOO_RESULTS).")
@click.option("--only", multiple=True, metavar="KINDS",
              help=f"Without RUN: what to measure (comma-separated; default and at most: {','.join(FRESH_KINDS)}).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of the card files on stdout, for `git apply` (the default without --write).")
@click.option("--write", "write", is_flag=True,
              help="Edit the card files in place (atomically; only each value on its line changes).")
@click.option("--markdown", "markdown", default=None, metavar="FILE|-",
              help="Write a pull-request description (Markdown) of the changes to FILE, or stdout with '-'.")
@click.option("--tolerances", type=click.Path(dir_okay=False), default=None,
              help="Tolerances and waivers file (default: metadata/tolerances.yml).")
@conventions_option
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge waivers as on this day (YYYY-MM-DD; default: today).")
@explained_errors
def command(
    arguments: Sequence[str], all_models: bool, index_paths: Sequence[str], results: Optional[str], only: Sequence[str],
    show_diff: bool, write: bool, markdown: Optional[str], tolerances: Optional[str], conventions: Optional[str],
    today: Optional[dt.datetime],
) -> None:
    """Propose the corrected value of every drifted claim: a diff (default), the files edited, or a PR description.

    RUN: run folders or run.json files; any other argument names a MODEL. Without RUN, zoo fix first
    measures the models' config, params and FLOPs (like `zoo verify --only config,params,flops`,
    writing a run record) and fixes from that run; for File Size or accuracy claims, run `zoo verify`
    and pass its run. With RUN, MODEL and --all choose among the run's models (default: all of them).
    A model given a new Image Size, Crop Pct or Interpolation is counted again with it (config,
    params, FLOPs; a second run record) and its FLOPs and params are proposed from that count.

    Only `drift` verdicts get a value, as `zoo gate` judges the run: the measured figure the claim was
    compared with (FLOPs under the zoo's convention), written at the precision and in the form the card
    wrote. Unverified, inconclusive, waived and error claims, claims measured with another checkpoint,
    and accuracy from a subset or a paired estimate are left alone, with the reason.
    """
    if show_diff and markdown == "-":
        raise InputError("--diff and --markdown - both write to stdout", hint="send the description to a file: --markdown pr.md")
    day = today.date() if today else None
    split = split_arguments(arguments)
    progress.configure(quiet=False)
    if split.runs:
        if only:
            raise InputError("--only chooses what zoo fix measures without RUN", hint="drop --only, or drop the RUN arguments")
        records = read_runs(split.runs, None)
        models = None if all_models or not split.models else split.models
        if all_models and split.models:
            raise InputError("give model names or --all, not both")
    else:
        kinds = parse_kinds(only) if only else list(FRESH_KINDS)
        records = [fresh_run(index_paths, split.models, all_models, kinds, results_dir(results),
                             tolerances=tolerances, conventions=conventions, today=day)]
        models = None
    settings = GateSettings(index_paths=index_paths if split.runs else (), tolerances=tolerances, conventions=conventions, today=day)
    plan = propose(records, settings, models, results_dir(results))
    edits = prepare_edits(plan)
    left = plan.left_alone + edits.refused
    refused_files = write and edits.unsafe
    written = False
    if write and not refused_files:
        write_edits(edits.files)
        written = True
    if show_diff or (not write and markdown != "-"):
        diff = unified_diff(edits.files)
        sys.stdout.flush()
        # Piped, the diff is data for `git apply`: its bytes as they are (CRLF lines stay CRLF). On a
        # terminal it is read by a person: the card's text there passes the inert-text rule (zoo.inert).
        sys.stdout.buffer.write((inert_text(diff) if sys.stdout.isatty() else diff).encode("utf-8"))
        sys.stdout.buffer.flush()
        if any(Path(edit.path).is_absolute() for edit in edits.files):
            echo("zoo fix: the diff names absolute paths (the cards lie outside the working folder): "
                 "run zoo fix from the repository's folder for a diff `git apply` takes", err=True)
    if markdown is not None and not refused_files:
        text = pull_request(plan, edits.files, left)
        if markdown == "-":
            out(text)
        else:
            write_atomic(markdown, text)
            progress.note(f"zoo: pull-request description: {markdown}")
    for line in summary_lines(plan, edits.files, left, written):
        echo(line, err=True)
    if refused_files:
        echo("zoo fix: nothing was written (no card, no description): a card file was refused (see above)", err=True)
    refused = any(item.kind == "refused" for item in left)
    code = worst_code([EXIT_BAD_INPUT if edits.unsafe else EXIT_OK, EXIT_INCOMPLETE if refused else EXIT_OK])
    sys.exit(code)
