"""The accuracy-evaluation flags: ``@eval_options`` and its parser.

The flags are declared on :class:`EvalOptions`' fields (:mod:`zoo.flags`). Usage::

    @click.command()
    @eval_options
    def command(**kw):
        options = eval_options_from_cli(**kw)   # EvalOptions; picks only its own keys

Device and memory format: ``--eval-device`` / ``--eval-channels-last`` when given,
else the shared ``--device`` / ``--channels-last`` (the benchmark flags) when the
command has them, else auto / off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from zoo.cli.declared import click_options, options_from_cli
from zoo.errors import InputError
from zoo.flags import flag_names
from zoo.measure.accuracy.options import EvalOptions
from zoo.runs.baselines import DEFAULT_DIR as DEFAULT_BASELINES

EVAL_OPTION_NAMES = flag_names(EvalOptions)
"""The keyword arguments ``@eval_options`` adds to a command."""

eval_options = click_options(EvalOptions)
"""Add --data, --data-labels, --limit, --subset-seed, --eval-batch-size, --workers,
--eval-device, --amp, --eval-channels-last, --interval, --eval-allocator, --population and --baselines (every
flag declared on EvalOptions)."""


def eval_options_from_cli(**kwargs: Any) -> EvalOptions:
    """EvalOptions from a command's keyword arguments (other commands' keys are ignored)."""
    values = options_from_cli(EvalOptions, kwargs)
    if "device" not in values and kwargs.get("device"):
        values["device"] = kwargs["device"]
    if "channels_last" not in values and kwargs.get("channels_last") is not None:
        values["channels_last"] = kwargs["channels_last"]
    if "allocator" not in values and kwargs.get("allocator"):
        values["allocator"] = kwargs["allocator"]
    values["baselines"] = _baselines_folder(kwargs.get("baselines"))
    return EvalOptions.from_env(**values)


def _baselines_folder(option: Optional[str]) -> Optional[str]:
    """--baselines DIR, none, or the default folder when it exists."""
    if option is None:
        return str(DEFAULT_BASELINES) if DEFAULT_BASELINES.is_dir() else None
    if option.strip().lower() == "none":
        return None
    if not Path(option).is_dir():
        raise InputError(f"--baselines {option}: no such folder", hint="create baselines with `zoo baseline save RUN`")
    return option


__all__ = ["EVAL_OPTION_NAMES", "eval_options", "eval_options_from_cli"]
