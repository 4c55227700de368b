"""Accuracy: the eval transform, the scoring loop, statistics and data-parallel runs.

:func:`zoo.measure.accuracy.measure.measure_accuracy` puts them together; the labelled
images come from :mod:`zoo.measure.accuracy.data`, and per-image predictions are kept
beside the run record by :mod:`zoo.runs.predictions`.
"""

from __future__ import annotations

from zoo.measure.accuracy.options import EvalOptions
from zoo.measure.accuracy.stats import Interval, proportion_interval
from zoo.measure.accuracy.transforms import EvalTransform, eval_transform

__all__ = ["EvalOptions", "EvalTransform", "Interval", "eval_transform", "proportion_interval"]
