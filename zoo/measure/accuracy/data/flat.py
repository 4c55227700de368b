"""The flat layout as distributed: ``ILSVRC2012_val_*.JPEG`` in one folder plus a labels file.

Labels files understood:

- ``LOC_val_solution.csv`` (Kaggle): ``ImageId,PredictionString``, the first WordNet
  id of the prediction string is the class.
- ``ILSVRC2012_validation_ground_truth.txt`` (devkit): line *i* is the devkit class
  number (``ILSVRC2012_ID``) of ``ILSVRC2012_val_%08d`` *i*; the devkit's ``data/meta.mat``
  maps those numbers to WordNet ids.
- Any other text file given with ``--data-labels``: ``NAME LABEL`` per line (space, tab
  or comma), LABEL a WordNet id or a standard class index (caffe's ``val.txt``).

Every label ends up in the standard sorted-WordNet-id index.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Optional

import numpy as np

from zoo.measure.accuracy.data.base import FileImages, is_image_file
from zoo.measure.accuracy.data.synsets import (
    IMAGENET_CLASSES,
    devkit_id_to_wnid,
    imagenet_wnids,
    standard_index,
)
from zoo.errors import InputError

LOC_SOLUTION = "LOC_val_solution.csv"
DEVKIT_GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_DATA = Path("ILSVRC2012_devkit_t12") / "data"
VAL_NUMBER = re.compile(r"ILSVRC2012_val_(\d{8})")
SEARCH_ANCESTORS = 4
"""How far up from the image folder labels files are looked for (Kaggle puts
LOC_val_solution.csv four levels above ILSVRC/Data/CLS-LOC/val)."""

HOW_TO_LABEL = (
    "put LOC_val_solution.csv, or ILSVRC2012_validation_ground_truth.txt with the devkit's "
    "data/meta.mat beside it, in the folder or a parent; or name a labels file with "
    "--data-labels / ZOO_IMAGENET_LABELS; or sort the images into class folders (val/n01440764/...)"
)


def image_id(name: str) -> str:
    """The name without its extension (``ILSVRC2012_val_00000001``)."""
    return name.rsplit(".", 1)[0]


def load_flat_folder(root: Path, labels_file: Optional[Path] = None) -> FileImages:
    """The images directly inside ``root`` with labels from ``labels_file`` (or one found nearby)."""
    files = sorted(p for p in root.iterdir() if p.is_file() and is_image_file(p.name))
    if not files:
        raise InputError(
            f"{root}: holds neither images nor class folders", hint="point --data at the ImageNet val folder"
        )
    labels_file = labels_file or find_labels_file(root)
    if labels_file is None:
        raise InputError(
            f"{root}: holds {len(files)} images in one folder but no labels were found, "
            "so accuracy cannot be measured (scoring without labels would report ~0.1%)",
            hint=HOW_TO_LABEL,
        )
    by_id = read_labels_file(labels_file, root)
    labels, unlabelled = [], []
    for path in files:
        wnid_or_index = by_id.get(image_id(path.name))
        if wnid_or_index is None:
            unlabelled.append(path.name)
        else:
            labels.append(wnid_or_index)
    if unlabelled:
        shown = ", ".join(unlabelled[:5]) + (" ..." if len(unlabelled) > 5 else "")
        raise InputError(
            f"{labels_file}: has no label for {len(unlabelled)} of the {len(files)} images in {root} ({shown})",
            hint="use the labels file that belongs to these images, or remove the extra images",
        )
    return FileImages(
        source=str(root),
        layout="flat",
        names=tuple(p.name for p in files),
        labels=np.asarray(labels, dtype=np.int64),
        num_classes=IMAGENET_CLASSES,
        class_names=imagenet_wnids(),
        label_source=str(labels_file),
        paths=tuple(str(p) for p in files),
    )


def find_labels_file(root: Path) -> Optional[Path]:
    """LOC_val_solution.csv or the devkit ground truth in ``root``, a parent, or a devkit folder there."""
    for folder in [root, *list(root.resolve().parents)[:SEARCH_ANCESTORS]]:
        for candidate in (
            folder / LOC_SOLUTION,
            folder / DEVKIT_GROUND_TRUTH,
            folder / DEVKIT_DATA / DEVKIT_GROUND_TRUTH,
        ):
            if candidate.is_file():
                return candidate
    return None


def read_labels_file(path: Path, image_root: Path) -> dict[str, int]:
    """Image id (name without extension) -> standard class index, from any supported labels file."""
    if not path.is_file():
        raise InputError(f"{path}: labels file not found", hint="check --data-labels / ZOO_IMAGENET_LABELS")
    if path.name == DEVKIT_GROUND_TRUTH:
        return read_devkit_ground_truth(path, find_meta_mat(path, image_root))
    with open(path, newline="") as handle:
        first = handle.readline()
    if first.replace(" ", "").lower().startswith("imageid,predictionstring"):
        return read_loc_solution(path)
    return read_name_label_lines(path)


def read_loc_solution(path: Path) -> dict[str, int]:
    """Kaggle's LOC_val_solution.csv: the first WordNet id of each PredictionString."""
    labels: dict[str, int] = {}
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < 2 or not row[1].split():
                raise InputError(f"{path}:{line}: expected 'ImageId,PredictionString', got {','.join(row)!r}")
            labels[row[0].strip()] = standard_index(row[1].split()[0], where=f"{path}:{line}")
    return labels


def find_meta_mat(ground_truth: Path, image_root: Path) -> Path:
    """The devkit's meta.mat: beside the ground-truth file, or in a devkit folder near the images."""
    candidates = [ground_truth.parent / "meta.mat"]
    for folder in [image_root, *list(image_root.resolve().parents)[:SEARCH_ANCESTORS]]:
        candidates.append(folder / DEVKIT_DATA / "meta.mat")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(
        f"{ground_truth}: numbers classes in the devkit's own order (ILSVRC2012_ID), and the devkit's "
        f"meta.mat that maps them to WordNet ids was not found (looked beside it and in {DEVKIT_DATA})",
        hint="extract ILSVRC2012_devkit_t12.tar.gz so data/meta.mat sits beside the ground-truth file, "
        "or use LOC_val_solution.csv",
    )


def read_devkit_ground_truth(path: Path, meta_mat: Path) -> dict[str, int]:
    """Line i of the devkit ground truth is the class of ILSVRC2012_val_<i>; mapped via meta.mat."""
    id_to_wnid = devkit_id_to_wnid(meta_mat)
    labels: dict[str, int] = {}
    with open(path) as handle:
        for line, text in enumerate(handle, start=1):
            text = text.strip()
            if not text:
                continue
            try:
                wnid = id_to_wnid[int(text)]
            except (ValueError, KeyError):
                raise InputError(f"{path}:{line}: expected a devkit class number 1..1000, got {text!r}") from None
            labels[f"ILSVRC2012_val_{line:08d}"] = standard_index(wnid, where=f"{meta_mat}")
    return labels


def read_name_label_lines(path: Path) -> dict[str, int]:
    """``NAME LABEL`` lines; LABEL a WordNet id or a standard class index (0..999)."""
    labels: dict[str, int] = {}
    with open(path) as handle:
        for line, text in enumerate(handle, start=1):
            parts = re.split(r"[\s,]+", text.strip())
            if parts == [""]:
                continue
            if len(parts) < 2:
                raise InputError(
                    f"{path}:{line}: expected 'NAME LABEL' (LABEL a WordNet id or class index), got {text.strip()!r}"
                )
            name, label = parts[0], parts[1]
            if line == 1 and not label.isdigit() and not re.fullmatch(r"n\d{8}", label):
                continue  # a header such as "name,label"
            if label.isdigit():
                index = int(label)
                if not 0 <= index < IMAGENET_CLASSES:
                    raise InputError(f"{path}:{line}: class index {index} is outside 0..{IMAGENET_CLASSES - 1}")
            else:
                index = standard_index(label, where=f"{path}:{line}")
            labels[image_id(Path(name).name)] = index
    return labels
