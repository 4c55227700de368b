"""Device memory: out-of-memory recognition, halving the batch until it fits, peak usage."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Callable, Generic, Optional, TypeVar

import torch

T = TypeVar("T")

_OOM_PHRASES = ("out of memory", "can't allocate memory", "cannot allocate memory")
"""How CUDA (and the CPU allocator) word an allocation failure inside a RuntimeError."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure (``torch.OutOfMemoryError`` or its wording)."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(p in str(exc).lower() for p in _OOM_PHRASES)


def release_memory(device: torch.device) -> None:
    """On CUDA: collect unreferenced tensors and give cached blocks back, so a retry starts clean.

    Nothing on CPU: its allocator returns memory as soon as the last reference goes,
    and a full ``gc.collect()`` costs a noticeable fraction of a second in a large process.
    """
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory window on ``device`` (CUDA only; no-op elsewhere)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def allocated_memory(device: torch.device) -> Optional[int]:
    """Bytes currently allocated by tensors on ``device`` (CUDA), or None where unknown."""
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    return None


def peak_memory(device: torch.device) -> Optional[int]:
    """Peak bytes allocated since :func:`reset_peak_memory` (CUDA), or None where unknown."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return int(torch.cuda.max_memory_allocated(device))
    return None


class OutOfMemoryAtMinimum(Exception):
    """Even the smallest batch ran out of memory."""

    def __init__(self, batch_size: int, message: str) -> None:
        self.batch_size = batch_size
        self.message = message
        super().__init__(f"out of memory even at batch {batch_size}: {message}")


@dataclass(frozen=True)
class Halved(Generic[T]):
    """What an attempt returned, at which batch, after how many halvings."""

    result: T
    batch_size: int
    requested_batch_size: int
    halvings: int = 0
    oom_messages: list[str] = field(default_factory=list)
    """The first line of each out-of-memory error that caused a halving."""


def run_halving_on_oom(
    attempt: Callable[[int], T],
    batch_size: int,
    device: torch.device,
    *,
    minimum: int = 1,
    on_halve: Optional[Callable[[int, int, str], None]] = None,
) -> Halved[T]:
    """Call ``attempt(batch)``; on out-of-memory free the cache, halve the batch and retry.

    Any other exception propagates. Raises :class:`OutOfMemoryAtMinimum` when even
    ``minimum`` does not fit. ``on_halve(old, new, message)`` is told about each halving.
    """
    batch = batch_size
    messages: list[str] = []
    while True:
        failure: Optional[str] = None
        try:
            result = attempt(batch)
        except Exception as exc:  # only OOM is handled; everything else re-raised below
            if not is_out_of_memory(exc):
                raise
            failure = _first_line(exc)
            # Leave the except block before freeing: the traceback pins the frames
            # (and the tensors they hold) until it is gone.
        if failure is None:
            return Halved(result, batch, batch_size, len(messages), messages)
        messages.append(failure)
        release_memory(device)
        if batch <= minimum:
            raise OutOfMemoryAtMinimum(batch, failure)
        smaller = max(minimum, batch // 2)
        if on_halve is not None:
            on_halve(batch, smaller, failure)
        batch = smaller


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


__all__ = [
    "Halved",
    "OutOfMemoryAtMinimum",
    "allocated_memory",
    "is_out_of_memory",
    "peak_memory",
    "release_memory",
    "reset_peak_memory",
    "run_halving_on_oom",
]
