"""Paired accuracy: a subset run set beside a stored baseline of the whole set, with its interval.

Over the ``n`` images scored both by the baseline and by this run, ``gained`` images went
wrong -> right and ``lost`` went right -> wrong. The change in accuracy over the whole
population of ``N`` images is estimated by ``(gained - lost) / n``, and the full-set
accuracy of this run by the baseline's full-set accuracy plus that change.

The interval for the change is Tango's asymptotic score interval for a difference of
paired proportions (Tango 1998, Statistics in Medicine 17:891-908): every ``d`` whose
score statistic

    T(d) = (gained - lost - n d) / sqrt(f * n * (2 q(d) + d (1 - d)))

lies within +/- z, where ``q(d)`` is the maximum-likelihood estimate of the
right -> wrong rate under the constraint that the difference is ``d`` (a root of a
quadratic), and ``f = (N - n) / (N - 1)`` is the finite-population correction of the
variance (``f = 1`` without a population; the whole population scored gives a
zero-width interval). Unlike the Wald interval it does not collapse to a point when no
image changed: with 0 discordant pairs it is +/- z^2 f / (n + z^2 f), the Wilson bound for
zero events.

Neither scipy nor statsmodels implements a paired-difference score interval, so the
statistic is written here; scipy finds its roots (``brentq``) and the normal quantile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from zoo.records import PairedEstimate
    from zoo.runs.baselines import Baseline
    from zoo.runs.predictions import ImagePredictions

PAIRED_LEVEL = 0.90
"""Two-sided level of the paired interval. ``pass`` (the interval inside claim +/- tolerance)
needs both bounds inside: two one-sided tests at 5% each (Schuirmann's equivalence test, size
5%). ``drift`` (wholly outside) is decided by the bound nearer the claim: a one-sided test at
5%. A 95% two-sided interval would test each at 2.5%, as the unpaired verdict does."""


@dataclass(frozen=True)
class PairedInterval:
    """A confidence interval for the paired change ``(gained - lost) / n``, in [-1, 1]."""

    change: float
    low: float
    high: float
    level: float
    population: Optional[int] = None

    def describe(self) -> str:
        text = f"Tango score {self.level:.0%} interval for the paired change"
        if self.population:
            text += f", finite-population corrected (N={self.population:,})"
        return text


def paired_change_interval(
    gained: int, lost: int, n: int, *, level: float = PAIRED_LEVEL, population: Optional[int] = None
) -> PairedInterval:
    """Tango's score interval for the change ``(gained - lost) / n`` (see the module docstring).

    >>> i = paired_change_interval(6, 16, 161, level=0.95)
    >>> round(i.low, 4), round(i.high, 4)
    (-0.124, -0.0054)
    """
    from scipy.optimize import brentq
    from scipy.stats import norm

    if n < 0 or gained < 0 or lost < 0 or gained + lost > n:
        raise ValueError(f"need 0 <= gained + lost <= n, got gained={gained}, lost={lost}, n={n}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n == 0:
        return PairedInterval(0.0, -1.0, 1.0, level, population)
    if population is not None and n > population:
        raise ValueError(f"paired {n} images of a population of {population}")
    factor = 1.0 if population is None else (0.0 if population <= 1 else (population - n) / (population - 1))
    change = (gained - lost) / n
    if factor == 0.0:
        return PairedInterval(change, change, change, level, population)
    z = float(norm.ppf(0.5 + level / 2))

    def score(d: float) -> float:
        # q: constrained MLE of the right -> wrong rate when gained-rate - lost-rate = d.
        b = gained + lost + d * (gained - lost - 2 * n)
        q = (b + math.sqrt(max(0.0, b * b + 8 * n * lost * d * (1 - d)))) / (4 * n)
        variance = max(factor * n * (2 * q + d * (1 - d)), 1e-300)
        return (gained - lost - n * d) / math.sqrt(variance)

    edge = 1e-12
    low = -1.0 if change <= -1 + edge else brentq(lambda d: score(d) - z, -1 + edge, change, xtol=1e-12)
    high = 1.0 if change >= 1 - edge else brentq(lambda d: score(d) + z, change, 1 - edge, xtol=1e-12)
    return PairedInterval(change, float(low), float(high), level, population)


def refused(baseline: str, reason: str) -> "PairedEstimate":
    """A baseline that was found but does not describe this run (the unpaired test is used)."""
    from zoo.records import PairedEstimate

    return PairedEstimate(baseline=baseline, used=False, reason=reason)


def pair_predictions(
    new: "ImagePredictions", baseline: "Baseline", *, level: float = PAIRED_LEVEL
) -> tuple["PairedEstimate", "PairedEstimate"]:
    """Top-1 and top-5 of ``new`` paired with ``baseline`` over the images readable in both."""
    import numpy as np

    from zoo.records import ChangedPrediction, PairedEstimate

    info, old = baseline.info, baseline.predictions
    where = {name: row for row, name in enumerate(old.names)}
    rows_new = [i for i, name in enumerate(new.names) if name in where]
    rows_old = [where[new.names[i]] for i in rows_new]
    rows_new_a, rows_old_a = np.asarray(rows_new, dtype=np.int64), np.asarray(rows_old, dtype=np.int64)
    readable = new.readable[rows_new_a] & old.readable[rows_old_a]
    same_label = new.labels[rows_new_a] == old.labels[rows_old_a]
    keep = readable & same_label
    rows_new_a, rows_old_a = rows_new_a[keep], rows_old_a[keep]
    n = len(rows_new_a)
    top1_old, top1_new = old.topk[rows_old_a, 0], new.topk[rows_new_a, 0]
    differs = top1_old != top1_new
    changed = [
        ChangedPrediction(name=new.names[int(r)], label=int(new.labels[r]), baseline_top1=int(o), new_top1=int(t))
        for r, o, t in zip(rows_new_a[differs].tolist(), top1_old[differs].tolist(), top1_new[differs].tolist())
    ]
    estimates = []
    for metric, right_old, right_new, base_value in (
        ("top1", old.correct_top1()[rows_old_a], new.correct_top1()[rows_new_a], info.top1),
        ("top5", old.correct_topk()[rows_old_a], new.correct_topk()[rows_new_a], info.top5),
    ):
        gained = int((~right_old & right_new).sum())
        lost = int((right_old & ~right_new).sum())
        interval = paired_change_interval(gained, lost, n, level=level, population=info.population)
        estimates.append(
            PairedEstimate(
                baseline=baseline.name,
                used=True,
                baseline_run=info.run_id,
                baseline_images=info.images,
                baseline_value=base_value,
                images=n,
                gained=gained,
                lost=lost,
                changed_count=len(changed),
                changed=changed if metric == "top1" else [],
                value=_clip(base_value + 100 * interval.change),
                low=_clip(base_value + 100 * interval.low),
                high=_clip(base_value + 100 * interval.high),
                level=level,
                population=info.population,
                method=interval.describe(),
            )
        )
    return estimates[0], estimates[1]


def describe(paired: "PairedEstimate", metric: str) -> str:
    """The paired part of a verdict, e.g. "paired with baseline B (50,000 images, 72.95%): ..."."""
    if not paired.used:
        return f"baseline {paired.baseline} not used: {paired.reason}"
    name = {"top1": "top-1", "top5": "top-5"}.get(metric, metric)
    counts = f"{paired.gained} gained, {paired.lost} lost"
    changed = f"{paired.changed_count:,} changed ({counts})" if metric == "top1" else f"{paired.changed_count:,} changed top-1 ({name}: {counts})"
    return (
        f"paired with baseline {paired.baseline} ({paired.baseline_images:,} images, {paired.baseline_value:.2f}%): "
        f"{paired.images:,} images, {changed}; "
        f"full-set {name} {paired.value:.2f} [{paired.low:.2f}, {paired.high:.2f}] ({paired.level:.0%} Tango interval)"
    )


def _clip(value: float) -> float:
    return min(100.0, max(0.0, value))
