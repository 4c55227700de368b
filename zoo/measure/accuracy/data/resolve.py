"""From what ``--data`` says to an :class:`EvalDataset`.

Accepted forms:

- ``hf:ORG/NAME`` or ``hf:ORG/NAME:SPLIT`` - a Hugging Face Hub dataset (default split
  ``validation``); ``imagenet-1k`` alone means ``hf:ILSVRC/imagenet-1k``.
- a folder of class folders (``val/n01440764/*.JPEG``);
- a flat folder of images (``ILSVRC2012_val_*.JPEG``) with a labels file nearby or
  named by ``labels``;
- a local ``datasets`` dataset: a parquet file, a hub-style folder of parquet files,
  or a ``save_to_disk`` folder; ``PATH:SPLIT`` picks a split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from zoo.measure.accuracy.data.base import EvalDataset, is_image_file
from zoo.measure.accuracy.data.flat import load_flat_folder
from zoo.measure.accuracy.data.folders import load_class_folders
from zoo.measure.accuracy.data.hub import HUB_ALIASES, load_hub_dataset, load_local_dataset
from zoo.errors import InputError

HUB_PREFIX = "hf:"
DATASETS_FILE_ENDINGS = (".parquet", ".arrow")


def open_dataset(spec: str, labels: Optional[str] = None, class_map: Optional[str] = None) -> EvalDataset:
    """The dataset ``spec`` names (see the module docstring); ``labels`` is a labels file for a
    flat folder, ``class_map`` a class-name file for class folders (timm's ``--class-map``)."""
    spec = spec.strip()
    if class_map:
        hub = spec.startswith(HUB_PREFIX) or spec in HUB_ALIASES
        path = None if hub else _path_and_split(spec)[0]
        if path is None or not path.is_dir() or not any(e.is_dir() for e in path.iterdir()):
            raise InputError(
                f"--class-map {class_map} applies to class folders, and {spec!r} is not a folder of class folders",
                hint="drop --class-map (or ZOO_CLASS_MAP), or point --data at the folder whose subfolders are the classes",
            )
        _no_labels_file(labels, spec)
        return load_class_folders(path, Path(class_map))
    if spec.startswith(HUB_PREFIX) or spec in HUB_ALIASES:
        _no_labels_file(labels, spec)
        repo, _, hub_split = spec.removeprefix(HUB_PREFIX).partition(":")
        return load_hub_dataset(repo, hub_split or None)
    path, split = _path_and_split(spec)
    if path.is_file():
        if path.name.endswith(DATASETS_FILE_ENDINGS):
            _no_labels_file(labels, spec)
            return load_local_dataset(path, split)
        raise InputError(f"{path}: is a file; --data takes an image folder, a parquet file or a dataset id")
    if _is_datasets_folder(path):
        _no_labels_file(labels, spec)
        return load_local_dataset(path, split)
    entries = list(path.iterdir())
    if any(e.is_file() and is_image_file(e.name) for e in entries):
        return load_flat_folder(path, Path(labels) if labels else None)
    if any(e.is_dir() for e in entries):
        _no_labels_file(labels, spec)
        return load_class_folders(path)
    raise InputError(
        f"{path}: holds no images, class folders or dataset files",
        hint="point --data (or ZOO_IMAGENET) at the ImageNet validation folder or dataset",
    )


def check_spec(spec: str) -> None:
    """Fail early (before any measuring) when ``spec`` names a local path that does not exist."""
    spec = spec.strip()
    if not (spec.startswith(HUB_PREFIX) or spec in HUB_ALIASES):
        _path_and_split(spec)


def _path_and_split(spec: str) -> tuple[Path, Optional[str]]:
    path = Path(spec).expanduser()
    if path.exists():
        return path, None
    head, sep, split = spec.rpartition(":")
    if sep and head and Path(head).expanduser().exists():
        return Path(head).expanduser(), split
    raise InputError(
        f"--data {spec!r}: no such file or folder",
        hint="give an existing path, or hf:ORG/NAME for a Hugging Face Hub dataset",
    )


def _is_datasets_folder(path: Path) -> bool:
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        return True
    # Top level and the hub's data/ folder only: a class-folder layout has 50,000 files below.
    for folder in (path, path / "data"):
        if folder.is_dir() and any(p.name.endswith(DATASETS_FILE_ENDINGS) for p in folder.iterdir()):
            return True
    return False


def _no_labels_file(labels: Optional[str], spec: str) -> None:
    if labels:
        raise InputError(
            f"--data-labels {labels!r} applies to a flat image folder, and {spec!r} carries its own labels",
            hint="drop --data-labels (or ZOO_IMAGENET_LABELS)",
        )
