"""Throughput and latency benchmarking: options, the timing method, memory, references, history.

The measurement itself (model in, Measurements out) is :func:`zoo.measure.throughput.measure_throughput`.
"""

from __future__ import annotations

from zoo.bench.options import BenchOptions

__all__ = ["BenchOptions"]
