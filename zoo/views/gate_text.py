"""``zoo gate`` as text: per run what was judged against what, and the claims by cause."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from zoo.judge.gate import CAUSES, GateResult, unclaimed_failures
from zoo.judge.policy import Policy
from zoo.records import Verdict
from zoo.views.rows import GATE_OUTCOMES, VERDICT_ORDER, format_value, metric_label

if TYPE_CHECKING:
    from zoo.index import Index


def _claim_line(verdict: Verdict) -> str:
    claim, measurement = verdict.claim, verdict.measurement
    parts = [f"{verdict.model} {metric_label(verdict.metric).lower()}"]
    if claim is not None:
        parts.append(f"claimed {claim.raw or claim.value}")
    if measurement is not None and measurement.status == "ok":
        parts.append(f"measured {format_value(measurement.value, measurement.unit)}")
    text = ", ".join(parts) + f": {verdict.explanation}"
    return text + (f"  ({claim.source})" if claim is not None else "")


def gate_lines(result: GateResult, index: Optional["Index"], policy: Policy) -> list[str]:
    """What the gate found in one run: header, counts, missing shards, then the claims that
    keep it from passing, by cause, and drifts that do not gate."""
    run = result.run
    verdicts = run.verdicts()
    counts = " · ".join(f"{sum(v.status == s for v in verdicts)} {s}" for s in VERDICT_ORDER)
    against = "the claims stored in the run" if index is None else index.describe_roots()
    lines = [
        f"zoo gate: run {run.run_id} ({len(run.models)} models, {len(verdicts)} claims) "
        f"judged on {run.gate.judged_on if run.gate else None} against {against} and {policy.source or 'built-in tolerances'}",
        f"  {counts}; gating: {', '.join(sorted(policy.gate_metrics)) or 'none'}",
    ]
    if result.dropped:
        lines.append(f"  not judged (no longer in the index): {', '.join(result.dropped)}")
    if run.merge is not None and run.merge.missing:
        lines.append(f"  missing shards (incomplete): {','.join(run.merge.missing)}")
    for cause, found in result.by_cause().items():
        if found:
            lines.append(f"{cause}: {CAUSES[cause]}")
            lines += [f"  {_claim_line(v)}" for v in found]
    unclaimed = unclaimed_failures(run)
    if unclaimed:
        lines.append("requested measurements that no claim judges, and that failed or could not be made:")
        lines += [f"  {model} {m.metric}: {m.status}: {m.reason or 'no reason recorded'}" for model, m in unclaimed]
    reported = result.reported_drifts()
    if reported:
        lines.append("drift in metrics that do not gate (reported only):")
        lines += [f"  {_claim_line(v)}" for v in reported]
    return lines


def gate_summary(code: int) -> str:
    """The last line of ``zoo gate``: the outcome and what its exit code means."""
    label, meaning = GATE_OUTCOMES.get(code, ("unknown", ""))
    return f"gate: {label} (exit {code}): {meaning}"


__all__ = ["gate_lines", "gate_summary"]
