"""``zoo gate``: re-judge stored runs against the current claims and policy; exit like verify."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Optional, Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, explained_errors, index_option
from zoo.cli.runs_args import read_runs, runs_argument
from zoo.errors import InputError
from zoo.judge.gate import CAUSES, GateResult, gate_runs, unclaimed_failures, worst_code
from zoo.index import DEFAULT_INDEX, Index, load_index
from zoo.judge.policy import Policy, load_policy, parse_gate_metrics
from zoo.records import Metric, Verdict
from zoo.views.rows import GATE_OUTCOMES, VERDICT_ORDER, format_value, metric_label

def _index(paths: Sequence[str], stored_claims: bool) -> Optional[Index]:
    if stored_claims:
        return None
    if not paths and not DEFAULT_INDEX.exists():
        raise InputError(
            f"no index to judge against: {DEFAULT_INDEX}/ does not exist here",
            hint="pass --index PATH (or $ZOO_INDEX), or --stored-claims to judge against the claims stored in the run",
        )
    return load_index(paths)


def _claim_line(verdict: Verdict) -> str:
    claim, measurement = verdict.claim, verdict.measurement
    parts = [f"{verdict.model} {metric_label(verdict.metric).lower()}"]
    if claim is not None:
        parts.append(f"claimed {claim.raw or claim.value}")
    if measurement is not None and measurement.status == "ok":
        parts.append(f"measured {format_value(measurement.value, measurement.unit)}")
    text = ", ".join(parts) + f": {verdict.explanation}"
    return text + (f"  ({claim.source})" if claim is not None else "")


def _describe(result: GateResult, index: Optional[Index], policy: Policy) -> list[str]:
    run = result.run
    verdicts = run.verdicts()
    counts = " · ".join(f"{sum(v.status == s for v in verdicts)} {s}" for s in VERDICT_ORDER)
    against = "the claims stored in the run" if index is None else ", ".join(index.roots)
    lines = [
        f"zoo gate: run {run.run_id} ({len(run.models)} models, {len(verdicts)} claims) "
        f"judged on {run.options.get('judged_on')} against {against} and {policy.source or 'built-in tolerances'}",
        f"  {counts}; gating: {', '.join(sorted(policy.gate_metrics)) or 'none'}",
    ]
    if result.dropped:
        lines.append(f"  not judged (no longer in the index): {', '.join(result.dropped)}")
    missing = run.options.get("shards_missing")
    if missing:
        lines.append(f"  missing shards (incomplete): {missing}")
    for cause, found in result.by_cause().items():
        if found:
            lines.append(f"{cause}: {CAUSES[cause]}")
            lines += [f"  {_claim_line(v)}" for v in found]
    unclaimed = unclaimed_failures(run)
    if unclaimed:
        lines.append("requested measurements that no claim judges, and that failed or could not be made:")
        lines += [f"  {model}  {m.metric}: {m.status}: {m.reason or 'no reason recorded'}" for model, m in unclaimed]
    reported = result.reported_drifts()
    if reported:
        lines.append("drift in metrics that do not gate (reported only):")
        lines += [f"  {_claim_line(v)}" for v in reported]
    return lines


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
    outcomes = gate_runs(records, policy, index=index, today=today.date() if today else None)
    for result in outcomes:
        for line in _describe(result, index, policy):
            click.echo(line)
    code = worst_code([result.code for result in outcomes])
    if junit_file:
        from zoo.views.junit import write_junit

        write_junit([result.run for result in outcomes], Path(junit_file))
        click.echo(f"JUnit XML: {junit_file}", err=True)
    label, meaning = GATE_OUTCOMES.get(code, ("unknown", ""))
    click.echo(f"gate: {label} (exit {code}): {meaning}")
    sys.exit(code)
