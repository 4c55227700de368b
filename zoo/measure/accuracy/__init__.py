"""Accuracy: the eval transform, the scoring loop, statistics, paired baselines and data-parallel runs.

:func:`zoo.measure.accuracy.measure.measure_accuracy` puts them together; the labelled
images come from :mod:`zoo.measure.accuracy.data`, and per-image predictions are kept
beside the run record by :mod:`zoo.runs.predictions`.
"""
