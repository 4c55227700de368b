"""Accuracy evaluation: the eval transform, the scoring loop, statistics, per-image
predictions and data-parallel runs. :func:`zoo.measure.accuracy.measure_accuracy`
puts them together."""

from __future__ import annotations

from zoo.evaluate.options import EvalOptions
from zoo.evaluate.predictions import ImagePredictions, read_predictions, write_predictions
from zoo.evaluate.stats import Interval, proportion_interval
from zoo.evaluate.transforms import EvalTransform, eval_transform

__all__ = [
    "EvalOptions",
    "EvalTransform",
    "ImagePredictions",
    "Interval",
    "eval_transform",
    "proportion_interval",
    "read_predictions",
    "write_predictions",
]
