"""Data-parallel evaluation under ``torchrun``: NCCL on GPUs, gloo on CPU.

Each rank scores one contiguous block of the image positions (``numpy.array_split``:
disjoint, covering, nothing padded), then every rank gathers every block and places
each prediction at its image's position, so the merged result is the single-process
result, image by image, on every rank.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a (possibly one-process) evaluation."""

    rank: int = 0
    world_size: int = 1
    backend: str = ""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def launched_world_size() -> int:
    """WORLD_SIZE as torchrun sets it (1 when not launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def setup(device: torch.device) -> DistContext:
    """Join the process group torchrun describes, creating it if nobody has yet.

    A group this function creates is destroyed when the process exits.
    """
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), str(dist.get_backend()))
    if launched_world_size() <= 1 or not dist.is_available():
        return DistContext()
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, device_id=device if device.type == "cuda" else None)
    atexit.register(_destroy)
    return DistContext(dist.get_rank(), dist.get_world_size(), backend)


def shard(positions: np.ndarray, context: DistContext) -> np.ndarray:
    """This rank's block of ``positions``."""
    if not context.active:
        return positions
    return np.array_split(positions, context.world_size)[context.rank]


def all_gather(value: Any, context: DistContext) -> list[Any]:
    """Every rank's ``value`` (picklable), in rank order."""
    if not context.active:
        return [value]
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def merge_blocks(blocks: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Concatenate per-rank blocks in rank order, checking each block is the size its shard was."""
    for rank, (block, size) in enumerate(zip(blocks, sizes)):
        if len(block) != size:
            raise RuntimeError(f"rank {rank} returned {len(block)} results for a shard of {size} images")
    return np.concatenate(blocks) if blocks else np.empty(0)


def _destroy() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
