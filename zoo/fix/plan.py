"""Which claims of a judged run get a new value, and which are left alone, and why.

Only a ``drift`` verdict gets a proposal. Never one that is ``unverified`` (not measured,
inconclusive, measured with another checkpoint than the card's), ``waived`` or ``error``. A
drifted claim is still left alone, with its reason, when:

- it is a published throughput figure or a URL (they describe a machine or a file, not the model);
- it is about the checkpoint (File Size, Top-1/5) and the measured file was the Hub's, not the card's;
- it is an accuracy not measured over its whole population: a ``--limit`` subset, a paired
  estimate against a baseline, data not known to be the whole set, or images that could not be read;
- the new value cannot be written in the claim's form (:mod:`zoo.fix.values`);
- it is inherited from a collection's ``Metadata`` and not every model that inherits it gets the
  same new value in the runs given (the collection's line is edited only then);
- the new claim would not pass the same judge (a self-check: it never should).

The value proposed is the one the verdict judged (``Verdict.compared_value``: for FLOPs the
figure under the zoo's convention, for a config setting the tag's value it was compared with),
written at the claim's precision.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Iterable, Optional, Sequence, Union

from zoo.errors import InputError
from zoo.fix.values import NotWritable, written_like
from zoo.index import Index
from zoo.index.claims import ClaimReader
from zoo.yaml_input import load_located
from zoo.judge.compare import judge_claim
from zoo.metrics import MetricSpec, known, spec
from zoo.records import Claim, Measurement, ModelCard, ModelResult, RunRecord, SourceRef, Verdict
from zoo.views.rows import format_value, measured_text

ANOTHER_CHECKPOINT = "measured with another checkpoint"
"""How the judge's explanation starts when the file measured is not the card's (:func:`zoo.judge.compare.weights_mismatch`)."""

LeftKind = str
"""Why a claim is left alone, in a word: see :data:`LEFT_KINDS`."""
LEFT_KINDS: dict[str, str] = {
    "refused": "drifted, but no value is proposed",
    "another checkpoint": "measured with another checkpoint than the card's",
    "inconclusive": "inconclusive",
    "waived": "waived",
    "error": "error",
    "unverified": "unverified",
    "not measured": "not measured in this run",
}
"""Each kind of claim left alone, in the order reports list them."""


@dataclass(frozen=True)
class Evidence:
    """What one model's measurement says for a change."""

    model: str
    run_id: str
    measured: str
    """The judged figure as shown, with its reading ("507,737,637 (1.264x macs+norm+pool @image)")."""
    method: str
    """How it was measured (the measurement's method)."""
    conditions: str
    """What this model was measured on: the input size (FLOPs); data, checkpoint, transform (accuracy)."""
    convention: str
    """The FLOPs convention judged, with its evidence ("" for other metrics)."""
    environment: str


@dataclass(frozen=True)
class Change:
    """One claim's new value, at the place it is written."""

    path: str
    line: int
    field: str
    metric: str
    old: str
    """The value as written (the scalar's text, without quotes)."""
    new: str
    models: tuple[str, ...]
    """The models whose claim this is (several for a collection's value)."""
    collection: Optional[str] = None
    """Set when the claim is inherited from this collection's Metadata."""
    evidence: tuple[Evidence, ...] = ()

    @property
    def source(self) -> SourceRef:
        return SourceRef(self.path, self.line)


@dataclass(frozen=True)
class LeftAlone:
    """A claim that needs attention and gets no proposal, and why."""

    model: str
    metric: str
    field: str
    source: str
    status: str
    kind: LeftKind
    why: str


@dataclass
class FixPlan:
    """The proposals for a set of runs, and what they leave alone."""

    changes: list[Change] = field(default_factory=list)
    left_alone: list[LeftAlone] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    """Real path -> SHA-256 of each card file as the runs measured it (:func:`card_digests`): a
    file is edited only while its bytes are still those."""
    unhashed: list[str] = field(default_factory=list)
    """Runs that keep no card digests (records older than schema 3): nothing of theirs is edited."""

    def drifted(self) -> int:
        """Drifted claims in scope: changed (counted per model) and refused."""
        return sum(len(c.models) for c in self.changes) + sum(1 for item in self.left_alone if item.kind == "refused")

    def refused(self) -> list[LeftAlone]:
        return [item for item in self.left_alone if item.kind == "refused"]


@dataclass(frozen=True)
class _Candidate:
    """A drifted claim of one model and the value proposed for it."""

    verdict: Verdict
    card: ModelCard
    new: str
    evidence: Evidence


def plan_fixes(runs: Sequence[RunRecord], index: Index, models: Optional[Sequence[str]] = None) -> FixPlan:
    """The changes the verdicts of ``runs`` (judged against ``index``, as :func:`zoo.judge.gate.gate_records`
    leaves them) call for; ``models`` limits them to those models (default: every model of the runs)."""
    results = _chosen_results(runs, models)
    plan = FixPlan(runs=list(runs))
    candidates: list[_Candidate] = []
    for run, result in results:
        for verdict in result.verdicts:
            if verdict.claim is None or verdict.status == "pass":
                continue
            if verdict.status != "drift":
                plan.left_alone.append(_left(verdict, _kind_of(verdict), verdict.explanation))
                continue
            proposal = _propose(run, result, verdict)
            if isinstance(proposal, str):
                plan.left_alone.append(_left(verdict, "refused", proposal))
            else:
                candidates.append(proposal)
    everything = {result.card.name: result for run in runs for result in run.models}
    _group(candidates, index, everything, {result.card.name for _, result in results}, plan)
    return plan


def card_digests(plan: FixPlan, records: Sequence[RunRecord]) -> FixPlan:
    """``plan`` with the card digests of ``records`` as they were stored when the runs were made
    (not those of a record judged again, which are the cards' as they are now)."""
    for run in records:
        if run.judged_against is None:
            plan.unhashed.append(run.run_id)
            continue
        for digest in run.judged_against.cards:
            plan.digests.setdefault(os.path.realpath(digest.path), digest.sha256)
    return plan


def _chosen_results(runs: Sequence[RunRecord], models: Optional[Sequence[str]]) -> list[tuple[RunRecord, ModelResult]]:
    seen: dict[str, str] = {}
    chosen = []
    for run in runs:
        for result in run.models:
            name = result.card.name
            if name in seen:
                raise InputError(
                    f"model {name!r} is in two of the runs given ({seen[name]} and {run.run_id})",
                    hint="give one run per model (shards of one run are merged)",
                )
            seen[name] = run.run_id
            if models is None or name in models:
                chosen.append((run, result))
    missing = [name for name in models or () if name not in seen]
    if missing:
        raise InputError(
            f"not in the run(s) given ({', '.join(run.run_id for run in runs)}): {', '.join(missing)}",
            hint="name models the run measured, or give no RUN to measure them now",
        )
    return chosen


def _kind_of(verdict: Verdict) -> LeftKind:
    if verdict.status in ("waived", "error"):
        return verdict.status
    if verdict.explanation.startswith(ANOTHER_CHECKPOINT):
        return "another checkpoint"
    if verdict.explanation.startswith("inconclusive"):
        return "inconclusive"
    if verdict.measurement is None:
        return "not measured"
    return "unverified"


def _left(verdict: Verdict, kind: LeftKind, why: str) -> LeftAlone:
    claim = verdict.claim
    assert claim is not None
    return LeftAlone(verdict.model, verdict.metric, claim.field, str(claim.source), verdict.status, kind, why)


def _propose(run: RunRecord, result: ModelResult, verdict: Verdict) -> Union[_Candidate, str]:
    """The candidate change for a drifted claim, or why there is none."""
    claim, measurement = verdict.claim, verdict.measurement
    assert claim is not None
    if measurement is None or measurement.status != "ok" or not known(verdict.metric):
        return "nothing was measured to write"
    metric = spec(verdict.metric)
    if metric.section == "reference" or metric.read in ("url", "rate"):
        return f"{metric.label} describes the machine or the file that measured it; zoo does not write it into cards"
    if metric.checkpoint:
        problem = _checkpoint_problem(result)
        if problem is None and metric.kind == "accuracy":
            problem = subset_problem(measurement)
        if problem is not None:
            return problem
    value = verdict.compared_value if verdict.compared_value is not None else measurement.value
    if value is None:
        return "the verdict judged no value"
    try:
        new = written_like(claim, metric, value)
    except NotWritable as exc:
        return str(exc)
    check = _judged_again(run, result, verdict, metric, new)
    if check is not None:
        return check
    return _Candidate(verdict, result.card, new, _evidence(run, result, verdict))


def _checkpoint_problem(result: ModelResult) -> Optional[str]:
    weights = result.measurement("weights")
    if weights is None or weights.status != "ok":
        return "the checkpoint's own file was not verified in this run"
    if str(weights.conditions.get("source") or "").startswith("hub "):
        return f"measured with the Hub's file ({weights.conditions.get('source')}), not the file the card's Weights names"
    return None


def subset_problem(measurement: Measurement) -> Optional[str]:
    """Why an accuracy measurement is not a full-population evaluation, or None when it is: every
    image of a known population scored, none unreadable, no subset, no paired estimate."""
    conditions = measurement.conditions
    images, population = conditions.get("images"), conditions.get("population")
    if measurement.paired is not None and measurement.paired.used:
        paired = measurement.paired
        return (
            f"a paired estimate ({paired.images:,} images paired with baseline {paired.baseline}), not a full evaluation: "
            "run `zoo verify MODEL --only weights,accuracy` over the whole validation set"
        )
    if not isinstance(population, int) or not isinstance(images, int):
        return (
            f"evaluated on {images if isinstance(images, int) else 'an unknown number of'} images of data not known to be "
            "the whole population (not the complete ImageNet val): pass --population all if it is the whole set"
        )
    unreadable = conditions.get("unreadable") or 0
    if images < population or conditions.get("limit") or unreadable:
        detail = f"; {unreadable} images unreadable" if unreadable else ""
        return f"a subset: {images:,} of {population:,} images{detail}; zoo proposes accuracy only from a full evaluation"
    return None


def _judged_again(run: RunRecord, result: ModelResult, verdict: Verdict, metric: MetricSpec, new: str) -> Optional[str]:
    """None when the claim written as ``new`` passes the same judge with the same measurement;
    else why not (a self-check: the value is the one judged, at the claim's precision)."""
    new_claim = reread_claim(verdict.claim, metric, new)  # type: ignore[arg-type]
    if isinstance(new_claim, str):
        return new_claim
    convention = None
    if run.judged_against is not None:
        convention = run.judged_against.conventions.for_collection(result.card.collection)
    assert verdict.tolerance is not None
    again = judge_claim(verdict.model, new_claim, verdict.measurement, verdict.tolerance, convention)
    if again.status != "pass":
        return f"the value {new!r} would be judged {again.status} ({again.explanation}); zoo proposes none"
    return None


def reread_claim(claim: Claim, metric: MetricSpec, new: str) -> Union[Claim, str]:
    """``claim`` with its value written as ``new``, read as the index reads it (quoted, so the
    text is the scalar's raw text), or why it cannot be read."""
    text = "'" + new.replace("'", "''") + "'"
    try:
        mapping = load_located(f"value: {text}\n")
        read = ClaimReader(claim.source.path, "").read(mapping, "value", metric)
    except Exception as exc:  # the card reader's own error: the text does not read as a claim
        return f"the value {new!r} does not read as a {metric.label} claim ({exc})"
    return replace(read, field=claim.field, source=claim.source)


def _evidence(run: RunRecord, result: ModelResult, verdict: Verdict) -> Evidence:
    measurement = verdict.measurement
    assert measurement is not None
    figure, reading = measured_text(verdict)
    measured = f"{figure} ({reading})" if reading else figure
    conditions = []
    convention = ""
    if verdict.metric == "flops" and run.judged_against is not None:
        found = run.judged_against.conventions.for_collection(result.card.collection)
        convention = found.describe() if found is not None else ""
    if verdict.metric in ("top1", "top5"):
        conditions.append(_accuracy_conditions(measurement, result.measurement("weights")))
    if measurement.conditions.get("input") not in (None, ""):
        conditions.append(f"input {measurement.conditions['input']}")
    return Evidence(
        model=verdict.model, run_id=run.run_id, measured=measured, method=measurement.method,
        conditions="; ".join(c for c in conditions if c), convention=convention, environment=describe_environment(run),
    )


def _accuracy_conditions(measurement: Measurement, weights: Optional[Measurement]) -> str:
    c = measurement.conditions
    data = f"{format_value(c.get('images'))} images of {c.get('dataset')} (fingerprint {c.get('dataset_fingerprint')})"
    checkpoint = ""
    if weights is not None and isinstance(weights.value, str):
        checkpoint = f"checkpoint {weights.conditions.get('file_name') or ''} sha256 {weights.value}"
    transform = f"transform {c.get('transform')}"
    setting = f"{c.get('device')}, {c.get('dtype')}, batch {c.get('batch_size')}"
    return "; ".join(part for part in (data, checkpoint, transform, setting) if part)


def describe_environment(run: RunRecord) -> str:
    env = run.environment
    packages = ", ".join(f"{name} {version}" for name, version in sorted(env.packages.items()) if version and name == "timm")
    device = ", ".join(env.gpus) if env.gpus else env.cpu
    parts = [packages, f"torch {env.torch}", f"Python {env.python}", device, env.platform]
    if env.git_commit:
        parts.append(f"zoo at {env.git_commit[:12]}{' (dirty)' if env.git_dirty else ''}")
    return ", ".join(p for p in parts if p)


def _group(candidates: Iterable[_Candidate], index: Index, measured: dict[str, ModelResult], chosen: set[str], plan: FixPlan) -> None:
    """One change per place written: a model's own claim, or a collection's value when every
    model that inherits it gets the same new value."""
    at: dict[tuple[str, int, str], list[_Candidate]] = {}
    for candidate in candidates:
        claim = candidate.verdict.claim
        assert claim is not None
        at.setdefault((claim.source.path, claim.source.line, claim.field), []).append(candidate)
    inheritors = _inheritors(index)
    for (path, line, field_name), group in at.items():
        first = group[0]
        metric = first.verdict.metric
        sharing = inheritors.get((path, line, metric), [first.card.name])
        collection = _collection_of(first.card, first.verdict.claim)  # type: ignore[arg-type]
        names = [c.card.name for c in group]
        texts = {c.new for c in group}
        problem = None
        if set(sharing) != set(names):
            others = [name for name in sharing if name not in names]
            problem = _shared_problem(others, measured, chosen, metric)
        elif len(texts) > 1:
            problem = "they would get different values: " + ", ".join(f"{c.card.name} {c.new}" for c in group)
        if problem is not None:
            where = f"collection {collection!r}" if collection else "a shared place"
            why = (
                f"inherited from {where} ({path}:{line}) by {len(sharing)} model(s); {problem}; zoo edits a shared value "
                "only when every model that inherits it gets the same new value: write the value in each model's own Metadata"
            )
            plan.left_alone.extend(_left(c.verdict, "refused", why) for c in group)
            continue
        plan.changes.append(Change(
            path=path, line=line, field=field_name, metric=metric, old=first.verdict.claim.raw,  # type: ignore[union-attr]
            new=first.new, models=tuple(names), collection=collection,
            evidence=tuple(c.evidence for c in group),
        ))


def _inheritors(index: Index) -> dict[tuple[str, int, str], list[str]]:
    """(file, line, metric) -> the models of the index whose claim is written there."""
    found: dict[tuple[str, int, str], list[str]] = {}
    for card in index.models:
        for metric, claim in card.claims.items():
            found.setdefault((claim.source.path, claim.source.line, metric), []).append(card.name)
    return found


def _collection_of(card: ModelCard, claim: Claim) -> Optional[str]:
    """The collection ``claim`` is inherited from, or None for the model's own claim (in its
    entry's Metadata or Results)."""
    if known(claim.metric) and spec(claim.metric).section != "metadata":
        return None
    own = card.source.path == claim.source.path and card.field_lines.get(f"Metadata.{claim.field}") == claim.source.line
    return None if own else card.collection


def _shared_problem(others: Sequence[str], measured: dict[str, ModelResult], chosen: set[str], metric: str) -> str:
    """What the other models that inherit a value say about it."""
    parts = []
    for name in others:
        if name not in measured:
            parts.append(f"{name} is not in the run(s) given")
        elif name not in chosen:
            parts.append(f"{name} was not chosen (name it too, or pass --all)")
        else:
            verdict = next((v for v in measured[name].verdicts if v.metric == metric), None)
            status = verdict.status if verdict is not None else "not judged"
            parts.append(f"{name} drifted and gets no value of its own" if status == "drift" else f"{name} is {status}")
    return ", ".join(parts)
