"""The benchmark flags every timing command shares: ``@bench_options`` and its parser.

Usage in a command module::

    @click.command()
    @bench_options
    def command(**kw):
        options = bench_options_from_cli(**kw)   # BenchOptions; picks only its own keys
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

from zoo.cli.common import DeviceType
from zoo.measure.allocator import ALLOCATORS

from zoo.measure.throughput.options import COMPILE_MODES, DEFAULT_CPU_BATCH_SIZE, DEFAULT_GPU_BATCH_SIZE, DTYPES, BenchOptions

F = TypeVar("F", bound=Callable[..., Any])

BENCH_OPTION_NAMES = (
    "device",
    "dtype",
    "channels_last",
    "compile",
    "compile_mode",
    "threads",
    "batch_size",
    "rounds",
    "allocator",
)
"""The keyword arguments ``@bench_options`` adds to a command."""


def bench_options(func: F) -> F:
    """Add --device, --dtype, --channels-last, --compile, --compile-mode, --threads,
    --batch-size, --rounds and --allocator. Unset flags fall back to their ZOO_* env vars, then defaults."""
    decorators = [
        click.option(
            "--device",
            type=DeviceType(),
            default=None,
            metavar="[auto|cpu|cuda|cuda:N]",
            help="Where to time: auto (CUDA if available), cpu, cuda, cuda:N. [env ZOO_DEVICE; default auto]",
        ),
        click.option(
            "--dtype",
            type=click.Choice(DTYPES),
            default=None,
            help="fp32, or bf16/fp16 autocast (AMP). [env ZOO_DTYPE; default fp32]",
        ),
        click.option(
            "--channels-last/--no-channels-last",
            default=None,
            help="NHWC memory format for model and input. [env ZOO_CHANNELS_LAST]",
        ),
        click.option(
            "--compile/--no-compile",
            default=None,
            help="torch.compile the model (compilation happens in warm-up, outside the figure). [env ZOO_COMPILE]",
        ),
        click.option(
            "--compile-mode",
            type=click.Choice(COMPILE_MODES),
            default=None,
            help="torch.compile mode. [env ZOO_COMPILE_MODE]",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=None,
            help="CPU threads for torch (restored afterwards). [env ZOO_THREADS; default torch's]",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=None,
            help=f"Throughput batch; halves on out-of-memory and records the batch used. "
            f"[env ZOO_BATCH_SIZE; default {DEFAULT_GPU_BATCH_SIZE} on GPU, {DEFAULT_CPU_BATCH_SIZE} on CPU]",
        ),
        click.option(
            "--rounds",
            type=click.IntRange(min=1),
            default=None,
            help="Timed rounds; the figure is their median, with IQR and min/max. [env ZOO_BENCH_ROUNDS; default 5]",
        ),
        click.option(
            "--allocator",
            type=click.Choice(ALLOCATORS),
            default=None,
            help="malloc as the process has it (default: what published figures were timed under) or tuned "
            "(glibc thresholds raised: no page faults per call); recorded, figures compare only under the "
            "same. Also the evaluation's unless --eval-allocator. [env ZOO_ALLOCATOR; default default]",
        ),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def bench_options_from_cli(**kw: Any) -> BenchOptions:
    """BenchOptions from ``@bench_options`` values (None = not given), over env vars and defaults.

    Keys other than :data:`BENCH_OPTION_NAMES` are ignored, so a command can pass all its
    keyword arguments. Bad env values raise :class:`zoo.errors.InputError` (exit code 2).
    """
    return BenchOptions.from_env(**{name: kw.get(name) for name in BENCH_OPTION_NAMES})


__all__ = ["BENCH_OPTION_NAMES", "bench_options", "bench_options_from_cli"]
