"""Putting a model in the state a benchmark asks for, and leaving the caller's model as found.

The caller (``zoo verify``) hands the same module to accuracy evaluation afterwards,
so nothing here changes it for good: device moves and memory-format changes happen
on a copy, and train/eval flags, thread count and cuDNN autotuning are restored.
"""

from __future__ import annotations

import contextlib
import copy
from itertools import chain
from typing import ContextManager, Iterator, Optional

import torch

from zoo.measure.throughput.memory import release_memory

# The AMP table and autocast check are shared with accuracy: one rule, in zoo.measure.device.
from zoo.measure.device import AMP_DTYPES, AmpUnavailable, autocast_for  # noqa: E402


@contextlib.contextmanager
def torch_threads(threads: Optional[int]) -> Iterator[int]:
    """Set torch's intra-op thread count for the block (None: leave it); yields the count in use."""
    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextlib.contextmanager
def cudnn_autotune(device: torch.device) -> Iterator[bool]:
    """Let cuDNN pick the fastest kernels during warm-up on CUDA (as published benchmarks do)."""
    if device.type != "cuda":
        yield False
        return
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield True
    finally:
        torch.backends.cudnn.benchmark = before


def _on_device(model: torch.nn.Module, device: torch.device) -> bool:
    tensors = list(chain(model.parameters(), model.buffers()))
    return all(t.device == device for t in tensors)


@contextlib.contextmanager
def model_for_benchmark(
    model: torch.nn.Module,
    device: torch.device,
    *,
    channels_last: bool = False,
) -> Iterator[torch.nn.Module]:
    """The model in eval mode on ``device`` (NHWC when ``channels_last``), the caller's untouched.

    A copy is made only when something would change the caller's tensors (another device,
    another memory format); otherwise the model itself is used and its train/eval flags
    are put back afterwards.
    """
    flags = {name: module.training for name, module in model.named_modules()}
    needs_copy = channels_last or not _on_device(model, device)
    bench_model = copy.deepcopy(model) if needs_copy else model
    try:
        if needs_copy:
            bench_model = bench_model.to(device)
            if channels_last:
                bench_model = bench_model.to(memory_format=torch.channels_last)
        bench_model.eval()
        yield bench_model
    finally:
        for name, module in model.named_modules():
            if name in flags:
                module.training = flags[name]  # per module: .train() would recurse
        if needs_copy:
            del bench_model
            release_memory(device)


def compiled(model: torch.nn.Module, *, mode: Optional[str], backend: str) -> torch.nn.Module:
    """``torch.compile`` with static shapes: each batch size gets its own specialised graph."""
    return torch.compile(model, mode=mode, backend=backend, dynamic=False)  # type: ignore[return-value]


def is_compile_failure(exc: BaseException) -> bool:
    """Whether ``exc`` came from torch.compile's machinery rather than the model itself."""
    module = type(exc).__module__ or ""
    return module.startswith(("torch._dynamo", "torch._inductor"))


__all__ = [
    "AmpUnavailable",
    "autocast_for",
    "compiled",
    "cudnn_autotune",
    "is_compile_failure",
    "model_for_benchmark",
    "torch_threads",
]
