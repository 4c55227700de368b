"""Tango's score interval for a paired change in accuracy: published values, zero discordant
pairs, the finite-population correction, coverage, and the paired verdict it decides."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from zoo.judge.compare import judge_claim
from zoo.measure.accuracy.paired import PAIRED_LEVEL, paired_change_interval
from zoo.records import Claim, Measurement, PairedEstimate, SourceRef, Tolerance, Uncertainty

SRC = SourceRef("cards.yml", 3)


def test_published_worked_example_cavo_2012():
    # Fagerland, Lydersen & Laake, "Recommended tests and confidence intervals for paired
    # binomial proportions", Statistics in Medicine 33 (2014) 2850-2875, and their book
    # "Statistical Analysis of Contingency Tables" (2017), chapter 8: complete response before
    # and after consolidation therapy (Cavo et al. 2012), table [[59, 6], [16, 80]], N = 161.
    # Tango asymptotic score interval for the difference (6 - 16) / 161 = -0.0621:
    # 95% CI -0.1240 to -0.0054.
    interval = paired_change_interval(6, 16, 161, level=0.95)
    assert round(interval.change, 4) == -0.0621
    assert (round(interval.low, 4), round(interval.high, 4)) == (-0.1240, -0.0054)


def test_the_interval_turns_with_the_sign_of_the_change():
    forward = paired_change_interval(16, 6, 161, level=0.95)
    assert (round(forward.low, 4), round(forward.high, 4)) == (0.0054, 0.1240)


def test_zero_discordant_pairs_give_the_wilson_bound_for_zero_events():
    # With no discordant pair the score interval is +/- z^2 / (n + z^2): the Wilson upper limit
    # for 0 events in n, which Newcombe (1998), "Two-sided confidence intervals for the single
    # proportion", Statistics in Medicine 17:857-872, Table I gives for 0/20 as 0.1611.
    interval = paired_change_interval(0, 0, 20, level=0.95)
    assert interval.change == 0.0
    assert (round(interval.low, 4), round(interval.high, 4)) == (-0.1611, 0.1611)


@pytest.mark.parametrize("n", [500, 2000, 5000])
def test_zero_discordant_pairs_with_the_finite_population_correction(n):
    # The correction scales the variance by f = (N - n) / (N - 1), so the bound becomes z^2 f / (n + z^2 f).
    z2 = norm.ppf(0.5 + PAIRED_LEVEL / 2) ** 2
    f = (50_000 - n) / (50_000 - 1)
    interval = paired_change_interval(0, 0, n, population=50_000)
    assert interval.high == pytest.approx(z2 * f / (n + z2 * f), rel=1e-6)
    assert interval.low == pytest.approx(-interval.high, rel=1e-6)


def test_the_whole_population_paired_gives_a_zero_width_interval():
    interval = paired_change_interval(3, 5, 1000, population=1000)
    assert interval.low == interval.high == interval.change == pytest.approx(-0.002)


def test_a_huge_population_matches_the_uncorrected_interval():
    plain = paired_change_interval(4, 9, 2000)
    corrected = paired_change_interval(4, 9, 2000, population=10**12)
    assert (corrected.low, corrected.high) == pytest.approx((plain.low, plain.high), rel=1e-6)


def test_every_pair_lost_reaches_the_end_of_the_range():
    interval = paired_change_interval(0, 10, 10, level=0.95)
    assert interval.low == -1.0 and interval.high < 0


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        paired_change_interval(6, 6, 10)
    with pytest.raises(ValueError):
        paired_change_interval(1, 1, 100, population=50)


def test_coverage_when_sampling_without_replacement():
    # A population of 5,000 images: 2% lost, 1% gained against the baseline. Subsets of 1,000
    # drawn without replacement; the 90% interval must cover the population's change about
    # 90% of the time (at least 87% over 1,500 draws).
    rng = np.random.default_rng(11)
    population = np.zeros(5000, dtype=np.int8)
    population[:100] = -1
    population[100:150] = 1
    truth = population.sum() / population.size
    covered = 0
    trials = 1500
    for _ in range(trials):
        sample = rng.choice(population, size=1000, replace=False)
        interval = paired_change_interval(int((sample == 1).sum()), int((sample == -1).sum()), 1000, population=5000)
        covered += interval.low <= truth <= interval.high
    assert covered / trials >= 0.87


def _paired_measurement(baseline_value: float, n: int, gained: int, lost: int, population: int = 50_000) -> Measurement:
    interval = paired_change_interval(gained, lost, n, population=population)
    paired = PairedEstimate(
        baseline="m.parquet", used=True, baseline_run="r", baseline_images=population, baseline_value=baseline_value,
        images=n, gained=gained, lost=lost, changed_count=gained + lost,
        value=baseline_value + 100 * interval.change, low=baseline_value + 100 * interval.low,
        high=baseline_value + 100 * interval.high, level=interval.level, population=population,
    )
    hits = round(n * baseline_value / 100)
    return Measurement(
        metric="top1", status="ok", value=100 * hits / n, unit="%",
        uncertainty=Uncertainty("wilson-95-fpc", 100 * hits / n - 1.9, 100 * hits / n + 1.9, 0.95), paired=paired,
    )


def _claim(value: float) -> Claim:
    return Claim("top1", "Top 1 Accuracy", value, f"{value:.2f}%", SRC, "%", 0.01)


@pytest.mark.parametrize("baseline", [72.85, 72.95, 73.05])
def test_2000_images_no_change_and_a_baseline_within_a_tenth_passes_at_a_quarter_point(baseline):
    verdict = judge_claim("m", _claim(72.95), _paired_measurement(baseline, 2000, 0, 0), Tolerance("top1", absolute=0.25))
    assert verdict.status == "pass", verdict.explanation
    assert "paired with baseline m.parquet (50,000 images" in verdict.explanation
    assert "2,000 images, 0 changed (0 gained, 0 lost)" in verdict.explanation


def test_the_same_subset_judged_unpaired_is_inconclusive():
    measurement = _paired_measurement(72.95, 2000, 0, 0)
    unpaired = Measurement(metric="top1", status="ok", value=measurement.value, unit="%", uncertainty=measurement.uncertainty)
    verdict = judge_claim("m", _claim(72.95), unpaired, Tolerance("top1", absolute=0.25))
    assert verdict.status == "unverified" and "inconclusive" in verdict.explanation


def test_many_lost_images_are_drift_and_a_few_are_inconclusive():
    tolerance = Tolerance("top1", absolute=0.25)
    drift = judge_claim("m", _claim(72.95), _paired_measurement(72.95, 2000, 0, 30), tolerance)
    assert drift.status == "drift" and "30 changed (0 gained, 30 lost)" in drift.explanation
    unsure = judge_claim("m", _claim(72.95), _paired_measurement(72.95, 2000, 1, 6), tolerance)
    assert unsure.status == "unverified" and "inconclusive" in unsure.explanation


def test_a_refused_baseline_is_named_and_the_unpaired_interval_decides():
    measurement = Measurement(
        metric="top1", status="ok", value=72.95, unit="%", uncertainty=Uncertainty("wilson-95", 72.9, 73.0, 0.95),
        paired=PairedEstimate(baseline="m.parquet", used=False, reason="checkpoint differs (baseline sha256 aaa, this run bbb)"),
    )
    verdict = judge_claim("m", _claim(72.95), measurement, Tolerance("top1", absolute=0.25))
    assert verdict.status == "pass"
    assert "baseline m.parquet not used: checkpoint differs" in verdict.explanation
    assert math.isclose(verdict.compared_value or 0, 72.95)
