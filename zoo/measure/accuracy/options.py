"""How an accuracy evaluation is run: data, subset, batch, device, precision."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any, Optional, Union

import torch

from zoo.errors import InputError
from zoo.flags import FromEnvironment, option
from zoo.measure.allocator import ALLOCATORS
from zoo.measure.device import AMP_DTYPES, amp_dtype, resolve_device
from zoo.runs.baselines import DEFAULT_DIR as DEFAULT_BASELINES
from zoo.measure.accuracy.stats import METHODS

DEFAULT_BATCH_SIZE = 64
ENV_DATA = "ZOO_IMAGENET"
ENV_LABELS = "ZOO_IMAGENET_LABELS"
ENV_LIMIT = "ZOO_EVAL_LIMIT"
ENV_WORKERS = "ZOO_EVAL_WORKERS"
ENV_ALLOCATOR = "ZOO_EVAL_ALLOCATOR"
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
NO_DATA_REASON = "no ImageNet data configured (--data or ZOO_IMAGENET)"


def default_workers() -> int:
    """Decoding processes: one per core up to 8 (decoding is what a CPU spends its time on)."""
    return max(0, min(8, (os.cpu_count() or 1)))


DEFAULT_LEVEL = 0.95
"""Confidence level of the unpaired top-1/top-5 interval."""


@dataclass(frozen=True)
class EvalOptions(FromEnvironment):
    """Options of an accuracy evaluation; ``from_env`` fills them from the environment
    (:func:`zoo.flags.from_environment`)."""

    data: Optional[str] = option(
        None,
        flag="--data",
        env=ENV_DATA,
        metavar="FOLDER|FILE|hf:ORG/NAME[:SPLIT]",
        help="ImageNet validation data: a class-folder or flat folder, a parquet file or "
        "dataset folder, a Hugging Face Hub dataset (hf:ILSVRC/imagenet-1k, or imagenet-1k).",
    )
    """--data / $ZOO_IMAGENET: a folder, a parquet file or dataset folder, ``hf:ORG/NAME[:SPLIT]``, ``imagenet-1k``."""
    labels: Optional[str] = option(
        None,
        flag="--data-labels",
        env=ENV_LABELS,
        kind="file",
        help="Labels for a flat folder: LOC_val_solution.csv, ILSVRC2012_validation_ground_truth.txt "
        "(with the devkit's meta.mat beside it) or 'NAME LABEL' lines.",
    )
    """--data-labels / $ZOO_IMAGENET_LABELS: labels file for a flat image folder."""
    class_map: Optional[str] = option(
        None,
        flag="--class-map",
        env="ZOO_CLASS_MAP",
        kind="file",
        metavar="FILE",
        help="Class names, one a line, the line number (from 0) the class index (timm's --class-map): "
        "for class folders named by these names rather than ImageNet WordNet ids.",
    )
    """--class-map / $ZOO_CLASS_MAP: a text file of class names; folder NAME holds class index
    (line of NAME - 1). See :mod:`zoo.measure.accuracy.data.class_map`."""
    limit: Optional[int] = option(
        None,
        flag="--limit",
        env=ENV_LIMIT,
        minimum=1,
        default_text="every image",
        help="Score a deterministic class-stratified subset of N images.",
    )
    """--limit / $ZOO_EVAL_LIMIT: score a class-stratified subset of this many images."""
    seed: int = option(0, flag="--subset-seed", help="Which stratified subset --limit takes.")
    """Which stratified subset --limit takes (recorded; the same seed gives the same images)."""
    batch_size: int = option(
        DEFAULT_BATCH_SIZE,
        flag="--eval-batch-size",
        minimum=1,
        help="Images per forward pass; results do not depend on it.",
    )
    workers: int = option(
        -1,
        flag="--workers",
        env=ENV_WORKERS,
        minimum=0,
        default_text="cores, at most 8",
        help="Decoding processes (0: in the main process).",
    )
    """Decoding processes; -1 means :func:`default_workers`, 0 decodes in the main process."""
    device: str = option(
        "auto",
        flag="--eval-device",
        kind="device",
        fallback="device",
        default_text="--device if given, else auto",
        help="Where to score: auto, cpu, cuda, cuda:N.",
    )
    """"auto" (CUDA when available), "cpu", "cuda" or "cuda:N"."""
    amp: Optional[str] = option(
        None,
        flag="--amp",
        choices=tuple(sorted(AMP_DTYPES)),
        default_text="fp32",
        help="Autocast the forward pass to bf16 or fp16 (fp16 needs CUDA).",
    )
    """None (fp32), "bf16" or "fp16": autocast for the forward pass."""
    channels_last: bool = option(
        False,
        flag="--eval-channels-last",
        fallback="channels_last",
        default_text="--channels-last if given, else off",
        help="NHWC memory format when scoring.",
    )
    progress: bool = True
    interval: str = option(
        "wilson", flag="--interval", choices=METHODS, help=f"Confidence interval for top-1/top-5 ({DEFAULT_LEVEL:.0%})."
    )
    """"wilson" or "clopper-pearson"."""
    level: float = DEFAULT_LEVEL
    population: Union[int, str, None] = option(
        None,
        flag="--population",
        kind="population",
        metavar="N|all",
        default_text="50,000 for the complete ImageNet val, else none",
        help="Images the accuracy claims are about, for the finite-population correction; 'all': the "
        "data given is the whole population.",
    )
    """--population: images in the population the data samples, for the finite-population
    correction; "all": the data given is the whole population. None: 50,000 when the
    dataset is the complete ImageNet validation set, otherwise no correction (the data is
    treated as a sample of an unbounded population)."""
    allocator: str = option(
        "tuned",
        flag="--eval-allocator",
        env=ENV_ALLOCATOR,
        fallback="allocator",
        choices=tuple(reversed(ALLOCATORS)),  # its default first
        default_text="--allocator if given, else tuned",
        help="malloc while scoring: tuned (fastest; predictions do not depend on it) or default.",
    )
    """"tuned" (zoo's own evaluation runs as fast as the machine allows) or "default";
    see :mod:`zoo.measure.allocator`."""
    baselines: Optional[str] = option(
        None,
        flag="--baselines",
        kind="baselines",
        cli_default=lambda: str(DEFAULT_BASELINES) if DEFAULT_BASELINES.is_dir() else None,
        metavar="DIR|none",
        default_text=f"{DEFAULT_BASELINES} when it exists",
        help="Stored baselines (zoo baseline save) to pair top-1/top-5 with; --limit then draws among their images.",
    )
    """--baselines: folder of stored baselines (zoo.runs.baselines) to pair top-1/top-5 with;
    None: none. With a matching baseline, --limit draws its subset among the baseline's images."""

    def __post_init__(self) -> None:
        if isinstance(self.baselines, str) and self.baselines.strip().lower() == "none":
            object.__setattr__(self, "baselines", None)  # --baselines none: pair with nothing
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be a positive number of images, got {self.limit}")
        if self.batch_size < 1:
            raise InputError(f"--eval-batch-size must be at least 1, got {self.batch_size}")
        if not _DEVICE_PATTERN.match(self.device.strip().lower()):
            raise InputError(f"--eval-device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.allocator not in ALLOCATORS:
            raise InputError(f"--eval-allocator must be one of {', '.join(ALLOCATORS)}, got {self.allocator!r}")
        if self.amp is not None and self.amp not in AMP_DTYPES:
            raise InputError(f"--amp must be one of {', '.join(AMP_DTYPES)}, got {self.amp!r}")
        if self.interval not in METHODS:
            raise InputError(f"--interval must be one of {', '.join(METHODS)}, got {self.interval!r}")
        if not 0 < self.level < 1:
            raise InputError(f"confidence level must lie in (0, 1), got {self.level}")
        if isinstance(self.population, str) and self.population != "all":
            raise InputError(f"--population must be a number of images or 'all', got {self.population!r}")
        if isinstance(self.population, int) and self.population < 1:
            raise InputError(f"population must be a positive number of images, got {self.population}")

    def with_(self, **changes: Any) -> "EvalOptions":
        return replace(self, **changes)

    @property
    def num_workers(self) -> int:
        return default_workers() if self.workers < 0 else self.workers

    @property
    def amp_dtype(self) -> Optional[torch.dtype]:
        return amp_dtype(self.amp)

    def resolved_device(self) -> torch.device:
        """The device to score on (:func:`zoo.measure.device.resolve_device`, the rule throughput
        uses too; under torchrun on CUDA, this rank's GPU). Raises ``DeviceUnavailable``."""
        return resolve_device(self.device)
