"""Confidence intervals for an accuracy (a binomial proportion), with a finite-population
correction for subsets of a known population.

Scoring *n* of the *N* = 50,000 ImageNet validation images (``--limit``) samples without
replacement, so the uncertainty about the full-set accuracy shrinks by the factor
``(N - n) / (N - 1)`` on the variance, and vanishes when every image is scored. Both
intervals apply it through the effective sample size ``n / ((N - n) / (N - 1))`` (the
Korn-Graubard device for Clopper-Pearson) and are then clipped to what the unseen
images could still make of the full-set accuracy. Without a population the intervals
are the textbook ones.

A class-stratified subset has at most the variance of a simple random one, so these
intervals are, if anything, slightly conservative for ``--limit`` subsets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Optional

METHODS = ("wilson", "clopper-pearson")


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval for a proportion, in [0, 1]."""

    low: float
    high: float
    method: str
    level: float
    population: Optional[int] = None

    @property
    def kind(self) -> str:
        """e.g. "wilson-95", "clopper-pearson-95-fpc" (for records.Uncertainty.kind)."""
        return f"{self.method}-{self.level * 100:g}" + ("-fpc" if self.population else "")

    def describe(self) -> str:
        name = {"wilson": "Wilson", "clopper-pearson": "Clopper-Pearson"}[self.method]
        text = f"{name} {self.level:.0%} interval"
        if self.population:
            text += f", finite-population corrected (N={self.population:,})"
        return text


def finite_population_factor(n: int, population: Optional[int]) -> float:
    """``(N - n) / (N - 1)``: 1 for an infinite population, 0 when the whole population was scored."""
    if population is None:
        return 1.0
    if n > population:
        raise ValueError(f"scored {n} images of a population of {population}")
    if population <= 1:
        return 0.0
    return (population - n) / (population - 1)


def proportion_interval(
    successes: int,
    n: int,
    *,
    method: str = "wilson",
    level: float = 0.95,
    population: Optional[int] = None,
) -> Interval:
    """The ``level`` confidence interval for ``successes`` out of ``n`` (see the module docstring).

    >>> round(proportion_interval(81, 263).low, 4), round(proportion_interval(81, 263).high, 4)
    (0.2553, 0.3662)
    """
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in 0..{n}, got {successes}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n == 0:
        return Interval(0.0, 1.0, method, level, population)
    factor = finite_population_factor(n, population)
    p = successes / n
    if factor == 0.0:
        return Interval(p, p, method, level, population)
    n_eff = n / factor
    if method == "wilson":
        low, high = _wilson(p, n_eff, level)
    else:
        low, high = _clopper_pearson(p, n_eff, level, at_zero=successes == 0, at_all=successes == n)
    if population is not None:
        # The unseen N - n images can only move the full-set accuracy so far.
        low = max(low, successes / population)
        high = min(high, (successes + population - n) / population)
    return Interval(low, high, method, level, population)


def _wilson(p: float, n: float, level: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + level / 2)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _clopper_pearson(p: float, n: float, level: float, *, at_zero: bool, at_all: bool) -> tuple[float, float]:
    # The beta quantiles of the exact interval; scipy's is the well-kept implementation.
    from scipy.stats import beta

    alpha = 1 - level
    x = p * n
    low = 0.0 if at_zero else float(beta.ppf(alpha / 2, x, n - x + 1))
    high = 1.0 if at_all else float(beta.ppf(1 - alpha / 2, x + 1, n - x))
    return low, high
