"""``zoo gate`` as text: per run what was judged against what, and the claims by cause."""

from __future__ import annotations

from zoo.judge.gate import CAUSES, GateResult, unclaimed_failures
from zoo.judge.tally import VERDICT_ORDER, tally
from zoo.records import Verdict
from zoo.views.rows import GATE_OUTCOMES, measured_text, metric_label


def _claim_line(verdict: Verdict) -> str:
    claim, measurement = verdict.claim, verdict.measurement
    parts = [f"{verdict.model} {metric_label(verdict.metric).lower()}"]
    if claim is not None:
        parts.append(f"claimed {claim.raw or claim.value}")
    if measurement is not None and measurement.status == "ok":
        shown, note = measured_text(verdict)
        parts.append(f"measured {shown}" + (f" ({note})" if note else ""))
    text = ", ".join(parts) + f": {verdict.explanation}"
    return text + (f"  ({claim.source})" if claim is not None else "")


def gate_lines(result: GateResult) -> list[str]:
    """What the gate found in one run: header, counts, missing shards, then the claims that
    keep it from passing, by cause, and drifts that do not gate."""
    run = result.run
    counted = tally(run)
    counts = " · ".join(f"{counted.by_status[s]} {s}" for s in VERDICT_ORDER)
    if counted.not_requested:
        counts += f" ({counted.not_requested} not asked for)"
    against = ", ".join(run.index) if result.index_read else "the claims stored in the run"
    judged = run.judged_against
    tolerances = judged.tolerances.path if judged is not None and judged.tolerances is not None else "built-in tolerances"
    gating = run.gate.gate_metrics if run.gate else []
    lines = [
        f"zoo gate: run {run.run_id} ({len(run.models)} models, {counted.claims} claims) "
        f"judged on {run.gate.judged_on if run.gate else None} against {against} and {tolerances}",
        f"  {counts}; gating: {', '.join(gating) or 'none'}",
    ]
    if judged is not None:
        lines.append(f"  FLOPs conventions: {judged.conventions.source or 'none'}")
    lines += [f"  note: {note}" for note in result.notes]
    if result.changed:
        lines.append(f"  changed since the run (judged as they are now): {', '.join(result.changed)}")
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
