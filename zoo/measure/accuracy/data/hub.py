"""Datasets read through Hugging Face ``datasets``: hub ids, local parquet / hub-style
folders, and folders written by ``Dataset.save_to_disk``.

The user's token (``HF_TOKEN`` or the stored login), ``HF_HOME``, ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` apply as the
``datasets`` library reads them; ``HF_DATASETS_CACHE`` is read at call time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image

from zoo.measure.accuracy.data.base import DataUnavailableError, EvalDataset
from zoo.measure.accuracy.data.synsets import IMAGENET_CLASSES, imagenet_class_index, imagenet_wnids
from zoo.errors import InputError

HUB_ALIASES = {"imagenet-1k": "ILSVRC/imagenet-1k", "imagenet1k": "ILSVRC/imagenet-1k"}
"""Short names accepted by --data for well-known hub datasets."""
PREFERRED_SPLIT = "validation"
LABEL_COLUMN_NAMES = ("label", "labels", "cls", "target", "class")


@dataclass(frozen=True, eq=False)
class HubImages(EvalDataset):
    """Images held by a ``datasets.Dataset`` (decoded on access, so workers share nothing)."""

    dataset: Any = None
    """The ``datasets.Dataset`` reduced to its image column."""
    image_column: str = "image"
    split: str = ""

    def load_image(self, index: int) -> Image.Image:
        return self.dataset[index][self.image_column].convert("RGB")


def load_hub_dataset(repo_id: str, split: Optional[str] = None) -> HubImages:
    """A dataset from the Hugging Face Hub (``ILSVRC/imagenet-1k``; ``imagenet-1k`` is an alias)."""
    import datasets

    repo_id = HUB_ALIASES.get(repo_id, repo_id)
    try:
        splits = datasets.get_dataset_split_names(repo_id, cache_dir=_cache_dir())
        if split is not None and split not in splits:
            raise InputError(f"hf:{repo_id}: has no split {split!r} (it has {', '.join(splits)})")
        split = split or _choose_split(repo_id, splits)
        dataset = datasets.load_dataset(repo_id, split=split, cache_dir=_cache_dir())
    except InputError:
        raise
    except Exception as exc:  # network, authorisation, offline cache miss: all "cannot reach it now"
        raise DataUnavailableError(
            f"could not load the Hugging Face dataset {repo_id!r} (split {split or PREFERRED_SPLIT!r}): "
            f"{type(exc).__name__}: {exc}. Nothing was scored. For a gated dataset such as ILSVRC/imagenet-1k, "
            "accept its terms on the Hub and log in (`hf auth login` or HF_TOKEN); offline, set HF_HOME to "
            "a cache that holds it, or point --data at a local copy"
        ) from exc
    return from_hf_dataset(dataset, source=f"hf:{repo_id}", layout="hub", split=split)


def load_local_dataset(path: Path, split: Optional[str] = None) -> HubImages:
    """A local dataset: a ``save_to_disk`` folder, a parquet file, or a hub-style folder of parquet files."""
    import datasets

    if (path / "dataset_info.json").is_file() and (path / "state.json").is_file():
        return from_hf_dataset(datasets.load_from_disk(str(path)), source=str(path), layout="saved-dataset", split="")
    if (path / "dataset_dict.json").is_file():
        splits = datasets.load_from_disk(str(path))
        chosen = split or _choose_split(str(path), list(splits.keys()))
        if chosen not in splits:
            raise InputError(
                f"{path}: has no split {chosen!r} (it has {', '.join(splits)})", hint="name one in --data as PATH:SPLIT"
            )
        return from_hf_dataset(splits[chosen], source=str(path), layout="saved-dataset", split=chosen)
    if path.is_file():
        builder = "arrow" if path.suffix == ".arrow" else "parquet"
        dataset = datasets.load_dataset(builder, data_files={"data": str(path)}, split="data", cache_dir=_cache_dir())
        return from_hf_dataset(dataset, source=str(path), layout=builder, split="")
    chosen = split or _choose_split(str(path), datasets.get_dataset_split_names(str(path), cache_dir=_cache_dir()))
    try:
        dataset = datasets.load_dataset(str(path), split=chosen, cache_dir=_cache_dir())
    except ValueError as exc:
        raise InputError(
            f"{path}: cannot load split {chosen!r}: {exc}", hint="name a split in --data as PATH:SPLIT"
        ) from exc
    return from_hf_dataset(dataset, source=str(path), layout="parquet", split=chosen)


def from_hf_dataset(dataset: Any, *, source: str, layout: str, split: str) -> HubImages:
    """Wrap a ``datasets.Dataset`` with an Image column and a class-label column."""
    import datasets

    features = dataset.features
    image_column = next((k for k, f in features.items() if isinstance(f, datasets.Image)), None)
    if image_column is None:
        raise InputError(f"{source}: has no image column (columns: {', '.join(features)})")
    label_column = next((k for k, f in features.items() if isinstance(f, datasets.ClassLabel)), None)
    label_column = label_column or next((k for k in LABEL_COLUMN_NAMES if k in features), None)
    if label_column is None:
        raise InputError(
            f"{source}: has no label column (a ClassLabel, or one of {', '.join(LABEL_COLUMN_NAMES)})",
            hint="accuracy needs labelled images, e.g. the validation split",
        )
    labels = np.asarray(dataset.with_format("numpy")[label_column], dtype=np.int64)
    if len(labels) and labels.min() < 0:
        raise InputError(
            f"{source}: split {split or '(default)'!r} has unlabelled images (label -1)",
            hint="use a labelled split, e.g. --data hf:ILSVRC/imagenet-1k:validation",
        )
    feature = features[label_column]
    names_of_classes = list(feature.names) if isinstance(feature, datasets.ClassLabel) else []
    standard = imagenet_class_index()
    if names_of_classes and all(n in standard for n in names_of_classes):
        remap = np.asarray([standard[n] for n in names_of_classes], dtype=np.int64)
        labels = remap[labels]
        num_classes, class_names = IMAGENET_CLASSES, imagenet_wnids()
        label_source = f"column {label_column!r} (WordNet ids, mapped to the standard index)"
    elif names_of_classes:
        num_classes, class_names = len(names_of_classes), tuple(names_of_classes)
        label_source = f"column {label_column!r} (ClassLabel order)"
    else:
        num_classes = int(labels.max()) + 1 if len(labels) else 0
        class_names = tuple(str(i) for i in range(num_classes))
        label_source = f"column {label_column!r} (integers)"
    return HubImages(
        source=source,
        layout=layout,
        names=_image_names(dataset, image_column, split),
        labels=labels,
        num_classes=num_classes,
        class_names=class_names,
        label_source=label_source,
        dataset=dataset.select_columns([image_column]),
        image_column=image_column,
        split=split,
    )


def _image_names(dataset: Any, image_column: str, split: str) -> tuple[str, ...]:
    """Each image's file name where the dataset kept one and it is unique, else its row number.

    Read from the Arrow table (memory-mapped), so no image is decoded or copied.
    """
    table = dataset.data
    if len(table) == len(dataset):
        # Chunk by chunk: taking the "path" field of a struct chunk leaves the image bytes unread.
        chunks = table.column(image_column).chunks
        if all(hasattr(chunk, "field") for chunk in chunks):
            paths = [p for chunk in chunks for p in chunk.field("path").to_pylist()]
            if all(paths):
                base = [os.path.basename(p) for p in paths]
                if len(set(base)) == len(base):
                    return tuple(base)
    prefix = f"{split}/" if split else ""
    return tuple(f"{prefix}{i:08d}" for i in range(len(dataset)))


def _choose_split(source: str, splits: list[str]) -> str:
    if PREFERRED_SPLIT in splits:
        return PREFERRED_SPLIT
    if len(splits) == 1:
        return splits[0]
    raise InputError(
        f"{source}: has splits {', '.join(splits)} and none is called {PREFERRED_SPLIT!r}",
        hint="name the split in --data as SOURCE:SPLIT",
    )


def _cache_dir() -> Optional[str]:
    return os.environ.get("HF_DATASETS_CACHE") or None
