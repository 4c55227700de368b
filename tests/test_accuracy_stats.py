"""The interval maths: textbook values, scipy's implementations, the exact-interval
identity, and the finite-population correction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from zoo.measure.accuracy.stats import finite_population_factor, proportion_interval

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I:
# (x, n) -> (Wilson score interval, Clopper-Pearson exact interval), 4 decimals.
NEWCOMBE = {
    (81, 263): ((0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148): ((0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20): ((0.0, 0.1611), (0.0, 0.1684)),
    (1, 29): ((0.0061, 0.1718), (0.0009, 0.1776)),
}


@pytest.mark.parametrize(("x", "n"), list(NEWCOMBE))
def test_textbook_values(x, n):
    wilson, exact = NEWCOMBE[(x, n)]
    w = proportion_interval(x, n, method="wilson")
    c = proportion_interval(x, n, method="clopper-pearson")
    assert (round(w.low, 4), round(w.high, 4)) == wilson
    assert (round(c.low, 4), round(c.high, 4)) == exact


@pytest.mark.parametrize(("x", "n"), [(0, 7), (3, 7), (7, 7), (3600, 5000), (36475, 50000), (49999, 50000)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_agrees_with_scipy_binomtest(x, n, level):
    reference = binomtest(x, n)
    for method, scipy_method in (("wilson", "wilson"), ("clopper-pearson", "exact")):
        ours = proportion_interval(x, n, method=method, level=level)
        theirs = reference.proportion_ci(confidence_level=level, method=scipy_method)
        assert ours.low == pytest.approx(theirs.low, abs=1e-9)
        assert ours.high == pytest.approx(theirs.high, abs=1e-9)


def _upper_tail(x: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x, n + 1))


def test_clopper_pearson_bounds_solve_the_binomial_tail_equations():
    x, n = 17, 60
    interval = proportion_interval(x, n, method="clopper-pearson")
    assert _upper_tail(x, n, interval.low) == pytest.approx(0.025, rel=1e-6)
    assert 1 - _upper_tail(x + 1, n, interval.high) == pytest.approx(0.025, rel=1e-6)


def test_scoring_the_whole_population_gives_a_zero_width_interval():
    for method in ("wilson", "clopper-pearson"):
        interval = proportion_interval(36475, 50000, method=method, population=50000)
        assert interval.low == interval.high == 36475 / 50000
        assert interval.kind == f"{method}-95-fpc"


def test_finite_population_correction_narrows_with_the_sampled_fraction():
    widths = []
    for n in (1000, 5000, 25000, 45000):
        x = int(0.73 * n)
        corrected = proportion_interval(x, n, population=50000)
        plain = proportion_interval(x, n)
        assert corrected.low >= plain.low and corrected.high <= plain.high
        expected_ratio = math.sqrt(finite_population_factor(n, 50000))
        assert (corrected.high - corrected.low) / (plain.high - plain.low) == pytest.approx(expected_ratio, rel=0.02)
        widths.append(corrected.high - corrected.low)
    assert widths == sorted(widths, reverse=True)


def test_correction_is_clipped_to_what_the_unseen_images_allow():
    # 99 of 100 right with 1 image unseen: the full-set accuracy is 0.99 or 1.0 - nothing else.
    for method in ("wilson", "clopper-pearson"):
        interval = proportion_interval(99, 100, method=method, population=101)
        assert 99 / 101 <= interval.low and interval.high <= 100 / 101


def test_huge_population_matches_the_uncorrected_interval():
    corrected = proportion_interval(700, 1000, population=10**12)
    plain = proportion_interval(700, 1000)
    assert corrected.low == pytest.approx(plain.low, abs=1e-9)
    assert corrected.high == pytest.approx(plain.high, abs=1e-9)


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_corrected_interval_covers_the_population_accuracy_when_sampling_without_replacement(method):
    population, successes, n, trials = 2000, 1460, 800, 4000
    draws = np.random.default_rng(11).hypergeometric(successes, population - successes, n, size=trials)
    truth = successes / population
    covered = 0
    for x in draws.tolist():
        interval = proportion_interval(x, n, method=method, population=population)
        covered += interval.low <= truth <= interval.high
    assert covered / trials >= 0.93  # nominal 95%; a too-narrow correction would fall well below
    assert covered / trials <= 0.975  # without the correction it is ~0.99 here (too wide)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        proportion_interval(5, 4)
    with pytest.raises(ValueError):
        proportion_interval(1, 4, method="normal")
    with pytest.raises(ValueError):
        proportion_interval(1, 4, population=3)
    assert (proportion_interval(0, 0).low, proportion_interval(0, 0).high) == (0.0, 1.0)
