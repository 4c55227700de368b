"""Per-image predictions (top-5 class ids of every scored image, per model), stored
beside the run record as one parquet file per run, and read back for ``zoo diff``.

Columns: ``model``, ``image`` (the image's name), ``label``, ``pred1`` .. ``pred5``
(-1 where the image could not be read). Readable with pandas or pyarrow as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from zoo.atomic import atomic_path
from zoo.errors import InputError
from zoo.inert import inert_text, shortened

PREDICTIONS_FILE = "predictions.parquet"
ARTIFACT_NAME = "predictions"
"""The key under which the file is named in ``RunRecord.artifacts``."""
TOP_K = 5
UNREADABLE = -1


@dataclass(frozen=True, eq=False)
class ImagePredictions:
    """One model's top-k predictions for a list of images, in scoring order."""

    model: str
    names: tuple[str, ...]
    labels: np.ndarray
    """(n,) class index of each image."""
    topk: np.ndarray
    """(n, k) predicted class ids, best first; rows of -1 for unreadable images."""

    @property
    def readable(self) -> np.ndarray:
        return self.topk[:, 0] != UNREADABLE

    def correct_top1(self) -> np.ndarray:
        return self.readable & (self.topk[:, 0] == self.labels)

    def correct_topk(self, k: int = TOP_K) -> np.ndarray:
        return self.readable & (self.topk[:, :k] == self.labels[:, None]).any(axis=1)


def write_predictions(path: Path, predictions: Sequence[ImagePredictions]) -> Path:
    """Write every model's predictions to one parquet file, atomically (temp file + rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[np.ndarray]] = {"model": [], "image": [], "label": []}
    columns.update({f"pred{i + 1}": [] for i in range(TOP_K)})
    for p in predictions:
        n = len(p.names)
        columns["model"].append(np.full(n, p.model, dtype=object))
        columns["image"].append(np.asarray(p.names, dtype=object))
        columns["label"].append(p.labels.astype(np.int32))
        padded = np.full((n, TOP_K), UNREADABLE, dtype=np.int32)
        k = min(TOP_K, p.topk.shape[1]) if p.topk.ndim == 2 else 0
        padded[:, :k] = p.topk[:, :k]
        for i in range(TOP_K):
            columns[f"pred{i + 1}"].append(padded[:, i])
    table = pa.table(
        {
            "model": pa.array(_concat(columns.pop("model"), object), pa.string()).dictionary_encode(),
            "image": pa.array(_concat(columns.pop("image"), object), pa.string()),
            **{k: pa.array(_concat(v, np.int32), pa.int32()) for k, v in columns.items()},
        }
    )
    path = Path(path)
    with atomic_path(path) as temp:
        pq.write_table(table, temp, write_page_checksum=True)
    return path


MAX_ROWS = 50_000_000
"""Most rows a predictions file may hold (every model of a 261-model zoo on ImageNet val is 13 million)."""


def read_predictions(path: Path) -> dict[str, ImagePredictions]:
    """Model name -> its predictions, from a file written by :func:`write_predictions`, read through
    the one checked reader (:mod:`zoo.runs.parquet_input`): types, sizes, no nulls, one row per model
    and image, class ids in range."""
    from zoo.runs.parquet_input import ParquetInputError, duplicate, read_checked, text_column

    columns = ["label"] + [f"pred{i + 1}" for i in range(TOP_K)]
    try:
        table, _ = read_checked(path, text_columns=("model", "image"), id_columns=columns, max_rows=MAX_ROWS,
                                max_file_bytes=4 << 30, max_uncompressed=8 << 30)
    except ParquetInputError as exc:
        raise InputError(f"{path}: not a usable predictions file: {inert_text(str(exc))}") from None
    except OSError as exc:
        raise InputError(f"{path}: not a readable predictions file ({exc.strerror or exc})") from None
    models = np.asarray(text_column(table, "model"), dtype=object)
    images = np.asarray(text_column(table, "image"), dtype=object)
    labels = table.column("label").to_numpy().astype(np.int64)
    topk = np.stack([table.column(name).to_numpy() for name in columns[1:]], axis=1).astype(np.int64)
    if labels.size and (labels.min() < 0 or topk.min() < UNREADABLE):
        raise InputError(f"{path}: a class id is negative (labels are >= 0, predictions >= {UNREADABLE})")
    result: dict[str, ImagePredictions] = {}
    for model in dict.fromkeys(models.tolist()):
        rows = models == model
        names = tuple(images[rows].tolist())
        twice = duplicate(names)
        if twice is not None:
            raise InputError(f"{path}: model {inert_text(shortened(model))!r}: the image {inert_text(shortened(twice[0]))!r} "
                             f"appears {twice[1]} times (each image is one row)")
        result[model] = ImagePredictions(model, names, labels[rows], topk[rows])
    return result


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.asarray([], dtype=dtype)
