"""Summaries of repeated timings: median, quartiles, extremes and how many there were.

Percentiles use the standard library's linear interpolation between order statistics
(``statistics.quantiles(..., method="inclusive")``, the same rule as numpy's default).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Spread:
    """Median and spread of a set of repeated figures (rounds of a benchmark)."""

    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    count: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (integer 1-99) of ``values``, linearly interpolated.

    >>> percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90)
    9.1
    """
    if len(values) == 0:
        raise ValueError("percentile() needs at least one value")
    if not 1 <= q <= 99:
        raise ValueError(f"percentile q must be an integer from 1 to 99, not {q}")
    data = [float(v) for v in values]
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[q - 1]


def summarize(values: Sequence[float]) -> Spread:
    """Median, quartiles and min/max of ``values`` (at least one).

    >>> summarize([1.0, 2.0, 3.0, 4.0, 100.0]).median
    3.0
    """
    if len(values) == 0:
        raise ValueError("summarize() needs at least one value")
    data = [float(v) for v in values]
    return Spread(
        median=statistics.median(data),
        q1=percentile(data, 25),
        q3=percentile(data, 75),
        minimum=min(data),
        maximum=max(data),
        count=len(data),
    )


__all__ = ["Spread", "percentile", "summarize"]
