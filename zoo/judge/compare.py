"""Judging: a claim set beside its measurement becomes a :class:`Verdict`.

Rules (documented in metadata/tolerances.yml and the README):
- a measurement that could not be made -> ``unverified`` with its reason; one that failed on
  bad input -> ``error``;
- numbers pass when ``|measured - claimed|`` is within the tolerance, or within half the unit
  of the claim's last written digit ("holds at the precision claimed");
- a measurement with a confidence interval (accuracy) passes only when the whole interval is
  within claim +/- allowance, drifts when it lies wholly outside, and is otherwise
  ``unverified: inconclusive``;
- an accuracy paired with a stored baseline (zoo.measure.accuracy.paired) is judged the same way on the
  paired full-set interval; a baseline that does not match the run is named with the reason
  and the unpaired interval decides;
- FLOPs are judged against the convention fitted for the model's collection (or the zoo), see
  :mod:`zoo.judge.conventions`; without one, against the closest measured convention, which is named;
- a live waiver turns ``drift`` into ``waived``; an expired one is mentioned and ignored.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from decimal import Decimal, InvalidOperation
from dataclasses import replace
from typing import TYPE_CHECKING, Optional, Sequence
from urllib.parse import unquote, urlparse

from zoo.judge.conventions import convention_value, reference_key, skipped_layer
from zoo.measure.accuracy.paired import describe as describe_paired
from zoo.judge.policy import Policy, waiver_is_live
from zoo.judge.scope import ACCURACY_METRICS, OWN_FILE_METRICS, checkpoint_note, not_claim_data, own_checkpoint
from zoo.metrics import METRICS
from zoo.records import Claim, Convention, Measurement, Metric, ModelCard, PairedEstimate, Tolerance, Verdict, VerdictStatus
from zoo.weights.integrity import hash_prefix_from_name

if TYPE_CHECKING:
    from zoo.weights.lockfile import WeightsLock

def judge(
    card: ModelCard, measurements: Sequence[Measurement], policy: Policy, today: Optional[dt.date] = None,
    lock: Optional["WeightsLock"] = None, convention: Optional[Convention] = None,
) -> list[Verdict]:
    """One verdict per claim of ``card``, in the card's order; ``lock`` (the weights lock file)
    also says which file the card's Weights means; ``convention`` (the zoo's FLOPs convention for
    the card's collection, :mod:`zoo.judge.conventions`) is what a FLOPs claim is judged against.
    Runs judge through :func:`zoo.judge.verdicts.judge_models`, which picks the convention."""
    today = today or dt.date.today()
    by_metric = {m.metric: m for m in measurements}
    weights = by_metric.get(Metric.WEIGHTS.value)
    own = own_checkpoint(weights)  # zoo.judge.scope: --weights with the user's own file
    other_file = None if own is not None else weights_mismatch(card, weights, lock)
    verdicts = []
    for claim in card.claims.values():
        measurement = by_metric.get(claim.metric)  # a claim is judged by the measurement of its metric
        tolerance = policy.tolerance(claim.metric)
        unjudged = own if claim.metric in OWN_FILE_METRICS else not_claim_data(claim, measurement)
        if other_file is not None and claim.metric in CHECKPOINT_METRICS:
            unjudged = other_file
        if unjudged is not None:
            verdict = Verdict(
                model=card.name, metric=claim.metric, status="unverified", explanation=unjudged, claim=claim,
                measurement=measurement, tolerance=tolerance, gating=tolerance.gate,
            )
        else:
            verdict = judge_claim(card.name, claim, measurement, tolerance, convention)
            if claim.metric in ACCURACY_METRICS and own is not None:
                verdict = replace(verdict, explanation=verdict.explanation + checkpoint_note(weights))
        verdicts.append(_apply_waiver(verdict, policy, today))
    return verdicts


CHECKPOINT_METRICS = frozenset(m.name for m in METRICS if m.checkpoint)
"""Claims about the card's checkpoint: judged only when the measured file is that checkpoint."""


def weights_mismatch(
    card: ModelCard, measurement: Optional[Measurement], lock: Optional["WeightsLock"] = None
) -> Optional[str]:
    """Why the measured weights file is not the one ``card`` names, or ``None`` if it is (or
    nothing was measured).

    The file is the card's when it came for the card's Weights URL and, if that URL's file
    name carries a hash prefix, its SHA-256 starts with it, and, if ``lock`` pins the file,
    its SHA-256 is the pinned one. A record made before the card
    changed its Weights (or with another card) fails this, and its file, size and accuracy
    say nothing about the card's checkpoint.
    """
    claim = card.claim(Metric.WEIGHTS)
    if claim is None or measurement is None or measurement.status != "ok" or not isinstance(measurement.value, str):
        return None
    if str(measurement.conditions.get("source") or "").startswith("hub "):
        return None  # --source hub: the Hub's file for the model, proven by the Hub's own hash (zoo.weights.hub)
    url = str(claim.value).strip()
    try:
        name = unquote(posixpath.basename(urlparse(url).path))
    except ValueError:  # not a URL: no measurement can have been made for it
        name = ""
    measured_url = measurement.conditions.get("url")
    measured_name = str(measurement.conditions.get("file_name") or "")
    prefix = hash_prefix_from_name(name)
    problem = None
    if measured_url is not None and str(measured_url).strip() != url:
        problem = f"it was fetched for {measured_url}"
    elif measured_url is None and measured_name and measured_name != name:
        problem = f"it is {measured_name}"
    elif prefix and not measurement.value.lower().startswith(prefix):
        problem = f"its SHA-256 {measurement.value[:12]}... does not start with {prefix}"
    elif lock is not None:
        pinned = lock.get(name, url)
        if pinned is not None and pinned.sha256 != measurement.value.lower():
            problem = f"the lock file {lock.path} pins sha256 {pinned.sha256[:12]}... for {name}"
    if problem is None:
        return None
    return (
        f"measured with another checkpoint: the card's Weights ({claim.source}) is {url}, but the file this run "
        f"measured ({measured_name or 'unnamed'}, sha256 {measurement.value[:12]}) is not that file: {problem}; "
        f"run `zoo verify {card.name}` again"
    )


def judge_claim(
    model: str, claim: Claim, measurement: Optional[Measurement], tolerance: Tolerance, convention: Optional[Convention] = None
) -> Verdict:
    """The verdict for one claim, before waivers."""
    base = dict(model=model, metric=claim.metric, claim=claim, measurement=measurement, tolerance=tolerance, gating=tolerance.gate)
    if measurement is None:
        return Verdict(status="unverified", explanation="not measured in this run", **base)
    if measurement.status == "unavailable":
        return Verdict(status="unverified", explanation=measurement.reason or "could not be measured", **base)
    if measurement.status == "error":
        return Verdict(status="error", explanation=measurement.reason or "measurement failed", **base)
    if isinstance(claim.value, str) or isinstance(measurement.value, str) or measurement.value is None:
        return _judge_text(claim, measurement, base)
    if claim.metric == Metric.FLOPS.value and measurement.alternatives:
        # Never the convention closest to this one claim: that fits each model its own rule.
        chosen = convention or Convention(reference_key(), scope="no zoo convention pinned or fitted: the reference counter's")
        if convention_value(chosen, measurement):
            return _judge_flops(claim, measurement, tolerance, chosen, base)
        return Verdict(
            status="unverified", convention=chosen.label(), **base,
            explanation=f"the model's count under {chosen.describe()} could not be made "
            f"({'; '.join(measurement.notes[1:]) or 'that input size was not counted'})",
        )
    return _judge_number(claim, measurement, tolerance, base)


def _judge_flops(claim: Claim, measurement: Measurement, tolerance: Tolerance, convention: Convention, base: dict) -> Verdict:
    """A FLOPs claim against its collection's convention; a departure says what likely caused it."""
    claimed = float(claim.value)
    predicted = float(convention_value(convention, measurement) or 0.0)
    difference = predicted - claimed
    relative = difference / claimed if claimed else None
    allowance = max(tolerance.allowed(claimed), (claim.precision or 0.0) / 2)
    extra = dict(compared_value=predicted, difference=difference, relative_difference=relative, convention=convention.label())
    ratio = f"claim/convention {claimed / predicted:.4f}" if predicted else ""
    if abs(difference) <= allowance or holds_at_precision(claimed, predicted, claim.precision):
        return Verdict(status="pass", explanation=f"consistent with {convention.describe()}, {ratio}", **base, **extra)
    reason = f"off by {_signed(difference, relative)} from {convention.describe()}, {ratio}, beyond tolerance {_describe(tolerance)}"
    skipped = skipped_layer(convention, claimed, measurement, tolerance.relative or 0.02)
    if skipped is not None:
        layer, value = skipped
        reason += f"; with {layer}'s MACs left out the convention gives {value:,.0f} (claim/that {claimed / value:.3f}): the card's counter likely skipped {layer}"
    elif measurement.alternatives:
        other = min(measurement.alternatives, key=lambda a: abs(a.value - claimed))
        if other.value:
            reason += f"; closest other convention: {other.convention} = {other.value:,.0f} (claim/that {claimed / other.value:.4f})"
    return Verdict(status="drift", explanation=reason, **base, **extra)


def _judge_text(claim: Claim, measurement: Measurement, base: dict) -> Verdict:
    if claim.metric == Metric.WEIGHTS.value:
        return Verdict(status="pass", explanation=f"fetched, verified and loaded ({measurement.method})", **base)
    same = str(claim.value).strip().lower() == str(measurement.value).strip().lower()
    text = f"card says {claim.value!r}, measured {measurement.value!r}"
    return Verdict(status="pass" if same else "drift", explanation=text, **base)


def _judge_number(claim: Claim, measurement: Measurement, tolerance: Tolerance, base: dict) -> Verdict:
    claimed = float(claim.value)
    measured, convention, name = _closest(claimed, measurement)
    difference = measured - claimed
    relative = difference / claimed if claimed else None
    half_digit = (claim.precision or 0.0) / 2
    allowance = max(tolerance.allowed(claimed), half_digit)
    extra = dict(compared_value=measured, difference=difference, relative_difference=relative, convention=name)
    where = f" ({convention})" if convention else ""
    interval = measurement.uncertainty
    if interval is not None and not (interval.low <= interval.high):  # also NaN bounds
        return Verdict(
            status="error",
            explanation=f"invalid {interval.kind} interval [{interval.low}, {interval.high}] in the measurement "
            "(low above high, or not a number): the record is damaged; measure again",
            **base, **extra,
        )
    if measured != measured:  # NaN
        return Verdict(status="error", explanation="the measured value is not a number: measure again", **base, **extra)
    paired = measurement.paired
    if paired is not None and paired.used:
        return _judge_paired(claim, paired, allowance, base)
    if interval is not None and interval.level is not None:
        span = f"{interval.level:.0%} interval [{interval.low:.3f}, {interval.high:.3f}]"
        if paired is not None:  # a baseline was found but does not describe this run
            span = f"{describe_paired(paired, claim.metric)}; unpaired {span}"
        band = f"{claimed:g} +/- {allowance:g}"
        status = _interval_status(interval.low, interval.high, claimed, allowance)
        explanation = {
            "pass": f"{span} lies within {band}",
            "drift": f"{span} lies outside {band}",
            "unverified": f"inconclusive: {span} overlaps {band} but is too wide to decide (evaluate more images)",
        }[status]
        return Verdict(status=status, explanation=explanation, **base, **extra)
    if holds_at_precision(claimed, measured, claim.precision):
        return Verdict(status="pass", explanation=f"holds at the precision claimed ({claim.raw}){where}", **base, **extra)
    if abs(difference) <= allowance:
        return Verdict(status="pass", explanation=f"within tolerance {_describe(tolerance)}{where}", **base, **extra)
    return Verdict(
        status="drift",
        explanation=f"off by {_signed(difference, relative)}, beyond tolerance {_describe(tolerance)}{where}{_others(measurement, claimed)}",
        **base, **extra,
    )


def holds_at_precision(claimed: float, measured: float, precision: Optional[float]) -> bool:
    """Whether ``measured`` is within half a unit of the claim's last written digit.

    Compared in decimal, on the shortest text of each float: 0.8975 against a claim of
    "0.897" (precision 0.001) is off by exactly 0.0005 and holds, where binary floats would
    make the difference 0.000500000000000056 and refuse it.
    """
    if not precision:
        return measured == claimed
    try:
        gap = abs(Decimal(repr(float(measured))) - Decimal(repr(float(claimed))))
        return gap <= Decimal(repr(float(precision))) / 2
    except InvalidOperation:  # inf or nan
        return False


def _judge_paired(claim: Claim, paired: PairedEstimate, allowance: float, base: dict) -> Verdict:
    """Pass when the paired full-set interval lies within claim +/- allowance, drift when wholly outside."""
    assert paired.value is not None and paired.low is not None and paired.high is not None
    claimed = float(claim.value)
    extra = dict(compared_value=paired.value, difference=paired.value - claimed,
                 relative_difference=(paired.value - claimed) / claimed if claimed else None)
    text = describe_paired(paired, claim.metric)
    band = f"{claimed:g} +/- {allowance:g}"
    status = _interval_status(paired.low, paired.high, claimed, allowance)
    explanation = {
        "pass": f"{text} -> holds ({band})",
        "drift": f"{text} -> outside {band}",
        "unverified": f"inconclusive: {text} overlaps {band} (evaluate more images)",
    }[status]
    return Verdict(status=status, explanation=explanation, **base, **extra)


def _interval_status(low: float, high: float, claimed: float, allowance: float) -> VerdictStatus:
    """An equivalence test: pass when [low, high] lies within claim +/- allowance, drift when it
    lies wholly outside, otherwise unverified (inconclusive)."""
    if claimed - allowance <= low and high <= claimed + allowance:
        return "pass"
    if high < claimed - allowance or low > claimed + allowance:
        return "drift"
    return "unverified"


def _closest(claimed: float, measurement: Measurement) -> tuple[float, str, Optional[str]]:
    """The measured value, or, where conventions differ, the alternative closest to the claim:
    (value, how the explanation names it, the convention for ``Verdict.convention``)."""
    assert isinstance(measurement.value, (int, float))
    if not measurement.alternatives or measurement.metric == Metric.FLOPS.value:  # FLOPs: a convention decides, never the closest
        return float(measurement.value), "", None
    best = min(measurement.alternatives, key=lambda a: abs(a.value - claimed))
    if measurement.metric != Metric.FLOPS.value:  # e.g. a tag's test_input_size: a setting, not a convention
        return float(best.value), f"matched {best.convention}", best.convention
    text = f"closest convention: {best.convention}, ratio claim/measured {claimed / best.value:.4f}" if best.value else best.convention
    return float(best.value), text, best.convention


def _others(measurement: Measurement, claimed: float) -> str:
    if not measurement.alternatives:
        return ""
    ranked = sorted(measurement.alternatives, key=lambda a: abs(a.value - claimed))[1:3]
    return "; next: " + ", ".join(f"{a.convention} = {a.value:,.0f}" for a in ranked) if ranked else ""


def _describe(tolerance: Tolerance) -> str:
    parts = []
    if tolerance.relative:
        parts.append(f"{tolerance.relative:.2%}")
    if tolerance.absolute:
        parts.append(f"{tolerance.absolute:g}")
    return " / ".join(parts) if parts else "0 (exact)"


def _signed(difference: float, relative: Optional[float]) -> str:
    text = f"{difference:+,.6g}"
    return f"{text} ({relative:+.2%})" if relative is not None else text


def _apply_waiver(verdict: Verdict, policy: Policy, today: dt.date) -> Verdict:
    waiver = policy.waiver(verdict.model, verdict.metric)
    if waiver is None or verdict.status != "drift":
        return verdict
    if waiver_is_live(waiver, today):
        return replace(verdict, status="waived", waiver=waiver, explanation=f"{verdict.explanation}; waived until {waiver.expires}: {waiver.reason}")
    return replace(verdict, waiver=waiver, explanation=f"{verdict.explanation}; waiver expired on {waiver.expires} ({waiver.reason})")
