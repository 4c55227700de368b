"""The accuracy-evaluation flags: ``@eval_options`` and its parser.

Usage in a command module::

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
from typing import Any, Callable, Optional, TypeVar, Union

import click

from zoo.errors import InputError
from zoo.runs.baselines import DEFAULT_DIR as DEFAULT_BASELINES

from zoo.cli.common import DeviceType

from zoo.measure.accuracy.options import AMP_DTYPES, ENV_DATA, ENV_LABELS, ENV_LIMIT, ENV_WORKERS, EvalOptions
from zoo.measure.accuracy.stats import METHODS

F = TypeVar("F", bound=Callable[..., Any])

EVAL_OPTION_NAMES = (
    "data",
    "data_labels",
    "limit",
    "subset_seed",
    "eval_batch_size",
    "workers",
    "eval_device",
    "amp",
    "eval_channels_last",
    "interval",
    "population",
    "baselines",
)
"""The keyword arguments ``@eval_options`` adds to a command."""


def eval_options(func: F) -> F:
    """Add --data, --data-labels, --limit, --subset-seed, --eval-batch-size, --workers,
    --eval-device, --amp, --eval-channels-last, --interval, --population and --baselines."""
    decorators = [
        click.option(
            "--data",
            default=None,
            metavar="FOLDER|FILE|hf:ORG/NAME[:SPLIT]",
            help="ImageNet validation data: a class-folder or flat folder, a parquet file or "
            "dataset folder, a Hugging Face Hub dataset (hf:ILSVRC/imagenet-1k, or imagenet-1k). "
            f"[env {ENV_DATA}]",
        ),
        click.option(
            "--data-labels",
            type=click.Path(exists=True, dir_okay=False),
            default=None,
            help="Labels for a flat folder: LOC_val_solution.csv, ILSVRC2012_validation_ground_truth.txt "
            f"(with the devkit's meta.mat beside it) or 'NAME LABEL' lines. [env {ENV_LABELS}]",
        ),
        click.option(
            "--limit",
            type=click.IntRange(min=1),
            default=None,
            help=f"Score a deterministic class-stratified subset of N images. [env {ENV_LIMIT}]",
        ),
        click.option(
            "--subset-seed", type=int, default=None, help="Which stratified subset --limit takes. [default 0]"
        ),
        click.option(
            "--eval-batch-size",
            type=click.IntRange(min=1),
            default=None,
            help="Images per forward pass; results do not depend on it. [default 64]",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=0),
            default=None,
            help=f"Decoding processes (0: in the main process). [env {ENV_WORKERS}; default: cores, at most 8]",
        ),
        click.option(
            "--eval-device",
            type=DeviceType(),
            default=None,
            help="Where to score: auto, cpu, cuda, cuda:N. [default: --device if given, else auto]",
        ),
        click.option(
            "--amp",
            type=click.Choice(sorted(AMP_DTYPES)),
            default=None,
            help="Autocast the forward pass to bf16 or fp16 (fp16 needs CUDA). [default fp32]",
        ),
        click.option(
            "--eval-channels-last/--no-eval-channels-last",
            default=None,
            help="NHWC memory format when scoring. [default: --channels-last if given, else off]",
        ),
        click.option(
            "--interval",
            type=click.Choice(METHODS),
            default=None,
            help="Confidence interval for top-1/top-5 (95%). [default wilson]",
        ),
        click.option(
            "--population",
            type=PopulationType(),
            default=None,
            metavar="N|all",
            help="Images the accuracy claims are about, for the finite-population correction; 'all': the "
            "data given is the whole population. [default: 50,000 for the complete ImageNet val, else none]",
        ),
        click.option(
            "--baselines",
            default=None,
            metavar="DIR|none",
            help="Stored baselines (zoo baseline save) to pair top-1/top-5 with; --limit then draws among "
            f"their images. [default: {DEFAULT_BASELINES} when it exists]",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def eval_options_from_cli(**kwargs: Any) -> EvalOptions:
    """EvalOptions from a command's keyword arguments (other commands' keys are ignored)."""
    device: Optional[str] = kwargs.get("eval_device") or kwargs.get("device")
    channels_last = kwargs.get("eval_channels_last")
    if channels_last is None:
        channels_last = kwargs.get("channels_last")
    return EvalOptions.from_env(
        data=kwargs.get("data"),
        labels=kwargs.get("data_labels"),
        limit=kwargs.get("limit"),
        seed=kwargs.get("subset_seed"),
        batch_size=kwargs.get("eval_batch_size"),
        workers=kwargs.get("workers"),
        device=device,
        amp=kwargs.get("amp"),
        channels_last=channels_last,
        interval=kwargs.get("interval"),
        population=kwargs.get("population"),
        baselines=_baselines_folder(kwargs.get("baselines")),
    )


class PopulationType(click.ParamType):
    """A positive number of images, or "all"."""

    name = "N|all"

    def convert(self, value: Any, param: Any, ctx: Any) -> Union[int, str]:
        if isinstance(value, int) or str(value).strip().lower() == "all":
            return value if isinstance(value, int) else "all"
        try:
            number = int(str(value).replace(",", "").replace("_", ""))
        except ValueError:
            self.fail(f"{value!r} is neither a number of images nor 'all'", param, ctx)
        if number < 1:
            self.fail(f"{value!r} must be at least 1", param, ctx)
        return number


def _baselines_folder(option: Optional[str]) -> Optional[str]:
    """--baselines DIR, none, or the default folder when it exists."""
    if option is None:
        return str(DEFAULT_BASELINES) if DEFAULT_BASELINES.is_dir() else None
    if option.strip().lower() == "none":
        return None
    if not Path(option).is_dir():
        raise InputError(f"--baselines {option}: no such folder", hint="create baselines with `zoo baseline save RUN`")
    return option
