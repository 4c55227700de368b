"""The checks made before scoring: image count, class count against the model's head,
plainly unreadable images, and the fingerprint recorded in the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import torch

from zoo.measure.accuracy.data.base import EvalDataset
from zoo.measure.accuracy.data.fingerprint import fingerprint
from zoo.measure.accuracy.data.imagenet_val import imagenet_val_evidence
from zoo.measure.accuracy.data.synsets import IMAGENET_CLASSES, IMAGENET_VAL_IMAGES

SHOW_AT_MOST = 10
"""How many unreadable image names a message lists before "and N more"."""


@dataclass(frozen=True)
class DatasetReport:
    """What the checks found about a dataset, recorded beside every accuracy measurement."""

    source: str
    layout: str
    label_source: str
    images: int
    classes: int
    fingerprint: str
    expected_images: Optional[int] = None
    """50,000 for an ImageNet-1k dataset (the validation set); None when unknown."""
    unreadable: tuple[str, ...] = field(default_factory=tuple)
    """Images found unreadable before scoring (absent or empty files)."""
    imagenet_val: Optional[bool] = None
    """Whether the images are ImageNet val's (zoo.measure.accuracy.data.imagenet_val); None: not checked."""
    imagenet_val_why: str = ""
    """How that was decided, in words."""

    @property
    def is_complete_imagenet_val(self) -> bool:
        return self.classes == IMAGENET_CLASSES and self.images == IMAGENET_VAL_IMAGES and self.imagenet_val is not False

    def notes(self) -> list[str]:
        """What a person should know about this dataset (count differences, unreadable images)."""
        notes = []
        if self.imagenet_val is False and self.classes == IMAGENET_CLASSES:  # ImageNet's classes, not its images
            notes.append(
                f"not ImageNet val ({self.imagenet_val_why}): ImageNet top-1/top-5 claims are left unverified "
                "unless --population says this data is what they are about"
            )
        elif self.expected_images is not None and self.images != self.expected_images:
            notes.append(
                f"dataset has {self.images:,} images; the ImageNet validation set has {self.expected_images:,}"
            )
        if self.unreadable:
            notes.append(describe_unreadable(self.unreadable))
        return notes

    def summary(self) -> str:
        return (
            f"{self.source} ({self.layout}): {self.images:,} images, {self.classes} classes, "
            f"labels from {self.label_source}, fingerprint {self.fingerprint}"
        )


def check_dataset(dataset: EvalDataset) -> DatasetReport:
    """Count, fingerprint, tell whether it is ImageNet val and look for plainly unreadable images
    (no decoding: that happens once, when scoring)."""
    evidence = imagenet_val_evidence(dataset)
    return DatasetReport(
        source=dataset.source,
        layout=dataset.layout,
        label_source=dataset.label_source,
        images=len(dataset),
        classes=dataset.num_classes,
        fingerprint=fingerprint(dataset.names, dataset.labels),
        expected_images=IMAGENET_VAL_IMAGES if dataset.num_classes == IMAGENET_CLASSES else None,
        unreadable=tuple(dataset.missing_files()),
        imagenet_val=evidence.is_val,
        imagenet_val_why=evidence.why,
    )


def model_num_classes(model: torch.nn.Module) -> Optional[int]:
    """The size of a model's classifier head where the model says it (timm's ``num_classes``)."""
    value = getattr(model, "num_classes", None)
    return int(value) if isinstance(value, int) and value > 0 else None


def class_count_problem(report: DatasetReport, model_classes: Optional[int]) -> Optional[str]:
    """Why a model with ``model_classes`` outputs cannot be scored on this dataset, or None."""
    if model_classes is None or model_classes == report.classes:
        return None
    return (
        f"the model's head has {model_classes} classes but the dataset {report.source} has "
        f"{report.classes} (labels from {report.label_source}); scoring would compare unrelated "
        "class numbers, so nothing was scored. Point --data at a dataset with the model's classes "
        "(ImageNet-1k: class folders named by WordNet id, or a labelled flat folder)"
    )


def describe_unreadable(names: Sequence[str], first_reason: Optional[str] = None) -> str:
    """ "3 unreadable image(s), not counted: a.JPEG, b.JPEG, c.JPEG (first: OSError: ...)"."""
    shown = ", ".join(list(names)[:SHOW_AT_MOST])
    more = f" and {len(names) - SHOW_AT_MOST} more" if len(names) > SHOW_AT_MOST else ""
    why = f" (first: {first_reason})" if first_reason else ""
    return f"{len(names)} unreadable image(s), not counted: {shown}{more}{why}"
