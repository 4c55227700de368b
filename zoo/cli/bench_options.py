"""The benchmark flags every timing command shares: ``@bench_options`` and its parser.

The flags are declared on :class:`BenchOptions`' fields (:mod:`zoo.flags`). Usage::

    @click.command()
    @bench_options
    def command(**kw):
        options = bench_options_from_cli(**kw)   # BenchOptions; picks only its own keys
"""

from __future__ import annotations

from typing import Any

from zoo.cli.declared import click_options, options_from_cli
from zoo.flags import flag_names
from zoo.measure.throughput.options import BenchOptions

BENCH_OPTION_NAMES = flag_names(BenchOptions)
"""The keyword arguments ``@bench_options`` adds to a command."""

bench_options = click_options(BenchOptions)
"""Add --device, --dtype, --channels-last, --compile, --compile-mode, --threads, --batch-size,
--rounds, --allocator (every flag declared on BenchOptions). Unset flags fall back to their ZOO_* env vars,
then defaults."""


def bench_options_from_cli(**kw: Any) -> BenchOptions:
    """BenchOptions from ``@bench_options`` values (None = not given), over env vars and defaults.

    Keys other than :data:`BENCH_OPTION_NAMES` are ignored, so a command can pass all its
    keyword arguments. Bad env values raise :class:`zoo.errors.InputError` (exit code 2).
    """
    return BenchOptions.from_env(**options_from_cli(BenchOptions, kw))


__all__ = ["BENCH_OPTION_NAMES", "bench_options", "bench_options_from_cli"]
