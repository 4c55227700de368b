"""The weights-fetching flags every command that fetches shares: ``@fetch_options``.

Usage in a command module::

    @click.command()
    @fetch_options
    def command(**kw):
        options = fetch_options_from_cli(**kw)   # FetchOptions; picks only its own keys
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TypeVar

import click

from zoo.weights.options import FetchOptions, is_url, mirror_folder

F = TypeVar("F", bound=Callable[..., Any])

FETCH_OPTION_NAMES = ("cache_dir", "mirrors", "offline", "local_weights", "lock_file", "min_rate", "stall_seconds")
"""The keyword arguments ``@fetch_options`` adds to a command."""


class _MirrorType(click.ParamType):
    name = "URL|FOLDER"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value).strip()
        if is_url(text):
            return text
        if "://" in text and not text.startswith("file://"):
            self.fail(f"{text!r}: a mirror is an http(s) URL or a folder", param, ctx)
        if not mirror_folder(text).is_dir():
            self.fail(f"mirror folder {text!r} does not exist", param, ctx)
        return text


class _LocalWeightsType(click.ParamType):
    name = "MODEL=PATH"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, Path]:
        if isinstance(value, tuple):
            return value
        model, sep, path = str(value).partition("=")
        if not sep or not model.strip() or not path.strip():
            self.fail(f"{value!r}: expected MODEL=PATH, e.g. mobilenetv2_100=~/Downloads/m.pth", param, ctx)
        file = Path(path.strip()).expanduser()
        if not file.is_file():
            self.fail(f"{value!r}: {file} is not a file", param, ctx)
        return model.strip(), file


def fetch_options(func: F) -> F:
    """Add --cache-dir, --mirror, --offline/--online, --weights, --lock-file, --min-rate and --stall-seconds.

    Unset flags fall back to their environment variables, then to defaults.
    """
    decorators = [
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Weights cache folder. [env ZOO_CACHE; default $TORCH_HOME/hub/checkpoints]",
        ),
        click.option(
            "--mirror",
            "mirrors",
            type=_MirrorType(),
            multiple=True,
            help="Base URL or folder holding weights files by name, tried before the card's URL "
            "(repeatable). [env ZOO_MIRROR, comma-separated]",
        ),
        click.option(
            "--offline/--online",
            default=None,
            help="Use only the cache and mirrors, never the card's URL. "
            "[env ZOO_OFFLINE=1 or HF_HUB_OFFLINE=1]",
        ),
        click.option(
            "--weights",
            "local_weights",
            type=_LocalWeightsType(),
            multiple=True,
            help="Use a local checkpoint for one model, checked like a download (repeatable).",
        ),
        click.option(
            "--lock-file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Lock file pinning SHA-256 and size per weights file. "
            "[env ZOO_LOCK; default metadata/weights.lock]",
        ),
        click.option(
            "--min-rate",
            type=click.FloatRange(min=0),
            default=None,
            help="Stall rule: a download slower than this many bytes/s over --stall-seconds is "
            "retried (resuming), then given up; 0 turns it off. [env ZOO_MIN_RATE; default 10240]",
        ),
        click.option(
            "--stall-seconds",
            type=click.FloatRange(min=0),
            default=None,
            help="Stall rule window in seconds. [env ZOO_STALL_SECONDS; default 60]",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def fetch_options_from_cli(
    cache_dir: Optional[Path] = None,
    mirrors: Sequence[str] = (),
    offline: Optional[bool] = None,
    local_weights: Sequence[tuple[str, Path]] = (),
    lock_file: Optional[Path] = None,
    min_rate: Optional[float] = None,
    stall_seconds: Optional[float] = None,
    **_other: Any,
) -> FetchOptions:
    """FetchOptions from ``@fetch_options`` keyword arguments (others are ignored), over
    the environment (:meth:`FetchOptions.from_env`)."""
    return FetchOptions.from_env(
        cache_dir=cache_dir,
        mirrors=tuple(mirrors) or None,
        offline=offline,
        local_files=dict(local_weights) or None,
        lock_path=lock_file,
        min_rate=min_rate,
        stall_seconds=stall_seconds,
    )


__all__ = ["FETCH_OPTION_NAMES", "fetch_options", "fetch_options_from_cli"]
