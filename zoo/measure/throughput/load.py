"""The machine's load while a timing figure was made, recorded in its conditions.

A figure timed while other processes held the cores is not the model's alone: on a 2-core
machine at load 7, a model ran at a fifth of its quiet speed, and nothing in the record said
so. Each timing phase (throughput, latency) records

- ``load_1min_before`` / ``load_1min_after``: the 1-minute load average (``os.getloadavg``;
  absent where the system has none) when the phase started and ended;
- ``cpu_per_wall``: the process's CPU seconds (every thread) per wall second over the phase;
  about the thread count when the process had its cores, less when it waited for them;
- ``cpus``: the cores the system has (``os.cpu_count``).

:func:`zoo.judge.history.load_difference` reads them when two runs are compared.

>>> start = sample()
>>> conditions = load_conditions(start, sample())
>>> sorted(conditions)
['cpu_per_wall', 'cpus', 'load_1min_after', 'load_1min_before']
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Optional

from zoo.records import Scalar

LOAD_CONDITIONS = ("load_1min_before", "load_1min_after", "cpu_per_wall", "cpus")
"""The condition keys this module writes."""


@dataclass(frozen=True)
class LoadSample:
    """The load average and the process's clocks at one moment."""

    load_1min: Optional[float]
    cpu_seconds: float
    """``time.process_time()``: CPU seconds of every thread of this process."""
    wall_seconds: float


def sample() -> LoadSample:
    """The machine's 1-minute load average and this process's CPU and wall clocks, now."""
    try:
        load: Optional[float] = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        load = None
    return LoadSample(load, time.process_time(), time.perf_counter())


def load_conditions(before: LoadSample, after: LoadSample) -> dict[str, Scalar]:
    """The conditions of a phase that ran from ``before`` to ``after``."""
    wall = after.wall_seconds - before.wall_seconds
    return {
        "load_1min_before": None if before.load_1min is None else round(before.load_1min, 2),
        "load_1min_after": None if after.load_1min is None else round(after.load_1min, 2),
        "cpu_per_wall": round((after.cpu_seconds - before.cpu_seconds) / wall, 3) if wall > 0 else None,
        "cpus": os.cpu_count(),
    }


__all__ = ["LOAD_CONDITIONS", "LoadSample", "load_conditions", "sample"]
