"""``zoo verify``: measure every claim of the chosen models and judge it."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from zoo import progress
from zoo.cli.common import EXIT_BAD_INPUT, EXIT_CODES_HELP, echo, conventions_option, explained_errors, index_option, report_index_problems
from zoo.cli.declared import click_options, options_from
from zoo.errors import InputError
from zoo.judge.exit_codes import worst_code
from zoo.cli.output_options import output_options, print_record
from zoo.judge.zoo_data import load_zoo_data
from zoo.measure.accuracy.data.resolve import check_spec
from zoo.index import load_index
from zoo.measure.accuracy.options import EvalOptions
from zoo.measure.throughput.options import BenchOptions
from zoo.weights.options import FetchOptions
from zoo.judge.gate import run_exit_code
from zoo.records import MEASUREMENT_KINDS
from zoo.verify.plan import choose_kinds
from zoo.judge.policy import load_policy, parse_gate_metrics
from zoo.runs.store import results_dir
from zoo.runs.shard import parse_shard
from zoo.verify.shard import default_run_group, select_shard
from zoo.verify.pipeline import VerifyRequest, is_main_process, run_verify
from zoo.verify.repeat import CHILD_ENV, write_child_record
from zoo.verify.changed import last_full_run


def verify_options(func: Any) -> Any:
    """Options shared by ``zoo verify`` and ``zoo bench``."""
    func = output_options(func)
    for decorator in reversed(
        [
            click.argument("models", nargs=-1),
            click.option("--all", "all_models", is_flag=True, help="Every model in the index."),
            index_option,
            click.option("--results", type=click.Path(file_okay=False), default=None, help="Folder for run records (default: runs/, or $ZOO_RESULTS)."),
            click.option("--tolerances", type=click.Path(dir_okay=False), default=None, help="Tolerances and waivers file (default: metadata/tolerances.yml)."),
            click.option("--gate-metrics", default=None, help="Comma-separated metrics whose drift fails the run, or 'none' (default: from the tolerances file: top1,top5)."),
            click.option("--shard", default=None, metavar="K/N", help="Only the K-th of N deterministic shares of the models (CI matrices)."),
            click.option("--run-group", default=None, metavar="ID",
                         help="Identity shared by the shards of one job; shards of different groups are never merged. "
                         "[env ZOO_RUN_GROUP; default: the CI run id, e.g. GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT]"),
            click.option("--no-record", is_flag=True, help="Do not write a run record."),
            conventions_option,
            click.option(
                "--reference-tables", type=click.Path(file_okay=False), default="metadata/benchmarks", show_default=True,
                help="Folder of published benchmark-infer-*.csv tables; a row for the same model and device becomes a throughput claim.",
            ),
        ]
    ):
        func = decorator(func)
    return func


def _plain_option(value: Any) -> Any:
    """An option as the record keeps it: a scalar, a comma-joined list (None when empty), a path as text."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return ", ".join(str(item) for item in value) or None
    return str(value)


def recorded_options(kw: dict[str, Any]) -> dict[str, Any]:
    """The options as the run record keeps them: each as given, and each measuring option that
    only its environment variable set (``ZOO_IMAGENET``, ``ZOO_DEVICE``, ...) with that value, read
    by the one reader of the declared variables (:func:`zoo.flags.read_environment`), so
    ``--changed-since`` compares what the measurements were made with, not only what was typed."""
    from zoo.flags import flag_fields, read_environment
    from zoo.verify.changed import MEASURING_OPTIONS

    options = {k: _plain_option(v) for k, v in kw.items()}
    for cls in (FetchOptions, EvalOptions, BenchOptions):
        names = {field.name: meta.name for field, meta in flag_fields(cls)}
        values, _ = read_environment(cls)
        for field_name, value in values.items():
            key = names.get(field_name)
            if key in MEASURING_OPTIONS and key in kw and options.get(key) is None:
                options[key] = _plain_option(value)
    return options


def run_and_exit(kinds: list[str], kw: dict[str, Any]) -> None:
    """Build the request from parsed options, run it, print the table, exit with the verdicts' code."""
    progress.configure(quiet=kw["quiet"])  # notes and progress on stderr: bars, lines when piped, or nothing
    fetch = options_from(FetchOptions, kw)  # read once: the index's hf: cards and the weights obey the same flags
    index = load_index(kw["index_paths"], fetch=fetch)
    if index.from_folder:  # a folder without a root file: say which cards it stood for
        echo(f"zoo: {index.describe_files()}", err=True)
    changed_since = kw.get("changed_since")
    try:
        if changed_since:  # the arguments are the last full run's records; every model of the index is considered
            if kw["shard"]:
                raise InputError("--changed-since measures only what changed: run it without --shard",
                                 hint="run the shards of a full run without --changed-since")
            last = last_full_run(kw["models"])
            cards = index.select((), True)
        else:
            cards = index.select(kw["models"], kw["all_models"])
    except InputError:
        report_index_problems(index)  # what made the index empty, before saying that it is
        raise
    shard = None
    kw["run_group"] = kw.get("run_group") or default_run_group()
    if kw["shard"]:
        k, n = parse_shard(kw["shard"])
        cards, shard = select_shard(cards, k, n), kw["shard"]
        if kw["run_group"] is None:
            echo("zoo: warning: --shard without --run-group (and no CI run id such as GITHUB_RUN_ID): "
                       "shards of different runs can only be told apart by their git commit", err=True)
    policy = load_policy(kw["tolerances"])
    if kw["gate_metrics"] is not None:
        policy = policy.with_gate_metrics(parse_gate_metrics(kw["gate_metrics"]))
    zoo = load_zoo_data(
        index.roots, index.digests, conventions=kw["conventions"], tables=kw["reference_tables"], policy=policy,
        lock=kw.get("lock_file"),  # the lock the weights are fetched with ($ZOO_LOCK or the default when not given)
    )
    carry = None
    if changed_since:
        carry = _plan_changes(changed_since, cards, last, index, zoo, kinds, kw)
        progress.note(f"zoo: {carry.summary()}")
        cards = carry.measure
    evaluation = options_from(EvalOptions, kw) if "accuracy" in kinds else None
    if evaluation is not None and evaluation.data:
        check_spec(evaluation.data)  # a mistyped --data fails now, not after the downloads
    record_to = os.environ.get(CHILD_ENV)  # one of `zoo bench --repeat N`'s processes
    request = VerifyRequest(
        cards=cards,
        kinds=kinds,
        policy=policy,
        results=None if kw["no_record"] or record_to else results_dir(kw["results"]),
        index_paths=index.roots,
        fetch=fetch if "weights" in kinds else None,
        evaluation=evaluation,
        bench=options_from(BenchOptions, kw) if "throughput" in kinds else None,
        shard=shard,
        reference_tables=zoo.reference_tables,
        options=recorded_options(kw),
        today=dt.date.today(),
        zoo=zoo,
        index_cards=index.models,
        carried=carry,
    )
    record, path = run_verify(request, say=progress.note)
    code = run_exit_code(record)  # the same rule the table's summary line and `zoo gate` use
    if index.problems:  # bad input outside any one card (a card's own is an error verdict of its model)
        code = worst_code([code, EXIT_BAD_INPUT])
    if record_to:  # the parent process combines, records and prints
        write_child_record(record, Path(record_to))
        sys.exit(code)
    if not is_main_process():
        # Under torchrun only rank 0 reports; a non-zero exit here would make torchrun
        # kill rank 0 before it has written the record.
        sys.exit(0)
    print_record(record, kw["fmt"], kw["verbose"], kw["quiet"], kw["color"])
    if path is not None and not kw["quiet"]:
        progress.note(f"run record: {path}")
    report_index_problems(index)
    sys.exit(code)


def _plan_changes(ref: str, cards: list, last: Any, index: Any, zoo: Any, kinds: list[str], kw: dict[str, Any]) -> Any:
    """What a --changed-since run measures and carries over (zoo.verify.changed)."""
    from zoo.judge.conventions_file import ENV as CONVENTIONS_ENV
    from zoo.measure.allocator import describe as describe_allocator
    from zoo.runs.environment import fingerprint
    from zoo.verify.at_ref import zoo_at_ref
    from zoo.verify.changed import plan_changes
    from zoo.weights.options import DEFAULT_LOCK_PATH

    lock = kw.get("lock_file") or os.environ.get("ZOO_LOCK") or str(DEFAULT_LOCK_PATH)
    then = zoo_at_ref(
        ref, kw["index_paths"] or index.roots, [d.path for d in index.digests], tolerances=kw["tolerances"],
        conventions=kw["conventions"] or os.environ.get(CONVENTIONS_ENV) or None, lock=str(lock),
    )
    options = recorded_options(kw)
    return plan_changes(
        cards, then, last, here=fingerprint(allocator=describe_allocator()), kinds=kinds, options=options,
        policy=zoo.policy, conventions=zoo.conventions, lock=zoo.lock,
    )


@click.command("verify", epilog=EXIT_CODES_HELP)
@verify_options
@click.option("--changed-since", "changed_since", default=None, metavar="REF",
              help="Measure only the models whose claims, tolerances, waivers, pinned FLOPs conventions or weights lock "
              "entry changed since the git revision REF; carry the others' measurements over from the last full run, "
              "whose records are then the arguments (zoo verify --changed-since REF RUN...), and judge every model. "
              "Everything is measured when that run's environment or measuring options differ (the output says why).")
@click.option("--only", multiple=True, help=f"Measure only these (comma-separated): {', '.join(MEASUREMENT_KINDS)}.")
@click.option("--skip", multiple=True, help="Skip these measurements (comma-separated).")
@click_options(FetchOptions)
@click_options(EvalOptions)
@click_options(BenchOptions)
@explained_errors
def command(only: Sequence[str], skip: Sequence[str], **kw: Any) -> None:
    """Measure the claims of MODELS (or --all) and set each beside its claim with a verdict.

    Writes one run record (runs/<run-id>/run.json) that every view reads. With
    --changed-since REF the arguments are the last full run's records (RUN...), not models.
    """
    run_and_exit(choose_kinds(only, skip), kw)
