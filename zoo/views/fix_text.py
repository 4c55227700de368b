"""What ``zoo fix`` tells a person: a summary on the terminal, and a pull-request description.

The description has one row per change (the claim and where it is written, old -> new value,
the evidence: the judged measurement, its convention or conditions, the run, the environment),
then what it leaves alone and why: drifted claims with no proposal first, then claims that were
not judged pass (waived, inconclusive, measured with another checkpoint, unverified, error),
and a count by metric of the claims the runs did not measure. Card text is escaped as in the
Markdown report (:mod:`zoo.views.markdown`): a value or a model name cannot open HTML or a link.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from zoo.fix.edit import FileEdit
from zoo.fix.plan import LEFT_KINDS, Change, Evidence, FixPlan, LeftAlone, describe_environment
from zoo.metrics import label, sort_key
from zoo.views.markdown import _cell as cell
from zoo.views.markdown import _code as code
from zoo.views.markdown import _table as table

MAX_LISTED = 500
"""Claims left alone listed one by one in the description; the rest are counted."""


def changes_by_metric(changes: Sequence[Change]) -> list[tuple[str, int]]:
    """(metric, claims changed) in table order; a collection's value counts once per model."""
    counts = Counter[str]()
    for change in changes:
        counts[change.metric] += len(change.models)
    return sorted(counts.items(), key=lambda item: sort_key(item[0]))


def summary_lines(plan: FixPlan, files: Sequence[FileEdit], left: Sequence[LeftAlone], written: bool) -> list[str]:
    """The terminal summary (stderr): changes by metric, then each drifted claim left alone and why."""
    changes = [c for f in files for c in f.changes]
    verb = "wrote" if written else "proposes"
    by_metric = ", ".join(f"{label(m)} {n}" for m, n in changes_by_metric(changes)) or "none"
    runs = ", ".join(run.run_id for run in plan.runs)
    lines = [f"zoo fix: {verb} {sum(len(c.models) for c in changes)} change(s) in {len(files)} file(s) from run {runs}: {by_metric}"]
    refused = [item for item in left if item.kind == "refused"]
    if refused:
        lines.append(f"zoo fix: {len(refused)} drifted claim(s) left alone:")
        lines += [f"  {item.model}  {item.source}  {item.field}: {item.why}" for item in refused]
    others = Counter(item.kind for item in left if item.kind != "refused")
    if others:
        lines.append("zoo fix: not proposed (not drift): " + ", ".join(f"{n} {LEFT_KINDS[k]}" for k, n in _ordered(others)))
    return lines


def _ordered(counts: Counter[str]) -> list[tuple[str, int]]:
    order = list(LEFT_KINDS)
    return sorted(counts.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))


def pull_request(plan: FixPlan, files: Sequence[FileEdit], left: Sequence[LeftAlone]) -> str:
    """A pull-request description in Markdown for the changes of ``files``."""
    changes = sorted((c for f in files for c in f.changes), key=lambda c: (c.path, c.line))
    runs = ", ".join(code(run.run_id) for run in plan.runs)
    count = sum(len(c.models) for c in changes)
    lines = [
        "## Correct drifted claims measured by zoo",
        "",
        f"{count} claim(s) in {len(files)} file(s), from zoo run {runs}. Each new value is the figure zoo's judge "
        "compared the claim with (for FLOPs, under the zoo's counting convention), written at the precision the card "
        "wrote; only the value on its line changes.",
        "",
    ]
    by_metric = ", ".join(f"{cell(label(m))}: {n}" for m, n in changes_by_metric(changes))
    if by_metric:
        lines += [f"**By metric:** {by_metric}", ""]
    rows = []
    for change in changes:
        models = ", ".join(code(m) for m in change.models)
        claim = f"{cell(change.field)} {code(f'{change.path}:{change.line}')}"
        if change.collection:
            claim += f" (collection {cell(change.collection)})"
        evidence = "<br>".join(_evidence_text(e) for e in change.evidence)
        rows.append([models, claim, code(change.old), code(change.new), evidence])
    if rows:
        lines += table(["Model", "Claim", "Old", "New", "Evidence"], rows)
    else:
        lines.append("No claim is changed.")
    lines += _how_measured(changes)
    lines += ["", "### Environment", ""]
    lines += [f"- run {code(run.run_id)}: {cell(describe_environment(run))}" for run in plan.runs]
    lines += _left_alone(left)
    return "\n".join(lines) + "\n"


def _evidence_text(evidence: Evidence) -> str:
    parts = [f"{cell(evidence.model)}: measured {cell(evidence.measured)}"]
    if evidence.conditions:
        parts.append(cell(evidence.conditions))
    parts.append(f"run {code(evidence.run_id)}")
    return "; ".join(parts)


def _how_measured(changes: Sequence[Change]) -> list[str]:
    """Each changed metric's measurement methods and FLOPs conventions, said once."""
    lines = ["", "### How it was measured", ""]
    for metric in sorted({c.metric for c in changes}, key=sort_key):
        evidence = [e for c in changes if c.metric == metric for e in c.evidence]
        methods = sorted({e.method for e in evidence if e.method})
        conventions = sorted({e.convention for e in evidence if e.convention})
        text = "; ".join(cell(m) for m in methods)
        if conventions:
            text += "; judged under the FLOPs convention " + "; ".join(cell(c) for c in conventions)
        lines.append(f"- {cell(label(metric))}: {text}")
    return lines


def _left_alone(left: Sequence[LeftAlone]) -> list[str]:
    lines = ["", "### Left alone", ""]
    listed = [item for item in left if item.kind != "not measured"]
    if not left:
        return lines + ["Nothing: every other claim of these models passes."]
    ordered = sorted(listed, key=lambda item: list(LEFT_KINDS).index(item.kind))
    rows = [[code(item.model), f"{cell(item.field)} {code(item.source)}", cell(LEFT_KINDS[item.kind]), cell(item.why)]
            for item in ordered[:MAX_LISTED]]
    if rows:
        lines += table(["Model", "Claim", "Status", "Why"], rows)
    if len(ordered) > MAX_LISTED:
        lines += ["", f"... and {len(ordered) - MAX_LISTED} more (see `zoo report` for every claim)."]
    unmeasured = Counter(item.metric for item in left if item.kind == "not measured")
    if unmeasured:
        counts = ", ".join(f"{cell(label(m))} {n}" for m, n in sorted(unmeasured.items(), key=lambda i: sort_key(i[0])))
        lines += ["", f"Not measured in the run(s), so not judged: {counts}."]
    return lines
