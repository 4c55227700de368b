"""Evaluation datasets: where the labelled images come from, and the checks made on them.

>>> from zoo.measure.accuracy.data import open_dataset, check_dataset, stratified_subset
>>> dataset = open_dataset("/data/imagenet/val")          # doctest: +SKIP
>>> check_dataset(dataset).summary()                       # doctest: +SKIP
'/data/imagenet/val (class-folder): 50,000 images, 1000 classes, ...'
"""

from __future__ import annotations

from zoo.measure.accuracy.data.base import DataUnavailableError, EvalDataset, FileImages
from zoo.measure.accuracy.data.checks import DatasetReport, check_dataset, class_count_problem, model_num_classes
from zoo.measure.accuracy.data.fingerprint import fingerprint
from zoo.measure.accuracy.data.resolve import open_dataset
from zoo.measure.accuracy.data.subset import stratified_subset
from zoo.measure.accuracy.data.synsets import IMAGENET_CLASSES, IMAGENET_VAL_IMAGES, imagenet_wnids

__all__ = [
    "IMAGENET_CLASSES",
    "IMAGENET_VAL_IMAGES",
    "DataUnavailableError",
    "DatasetReport",
    "EvalDataset",
    "FileImages",
    "check_dataset",
    "class_count_problem",
    "fingerprint",
    "imagenet_wnids",
    "model_num_classes",
    "open_dataset",
    "stratified_subset",
]
