"""Whether a dataset is (a sample of) the ImageNet validation set, the data every top-1 claim is about.

An ImageNet top-1 claim is about the 50,000 ILSVRC2012 validation images. Scored on other
images (your own photos sorted into ImageNet classes), a top-1 says nothing about it, so the
judge leaves the claim ``unverified`` unless ``--population`` says the data is what the claim
is about (:mod:`zoo.judge.scope`). The set is recognised by

- its file names, ``ILSVRC2012_val_00000001.JPEG`` .. ``ILSVRC2012_val_00050000.JPEG`` (any image
  ending; the Hub's copies add the WordNet id, ``ILSVRC2012_val_00000001_n01751748.JPEG``), every
  image's, in any layout, or
- the Hugging Face Hub dataset's name (:data:`HUB_IMAGENET`) and its validation split.

>>> val_number("ILSVRC2012_val_00000293.JPEG"), val_number("val/ILSVRC2012_val_00000001_n01751748.png")
(293, 1)
>>> val_number("ILSVRC2012_val_00050001.JPEG") is None, val_number("photo_001.jpg") is None
(True, True)
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Optional

from zoo.measure.accuracy.data.base import EvalDataset
from zoo.measure.accuracy.data.synsets import IMAGENET_CLASSES, IMAGENET_VAL_IMAGES

VAL_FILE = re.compile(r"^ILSVRC2012_val_(\d{8})(?:_n\d{8})?\.[A-Za-z]+$")
HUB_IMAGENET = frozenset({"ILSVRC/imagenet-1k", "imagenet-1k", "timm/imagenet-1k-wds"})
"""Hugging Face Hub datasets that hold ImageNet-1k, whose validation split is ImageNet val."""
VAL_SPLITS = frozenset({"validation", "val"})


@dataclass(frozen=True)
class ValEvidence:
    """Whether a dataset is ImageNet val, and how that was decided (recorded with top-1/top-5)."""

    is_val: bool
    why: str
    """"file names ILSVRC2012_val_*" or why not ("its file names are not ImageNet val's: photo_001.jpg")."""


def val_number(name: str) -> Optional[int]:
    """The ImageNet val image number (1..50,000) a file name carries, or None."""
    matched = VAL_FILE.match(posixpath.basename(name.replace("\\", "/")))
    if matched is None:
        return None
    number = int(matched.group(1))
    return number if 1 <= number <= IMAGENET_VAL_IMAGES else None


def imagenet_val_evidence(dataset: EvalDataset) -> ValEvidence:
    """Whether ``dataset`` is ImageNet val (or a sample of it); see the module doc."""
    if dataset.num_classes != IMAGENET_CLASSES:
        return ValEvidence(False, f"it has {dataset.num_classes:,} classes, ImageNet 1,000")
    source = dataset.source.removeprefix("hf:")
    split = str(getattr(dataset, "split", "") or "")
    if dataset.source.startswith("hf:") and source in HUB_IMAGENET:
        if split in VAL_SPLITS:
            return ValEvidence(True, f"the Hub dataset {source}, split {split}")
        return ValEvidence(False, f"split {split!r} of {source} is not its validation split")
    numbers = set()
    for name in dataset.names:
        number = val_number(name)
        if number is None:
            return ValEvidence(
                False, f"its file names are not ImageNet val's (ILSVRC2012_val_00000001.JPEG .. 00050000): {name}"
            )
        numbers.add(number)
    if len(numbers) != len(dataset.names):
        return ValEvidence(False, "an ImageNet val file name appears more than once")
    return ValEvidence(True, "file names ILSVRC2012_val_00000001 .. 00050000")


__all__ = ["HUB_IMAGENET", "VAL_FILE", "ValEvidence", "imagenet_val_evidence", "val_number"]
