"""The scoring loop: every image decoded once, in a fixed order, through every model
that shares its transform.

Results are placed by image position, never by arrival order, so they do not depend
on batch size or worker count (beyond the last bits of floating-point reductions,
which can flip a prediction only between two classes with equal scores).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from zoo import progress
from zoo.measure.accuracy.data.base import EvalDataset
from zoo.measure.accuracy.transforms import EvalTransform

TOP_K = 5


@dataclass(frozen=True)
class LoopSettings:
    """How to run the loop (from EvalOptions, resolved)."""

    batch_size: int = 64
    workers: int = 0
    device: torch.device = torch.device("cpu")
    amp_dtype: torch.dtype | None = None
    channels_last: bool = False
    progress: bool = True
    label: str = "accuracy"
    """What the progress bar says it is doing."""


@dataclass(frozen=True)
class ModelFailure:
    """A model that could not be scored: "error" (its fault) or "unavailable" (out of memory)."""

    status: str
    reason: str


@dataclass(frozen=True, eq=False)
class LoopResult:
    """Per-image outcome of one loop, in the order of the positions it was given."""

    topk: dict[str, np.ndarray]
    """Model -> (n, k) class ids, best first; -1 rows where the image was unreadable."""
    unreadable: dict[int, str] = field(default_factory=dict)
    """Index into the positions -> why that image could not be decoded."""
    failures: dict[str, ModelFailure] = field(default_factory=dict)
    seconds: float = 0.0


class _TransformedImages(Dataset):
    """The images at ``positions``, transformed; an unreadable one becomes zeros plus its error.

    Where the transform splits (:attr:`EvalTransform.decode`), items are uint8 and the loop
    finishes whole batches: a quarter of the bytes cross from the workers, and scaling and
    normalizing run once per batch on the device instead of once per image in a worker.
    """

    def __init__(self, dataset: EvalDataset, positions: np.ndarray, transform: EvalTransform) -> None:
        self.dataset = dataset
        self.positions = positions
        self.transform = transform.decode or transform.transform
        self.shape = transform.input_size
        self.dtype = torch.uint8 if transform.decode is not None else torch.float32

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, str]:
        try:
            image = self.transform(self.dataset.load_image(int(self.positions[index])))
            return image, index, ""
        except Exception as exc:  # PIL raises many kinds for a damaged file; each means "unreadable"
            return torch.zeros(self.shape, dtype=self.dtype), index, f"{type(exc).__name__}: {exc}"


def score_images(
    dataset: EvalDataset,
    positions: np.ndarray,
    transform: EvalTransform,
    models: Mapping[str, torch.nn.Module],
    settings: LoopSettings,
) -> LoopResult:
    """Top-k predictions of every model in ``models`` for the images at ``positions``."""
    k = min(TOP_K, dataset.num_classes)
    n = len(positions)
    topk = {name: np.full((n, k), -1, dtype=np.int64) for name in models}
    unreadable: dict[int, str] = {}
    failures: dict[str, ModelFailure] = {}
    loader = DataLoader(
        _TransformedImages(dataset, positions, transform),
        batch_size=settings.batch_size,
        shuffle=False,
        num_workers=settings.workers,
        pin_memory=settings.device.type == "cuda",
    )
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        prepared = {name: stack.enter_context(_prepared(m, settings)) for name, m in models.items()}
        bar = stack.enter_context(
            progress.task(
                f"{settings.label} ({len(models)} model{'s' if len(models) != 1 else ''})",
                total=n, unit="img", enabled=settings.progress and n > 0,
            )
        )
        for images, indices, errors in loader:
            rows = indices.numpy()
            for row, error in zip(rows.tolist(), errors):
                if error:
                    unreadable[row] = error
            batch = transform.finish(images.to(settings.device, non_blocking=True))
            if settings.channels_last:
                batch = batch.contiguous(memory_format=torch.channels_last)
            for name, model in prepared.items():
                if name in failures:
                    continue
                outcome = _forward_topk(model, batch, dataset.num_classes, k, settings)
                if isinstance(outcome, ModelFailure):
                    failures[name] = outcome
                else:
                    topk[name][rows] = outcome
            bar.update(len(rows))
    for row in unreadable:
        for array in topk.values():
            array[row] = -1
    return LoopResult(topk=topk, unreadable=unreadable, failures=failures, seconds=time.perf_counter() - started)


def _forward_topk(
    model: torch.nn.Module, batch: torch.Tensor, num_classes: int, k: int, settings: LoopSettings
) -> np.ndarray | ModelFailure:
    autocast = (
        torch.autocast(device_type=settings.device.type, dtype=settings.amp_dtype)
        if settings.amp_dtype is not None
        else contextlib.nullcontext()
    )
    try:
        with torch.inference_mode(), autocast:
            logits = model(batch)
    except torch.OutOfMemoryError as exc:
        return ModelFailure(
            "unavailable", f"out of memory at batch size {len(batch)} ({exc}); try a smaller --eval-batch-size"
        )
    except Exception as exc:  # a model that cannot run on this data is that model's error, not the run's
        return ModelFailure(
            "error", f"the model failed on a batch of shape {tuple(batch.shape)}: {type(exc).__name__}: {exc}"
        )
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        return ModelFailure(
            "error",
            f"the model outputs shape {tuple(logits.shape)} but the dataset has {num_classes} classes; "
            "nothing was scored",
        )
    return logits.float().topk(k, dim=1).indices.cpu().numpy()


@contextlib.contextmanager
def _prepared(model: torch.nn.Module, settings: LoopSettings) -> Iterator[torch.nn.Module]:
    """The model in eval mode on the device (channels_last if asked); put back as found afterwards."""
    first = next(model.parameters(), None)
    home = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval().to(settings.device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    try:
        yield model
    finally:
        if settings.channels_last:
            model.to(memory_format=torch.contiguous_format)
        model.to(home).train(was_training)
