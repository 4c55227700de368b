"""Small worlds for the throughput/latency tests: tiny models, cards, fast options, a fake clock."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import nn

from zoo.measure.throughput.options import BenchOptions
from zoo.records import Claim, ModelCard, SourceRef

IMAGE_SIDE = 16


def card(name: str = "tiny_net", image_size: Optional[int] = IMAGE_SIDE, **metadata: object) -> ModelCard:
    """A card that claims ``image_size`` (so the timed input is tiny), plus any metadata."""
    claims = {}
    if image_size is not None:
        claims["image_size"] = Claim(
            metric="image_size",
            field="Image Size",
            value=image_size,
            raw=f"'{image_size}'",
            source=SourceRef("metadata/tiny.yml", 12),
        )
    return ModelCard(name=name, source=SourceRef("metadata/tiny.yml", 3), claims=claims, metadata=dict(metadata))


def fast_options(**changes: object) -> BenchOptions:
    """Options that finish in well under a second on a tiny model: 2 warm-up calls, 3 rounds of 1."""
    base = dict(
        device="cpu",
        batch_size=4,
        warmup_iters=2,
        warmup_seconds=0.0,
        rounds=3,
        round_seconds=0.0,
        latency_min_iters=3,
        progress=False,
    )
    base.update(changes)
    return BenchOptions(**base)  # type: ignore[arg-type]


class SharedLog(list):  # type: ignore[type-arg]
    """A list that a model copy shares with its original (``copy.deepcopy`` keeps it as is),
    so a test can see calls made on the benchmark's copy."""

    def __deepcopy__(self, memo: dict[int, object]) -> "SharedLog":
        return self


class TinyNet(nn.Module):
    """Conv -> BN -> ReLU -> pool -> linear: every layer kind a memory-format change touches."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 10)
        self.seen: list[dict[str, object]] = SharedLog()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(
            {
                "batch": x.shape[0],
                "channels_last_input": x.dim() == 4
                and x.is_contiguous(memory_format=torch.channels_last)
                and not x.is_contiguous(),
                "channels_last_weight": self.conv.weight.is_contiguous(memory_format=torch.channels_last)
                and not self.conv.weight.is_contiguous(),
                "threads": torch.get_num_threads(),
                "autocast": torch.is_autocast_enabled(x.device.type),
                "autocast_dtype": torch.get_autocast_dtype(x.device.type),
                "grad": torch.is_grad_enabled(),
                "training": self.training,
                "device": x.device.type,
            }
        )
        y = torch.relu(self.bn(self.conv(x)))
        return self.head(y.mean(dim=(2, 3)))


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
