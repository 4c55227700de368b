"""A percentage is written to the unit at most: "90%" means 90 +/- 0.5, not 90 +/- 5."""

from __future__ import annotations

import pytest

from index_worlds import write
from zoo.index import load_index
from zoo.judge.compare import judge_claim
from zoo.measure.accuracy.stats import proportion_interval
from zoo.records import Measurement, Tolerance, Uncertainty


def _card(tmp_path, top1: str, params: str = "3500000", file_size: str = "14202570"):
    text = f"""\
    Models:
    - Name: m
      Metadata:
        Parameters: {params}
        File Size: {file_size}
      Results:
      - Task: Image Classification
        Dataset: ImageNet
        Metrics:
          Top 1 Accuracy: {top1}
    """
    return load_index([write(tmp_path / "i.yml", text)]).get("m")


@pytest.mark.parametrize(
    "raw,value,precision",
    [("90%", 90, 1), ("100%", 100, 1), ("80.0%", 80, 0.1), ("75%", 75, 1), ("72.95%", 72.95, 0.01), ("'0.9'", 90, 1)],
)
def test_percent_claims_are_read_to_the_unit_at_most(tmp_path, raw, value, precision):
    claim = _card(tmp_path, raw).claims["top1"]
    assert claim.value == pytest.approx(value)
    assert claim.precision == pytest.approx(precision)


def test_counts_keep_the_trailing_zero_rule_and_file_size_stays_exact(tmp_path):
    card = _card(tmp_path, "90%")
    assert card.claims["parameters"].precision == 100_000
    assert card.claims["file_size"].precision == 1


def _measured(hits: int, n: int, population=None) -> Measurement:
    interval = proportion_interval(hits, n, population=population)
    return Measurement(
        metric="top1", status="ok", value=100 * hits / n, unit="%",
        uncertainty=Uncertainty(interval.kind, 100 * interval.low, 100 * interval.high, 0.95),
    )


def test_ninety_percent_against_sixty_of_sixty_is_drift(tmp_path):
    claim = _card(tmp_path, "90%").claims["top1"]
    verdict = judge_claim("m", claim, _measured(60, 60), Tolerance("top1", absolute=0.25))
    assert verdict.status == "drift", verdict.explanation


def test_a_regression_of_4_9_points_does_not_pass_a_card_written_80_percent(tmp_path):
    claim = _card(tmp_path, "80%").claims["top1"]
    verdict = judge_claim("m", claim, _measured(37_550, 50_000, population=50_000), Tolerance("top1", absolute=0.25))
    assert verdict.status == "drift", verdict.explanation


def test_a_whole_percent_claim_holds_within_half_a_point(tmp_path):
    claim = _card(tmp_path, "75%").claims["top1"]
    verdict = judge_claim("m", claim, _measured(37_700, 50_000, population=50_000), Tolerance("top1", absolute=0.25))
    assert verdict.status == "pass", verdict.explanation
