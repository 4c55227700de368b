"""Verdicts: precision, tolerances, intervals, FLOP conventions, waivers."""

from __future__ import annotations

import datetime as dt

import pytest

from index_worlds import write
from zoo.judge.compare import judge, judge_claim
from zoo.errors import InputError
from zoo.judge.policy import Policy, load_policy
from zoo.judge.conventions import reference_key
from zoo.records import Alternative, Claim, Convention, Measurement, ModelCard, SourceRef, Tolerance, Uncertainty, Waiver

SRC = SourceRef("cards.yml", 7)


def claim(metric, value, raw=None, precision=None):
    return Claim(metric, metric, value, raw or str(value), SRC, "", precision)


def ok(metric, value, **kw):
    return Measurement(metric=metric, status="ok", value=value, **kw)


def test_parameters_hold_at_the_precision_claimed():
    verdict = judge_claim("m", claim("parameters", 3_500_000, "3500000", 100_000), ok("parameters", 3_504_872), Tolerance("parameters"))
    assert verdict.status == "pass" and "precision claimed" in verdict.explanation
    assert verdict.difference == 4872


def test_parameters_beyond_the_precision_drift():
    verdict = judge_claim("m", claim("parameters", 3_500_000, "3500000", 100_000), ok("parameters", 3_560_000), Tolerance("parameters"))
    assert verdict.status == "drift"
    assert verdict.relative_difference == pytest.approx(60_000 / 3_500_000)


@pytest.mark.parametrize(
    ("raw", "measured", "status"),
    [
        ("0.897", 0.8975, "pass"),   # timm's 0.8975 written to three decimals (inception_resnet_v2, xception)
        ("0.897", 0.8976, "drift"),
        ("0.875", 0.95, "drift"),
        ("0.94", 0.95, "drift"),
        ("1.0", 1.0, "pass"),
    ],
)
def test_a_decimal_holds_to_half_a_unit_of_its_last_written_digit(tmp_path, raw, measured, status):
    text = f"Models:\n- Name: m\n  Metadata:\n    Crop Pct: '{raw}'\n"
    from zoo.index import load_index

    card = load_index([write(tmp_path / "m.yml", text)]).get("m")
    verdict = judge_claim("m", card.claims["crop_pct"], ok("crop_pct", measured), Tolerance("crop_pct"))
    assert verdict.status == status, verdict.explanation


def test_exact_bytes_for_file_size():
    c = claim("file_size", 14_202_571, precision=1)
    assert judge_claim("m", c, ok("file_size", 14_202_571), Tolerance("file_size")).status == "pass"
    assert judge_claim("m", c, ok("file_size", 14_202_572), Tolerance("file_size")).status == "drift"


def test_relative_tolerance():
    c = claim("flops", 1000, precision=1)
    assert judge_claim("m", c, ok("flops", 1019), Tolerance("flops", relative=0.02)).status == "pass"
    assert judge_claim("m", c, ok("flops", 1021), Tolerance("flops", relative=0.02)).status == "drift"


def test_flops_are_judged_against_the_convention_given_never_the_closest():
    reference = reference_key().split(" @")[0]
    alternatives = [Alternative(f"{reference} @224px", 314.0), Alternative(f"2x {reference} @224px", 628.0),
                    Alternative("all-ops @256px (resize before crop)", 401.0)]
    measurement = ok("flops", 314, alternatives=alternatives)
    given = Convention("all-ops @resize", scope="collection C's")
    verdict = judge_claim("m", claim("flops", 402, precision=1), measurement, Tolerance("flops", relative=0.02), given)
    assert verdict.status == "pass" and verdict.convention == "all-ops @resize" and verdict.compared_value == 401.0
    # all-ops @resize is the closest reading, but without a zoo convention the reference counter decides
    alone = judge_claim("m", claim("flops", 402, precision=1), measurement, Tolerance("flops", relative=0.02))
    assert alone.status == "drift" and alone.convention == reference_key() and alone.compared_value == 314.0
    assert "no zoo convention pinned or fitted" in alone.explanation


def interval(low, high):
    return Uncertainty(kind="wilson-95", low=low, high=high, level=0.95)


@pytest.mark.parametrize(
    "low,high,status",
    [
        (72.80, 73.10, "pass"),  # wholly inside 72.95 +/- (0.25 + 0.005)
        (71.00, 72.60, "drift"),  # wholly below
        (72.00, 74.00, "unverified"),  # overlaps, too wide
    ],
)
def test_accuracy_interval_against_claim_plus_tolerance(low, high, status):
    c = claim("top1", 72.95, "72.95%", 0.01)
    m = ok("top1", (low + high) / 2, uncertainty=interval(low, high))
    verdict = judge_claim("m", c, m, Tolerance("top1", absolute=0.25, gate=True))
    assert verdict.status == status
    assert verdict.gating is True
    if status == "unverified":
        assert verdict.explanation.startswith("inconclusive")


def test_unavailable_and_failed_measurements():
    c = claim("top1", 72.95, "72.95%", 0.01)
    unavailable = judge_claim("m", c, Measurement.unavailable("top1", "no ImageNet data configured (--data or ZOO_IMAGENET)"), Tolerance("top1"))
    assert unavailable.status == "unverified" and "ZOO_IMAGENET" in unavailable.explanation
    failed = judge_claim("m", c, Measurement.failed("top1", "state dict does not fit"), Tolerance("top1"))
    assert failed.status == "error"
    missing = judge_claim("m", c, None, Tolerance("top1"))
    assert missing.status == "unverified" and "not measured" in missing.explanation


def test_text_claims():
    c = claim("interpolation", "bicubic")
    assert judge_claim("m", c, ok("interpolation", "BICUBIC"), Tolerance("interpolation")).status == "pass"
    assert judge_claim("m", c, ok("interpolation", "bilinear"), Tolerance("interpolation")).status == "drift"


def card_with(*claims):
    return ModelCard(name="m", source=SRC, claims={c.metric: c for c in claims})


def test_live_waiver_waives_and_expired_does_not():
    card = card_with(claim("flops", 1000, precision=1))
    measurements = [ok("flops", 2000)]
    waiver = Waiver(model="m", metric="flops", reason="card counts at 256px", expires="2026-12-31")
    policy = Policy(waivers=(waiver,))
    live = judge(card, measurements, policy, today=dt.date(2026, 12, 31))[0]
    assert live.status == "waived" and live.waiver == waiver and "card counts at 256px" in live.explanation
    expired = judge(card, measurements, policy, today=dt.date(2027, 1, 1))[0]
    assert expired.status == "drift" and "expired on 2026-12-31" in expired.explanation


def test_waiver_does_not_touch_a_pass():
    card = card_with(claim("flops", 1000, precision=1))
    policy = Policy(waivers=(Waiver("m", "flops", "r", "2099-01-01"),))
    assert judge(card, [ok("flops", 1000)], policy, today=dt.date(2026, 1, 1))[0].status == "pass"


def test_policy_file_tolerances_gate_and_waivers(tmp_path):
    path = write(tmp_path / "tol.yml", """\
    tolerances:
      top1: {absolute: 0.5}
      flops: {relative: 0.05}
    gate: [top1, parameters]
    waivers:
    - model: m
      metric: flops
      reason: known
      expires: 2027-01-31
    """)
    policy = load_policy(path)
    assert policy.tolerance("top1").absolute == 0.5 and policy.tolerance("top1").gate
    assert policy.tolerance("parameters").gate and not policy.tolerance("flops").gate
    assert policy.waivers[0].expires == "2027-01-31" and policy.waivers[0].source.line == 6


@pytest.mark.parametrize(
    "text,needle,line",
    [
        ("tolerances:\n  top1: {absolute: -1}\n", "absolute must be a number", 2),
        ("tolerances:\n  top1: {fuzzy: 1}\n", "unknown keys", 2),
        ("waivers:\n- model: m\n  metric: top1\n  reason: r\n", "missing 'expires'", 2),
        ("waivers:\n- {model: m, metric: top1, reason: r, expires: someday}\n", "not a date", 2),
        ("gate: top1\n", "gate must be a list", 1),
    ],
)
def test_policy_errors_name_the_place(tmp_path, text, needle, line):
    path = write(tmp_path / "tol.yml", text)
    with pytest.raises(InputError, match=needle) as info:
        load_policy(path)
    assert info.value.source.line == line and "tol.yml" in str(info.value)


def test_shipped_tolerances_file_loads_and_gates_accuracy():
    policy = load_policy()
    assert policy.gate_metrics == frozenset({"top1", "top5"})
    assert policy.tolerance("file_size").absolute == 0


def test_without_a_tolerances_file_the_documented_defaults_apply(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    policy = load_policy()
    assert policy.source is None
    assert policy.tolerance("flops").relative == 0.02 and policy.tolerance("top1").absolute == 0.25
    assert policy.tolerance("top1").gate and not policy.tolerance("flops").gate


@pytest.mark.parametrize(
    "text,line",
    [
        ("tolerances:\n  top-1: {absolute: 0.5}\n", 2),
        ("gate: [top1, Top 1 Accuracy]\n", 1),
        ("waivers:\n- model: m\n  metric: FLOPs\n  reason: r\n  expires: 2030-01-01\n", 3),
    ],
)
def test_unknown_metric_names_in_the_policy_are_errors(tmp_path, text, line):
    with pytest.raises(InputError, match="unknown metric") as info:
        load_policy(write(tmp_path / "tol.yml", text))
    assert info.value.source.line == line
