"""The throughput/latency tests' world: the input side, a model that runs out of memory, a fake clock.

The tiny model, cards and fast options are shared: see ``conftest.py``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

IMAGE_SIDE = 16
"""The Image Size a timing test's card claims, so the timed input is tiny."""


class OutOfMemoryAbove(nn.Module):
    """Raises an out-of-memory error for batches larger than ``limit`` (an injected failure)."""

    def __init__(self, limit: int, error: Callable[[str], Exception] = torch.OutOfMemoryError) -> None:
        super().__init__()
        self.limit = limit
        self.error = error
        self.linear = nn.Linear(3, 2)
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(x.shape[0])
        if x.shape[0] > self.limit:
            raise self.error(f"CUDA out of memory. Tried to allocate {x.shape[0]} GiB (fake, above {self.limit})")
        return self.linear(x.mean(dim=(2, 3)))


class FakeClock:
    """A clock that only moves when a fake step says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedStep:
    """A step whose n-th call takes ``durations[n]`` seconds on ``clock`` (the last repeats)."""

    def __init__(self, clock: FakeClock, durations: Sequence[float]) -> None:
        self.clock = clock
        self.durations = list(durations)
        self.calls = 0

    def __call__(self) -> None:
        index = min(self.calls, len(self.durations) - 1)
        self.clock.now += self.durations[index]
        self.calls += 1
