"""What every dataset source yields: named, labelled images in a fixed order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from zoo.errors import EXIT_INCOMPLETE, ZooError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
"""File endings read as images (torchvision's ImageFolder list, compared case-insensitively)."""


@dataclass(frozen=True, eq=False)
class EvalDataset:
    """Labelled images in a fixed order, whatever their source.

    ``names`` identify each image stably (a file name such as
    ``ILSVRC2012_val_00000001.JPEG`` where one is known) and are what per-image
    predictions and ``zoo diff`` are keyed by. ``labels`` are class indices in the
    model's order (the standard sorted-WordNet-id order for ImageNet-1k).
    """

    source: str
    """Where the images come from, as a person would name it (folder, hub id)."""
    layout: str
    """"class-folder", "flat", "hub", "parquet", "arrow" or "saved-dataset"."""
    names: tuple[str, ...]
    labels: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]
    label_source: str = ""
    """How the labels were found (folder names, LOC_val_solution.csv, a ClassLabel column)."""

    def __len__(self) -> int:
        return len(self.names)

    def load_image(self, index: int) -> Image.Image:
        """Image ``index`` decoded to RGB. Raises on an unreadable image."""
        raise NotImplementedError

    def missing_files(self) -> list[str]:
        """Names of images that are plainly unreadable before decoding (absent or empty files)."""
        return []


@dataclass(frozen=True, eq=False)
class FileImages(EvalDataset):
    """Images stored as files on disk (class-folder and flat layouts)."""

    paths: tuple[str, ...] = ()

    def load_image(self, index: int) -> Image.Image:
        # PIL's lazy open + convert is what torchvision's ImageFolder does (pil_loader).
        with open(self.paths[index], "rb") as handle:
            image = Image.open(handle)
            return image.convert("RGB")

    def missing_files(self) -> list[str]:
        missing = []
        for name, path in zip(self.names, self.paths):
            try:
                if os.stat(path).st_size == 0:
                    missing.append(name)
            except OSError:
                missing.append(name)
        return missing


class DataUnavailableError(ZooError):
    """The data exists somewhere but could not be reached now (network, authorisation).

    Accuracy becomes "unavailable" (exit code 3), not a bad-input error."""

    exit_code = EXIT_INCOMPLETE


def is_image_file(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def unique_names(paths: Sequence[Path], root: Path) -> tuple[str, ...]:
    """File names where they are unique (so one image keeps its name across layouts),
    otherwise paths relative to ``root``."""
    base = [p.name for p in paths]
    if len(set(base)) == len(base):
        return tuple(base)
    return tuple(p.relative_to(root).as_posix() for p in paths)
