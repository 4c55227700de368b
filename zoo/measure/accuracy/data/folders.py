"""The class-folder layout: ``val/n01440764/ILSVRC2012_val_00000293.JPEG``.

Listing is torchvision's own (``find_classes`` / ``make_dataset``), so the order and
labels are exactly those of ``torchvision.datasets.ImageFolder``, except that folders
named by ImageNet-1k WordNet ids keep their standard index even when only some of
the 1000 classes are present.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from typing import Optional

from zoo.measure.accuracy.data.base import IMAGE_EXTENSIONS, FileImages, unique_names
from zoo.measure.accuracy.data.class_map import folder_labels, read_class_map
from zoo.measure.accuracy.data.synsets import IMAGENET_CLASSES, imagenet_class_index, imagenet_wnids
from zoo.errors import InputError


def load_class_folders(root: Path, class_map: Optional[Path] = None) -> FileImages:
    """The images under ``root/<class>/``, in ImageFolder order; ``class_map`` (timm's
    ``--class-map`` file: line N names class N-1) labels folders named by their class names."""
    from torchvision.datasets.folder import find_classes, make_dataset

    classes, folder_index = find_classes(str(root))
    standard = imagenet_class_index()
    if class_map is not None:
        mapped = read_class_map(class_map)
        class_to_idx = folder_labels(classes, mapped, class_map)
        num_classes, class_names = len(mapped), mapped
        label_source = f"class folders named in the class map {class_map} (line N is class N-1)"
    elif all(name in standard for name in classes):
        class_to_idx = {name: standard[name] for name in classes}
        num_classes, class_names = IMAGENET_CLASSES, imagenet_wnids()
        label_source = "class folders named by ImageNet-1k WordNet id (standard sorted-wnid index)"
    else:
        class_to_idx = folder_index
        num_classes, class_names = len(classes), tuple(classes)
        label_source = "class folders, indexed in sorted folder-name order (ImageFolder convention)"
    # make_dataset lower-cases each file name before comparing its ending.
    samples = make_dataset(str(root), class_to_idx, extensions=IMAGE_EXTENSIONS, allow_empty=True)
    if not samples:
        raise InputError(
            f"{root}: the class folders hold no images ({', '.join(IMAGE_EXTENSIONS)})",
            hint="point --data (or ZOO_IMAGENET) at the folder whose subfolders are the classes",
        )
    paths = [Path(p) for p, _ in samples]
    return FileImages(
        source=str(root),
        layout="class-folder",
        names=unique_names(paths, root),
        labels=np.asarray([label for _, label in samples], dtype=np.int64),
        num_classes=num_classes,
        class_names=tuple(class_names),
        label_source=label_source,
        paths=tuple(str(p) for p in paths),
    )
