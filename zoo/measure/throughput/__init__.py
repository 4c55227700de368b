"""Throughput and latency: options, the timing method, memory and the measurement itself.

:func:`zoo.measure.throughput.measure.measure_throughput` turns a built model into
Measurements; ``timing`` (stopwatches, rounds), ``stats`` (median, IQR), ``memory``
(peak memory, out-of-memory halving), ``prepare`` (threads, AMP, channels_last, compile)
and ``options`` (BenchOptions) serve it.
"""

from __future__ import annotations

from zoo.measure.throughput.options import BenchOptions

__all__ = ["BenchOptions"]
