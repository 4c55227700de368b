"""The timing method: warm up, then time several rounds, then summarise.

Rules the figures obey (what published benchmark tables do):

* the step's inputs already live on the device (the caller builds them before timing);
* warm-up iterations run first and are never part of a figure (compilation,
  autotuning, allocator growth and clock ramp-up happen there);
* on CUDA a round is timed with CUDA events, or the device is synchronised before
  the clock is read, so queued work is never mistaken for finished work;
* throughput is timed in several rounds, each a block of iterations with nothing
  but the step inside the loop; the figure is the median round, with quartiles,
  min/max and the round count kept beside it;
* latency is timed one call at a time (batch 1, synchronised), p50 and p90 in ms.

Everything here takes a :class:`Stopwatch`, so tests can drive it with a fake clock.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

import torch

from zoo.measure.throughput.stats import Spread, percentile, summarize
from zoo.metrics import MEASUREMENT_KINDS

Step = Callable[[], object]
"""One call of the model on its prepared input."""
Clock = Callable[[], float]
"""Seconds from an arbitrary origin (``time.perf_counter``)."""
RoundCallback = Callable[[int, float], None]
"""Called after each timed round (outside the timed block) with its index and figure."""

TIMING_METRICS = MEASUREMENT_KINDS["throughput"]
"""The figures one timing run produces, in this order (throughput, latency p50, latency p90)."""

MAX_ITERS_PER_ROUND = 100_000
MAX_WARMUP_ITERS = 100_000


class Stopwatch(Protocol):
    """Times a step: a block of iterations at once, or one iteration at a time."""

    @property
    def name(self) -> str:
        """How it reads time (recorded as the measurement's ``timer``)."""
        ...

    def time_block(self, step: Step, iters: int) -> float:
        """Seconds for ``iters`` back-to-back calls of ``step``, finished on the device."""
        ...

    def time_each(self, step: Step, iters: int) -> list[float]:
        """Seconds of each of ``iters`` calls, each finished before the next starts."""
        ...


@dataclass
class WallStopwatch:
    """A host clock, with the device synchronised before each reading when given."""

    clock: Clock = time.perf_counter
    synchronize: Optional[Callable[[], None]] = None

    @property
    def name(self) -> str:
        return "perf_counter+synchronize" if self.synchronize is not None else "perf_counter"

    def time_block(self, step: Step, iters: int) -> float:
        sync = self.synchronize
        if sync is not None:
            sync()
        start = self.clock()
        for _ in range(iters):
            step()
        if sync is not None:
            sync()
        return self.clock() - start

    def time_each(self, step: Step, iters: int) -> list[float]:
        return [self.time_block(step, 1) for _ in range(iters)]


class CudaEventStopwatch:
    """CUDA events recorded on the current stream around the block; read after they complete."""

    name = "cuda-events"

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def time_block(self, step: Step, iters: int) -> float:
        with torch.cuda.device(self.device):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize(self.device)
            start.record()
            for _ in range(iters):
                step()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0

    def time_each(self, step: Step, iters: int) -> list[float]:
        return [self.time_block(step, 1) for _ in range(iters)]


def stopwatches_for(device: torch.device, clock: Optional[Clock] = None) -> tuple[Stopwatch, Stopwatch]:
    """(throughput stopwatch, latency stopwatch) for ``device``.

    CUDA: events for throughput blocks; host clock + synchronize for latency, so a
    latency includes the host's launch overhead as a caller would see it. CPU: the
    host clock for both. An injected ``clock`` (tests) replaces the host clock and,
    on CPU, is used for both.
    """
    if device.type == "cuda":

        def sync() -> None:
            torch.cuda.synchronize(device)

        latency = WallStopwatch(clock or time.perf_counter, sync)
        throughput: Stopwatch = latency if clock is not None else CudaEventStopwatch(device)
        return throughput, latency
    wall = WallStopwatch(clock or time.perf_counter)
    return wall, wall


# --------------------------------------------------------------------------- warm-up


@dataclass(frozen=True)
class Warmup:
    """What warm-up did: it is reported, never counted."""

    iterations: int
    seconds: float
    step_seconds: float
    """Median time of one iteration over the second half of warm-up (settled state)."""


def warm_up(step: Step, stopwatch: Stopwatch, *, min_iters: int, min_seconds: float) -> Warmup:
    """Run ``step`` at least ``min_iters`` times (at least once) and for at least ``min_seconds``."""
    times: list[float] = []
    total = 0.0
    while len(times) < max(1, min_iters) or total < min_seconds:
        seconds = stopwatch.time_block(step, 1)
        times.append(seconds)
        total += seconds
        if len(times) >= MAX_WARMUP_ITERS:
            break
    settled = times[len(times) // 2 :]
    return Warmup(iterations=len(times), seconds=total, step_seconds=percentile(settled, 50))


def iterations_for(target_seconds: float, step_seconds: float, minimum: int = 1) -> int:
    """How many iterations fill ``target_seconds`` at ``step_seconds`` each (at least ``minimum``)."""
    if step_seconds <= 0.0:
        return max(minimum, 1)
    wanted = math.ceil(target_seconds / step_seconds)
    return int(min(MAX_ITERS_PER_ROUND, max(minimum, 1, wanted)))


# --------------------------------------------------------------------------- throughput


@dataclass(frozen=True)
class ThroughputTiming:
    """Images per second over several timed rounds of one batch size."""

    batch_size: int
    iters_per_round: int
    round_seconds: tuple[float, ...]
    images_per_second: Spread
    """Median, quartiles and min/max over the rounds; ``count`` is the number of rounds."""
    warmup: Warmup
    timer: str


def time_throughput(
    step: Step,
    batch_size: int,
    stopwatch: Stopwatch,
    *,
    rounds: int,
    round_seconds: float,
    warmup_iters: int,
    warmup_seconds: float,
    on_round: Optional[RoundCallback] = None,
) -> ThroughputTiming:
    """Warm up, then time ``rounds`` blocks of ``step`` (each about ``round_seconds`` long)."""
    warm = warm_up(step, stopwatch, min_iters=warmup_iters, min_seconds=warmup_seconds)
    iters = iterations_for(round_seconds, warm.step_seconds)
    seconds: list[float] = []
    rates: list[float] = []
    for index in range(rounds):
        elapsed = stopwatch.time_block(step, iters)
        seconds.append(elapsed)
        rates.append(batch_size * iters / _positive(elapsed, stopwatch, iters))
        if on_round is not None:
            on_round(index, rates[-1])
    return ThroughputTiming(
        batch_size=batch_size,
        iters_per_round=iters,
        round_seconds=tuple(seconds),
        images_per_second=summarize(rates),
        warmup=warm,
        timer=stopwatch.name,
    )


# --------------------------------------------------------------------------- latency


@dataclass(frozen=True)
class LatencyTiming:
    """Per-call times at a small batch, in rounds; p50/p90 are medians of the rounds' own."""

    batch_size: int
    iters_per_round: int
    samples_ms: tuple[tuple[float, ...], ...]
    """Every timed call, in milliseconds, grouped by round."""
    p50_ms: Spread
    """Spread over rounds of each round's 50th percentile."""
    p90_ms: Spread
    """Spread over rounds of each round's 90th percentile."""
    warmup: Warmup
    timer: str

    @property
    def sample_count(self) -> int:
        return sum(len(r) for r in self.samples_ms)

    @property
    def min_ms(self) -> float:
        return min(min(r) for r in self.samples_ms)

    @property
    def max_ms(self) -> float:
        return max(max(r) for r in self.samples_ms)


def time_latency(
    step: Step,
    stopwatch: Stopwatch,
    *,
    batch_size: int = 1,
    rounds: int,
    round_seconds: float,
    min_iters: int,
    warmup_iters: int,
    warmup_seconds: float,
    on_round: Optional[RoundCallback] = None,
) -> LatencyTiming:
    """Warm up, then time each call separately in ``rounds`` rounds of at least ``min_iters``."""
    warm = warm_up(step, stopwatch, min_iters=warmup_iters, min_seconds=warmup_seconds)
    iters = iterations_for(round_seconds, warm.step_seconds, minimum=min_iters)
    samples: list[tuple[float, ...]] = []
    for index in range(rounds):
        times = stopwatch.time_each(step, iters)
        samples.append(tuple(t * 1000.0 for t in times))
        if on_round is not None:
            on_round(index, percentile(samples[-1], 50))
    return LatencyTiming(
        batch_size=batch_size,
        iters_per_round=iters,
        samples_ms=tuple(samples),
        p50_ms=summarize([percentile(r, 50) for r in samples]),
        p90_ms=summarize([percentile(r, 90) for r in samples]),
        warmup=warm,
        timer=stopwatch.name,
    )


def _positive(seconds: float, stopwatch: Stopwatch, iters: int) -> float:
    if seconds <= 0.0:
        raise RuntimeError(
            f"the {stopwatch.name} timer reported {seconds} s for {iters} iteration(s); "
            "it cannot resolve this step (raise --batch-size or ZOO_BENCH_ROUND_SECONDS)"
        )
    return seconds


__all__ = [
    "CudaEventStopwatch",
    "LatencyTiming",
    "TIMING_METRICS",
    "Stopwatch",
    "ThroughputTiming",
    "WallStopwatch",
    "Warmup",
    "iterations_for",
    "stopwatches_for",
    "time_latency",
    "time_throughput",
    "warm_up",
]
