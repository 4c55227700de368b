"""What every command shares: the exit-code contract and turning errors into messages."""

from __future__ import annotations

import functools
import sys
import traceback
from typing import Any, Callable, TypeVar

import click

from zoo.cli.param_types import DeviceType
from zoo.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, ZooError
from zoo.judge.exit_codes import EXIT_CODES_HELP


F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130
"""Ctrl-C (SIGINT): 128 + the signal's number, as shells report it."""


def explained_errors(func: F) -> F:
    """Turn a :class:`ZooError` into a one-paragraph message on stderr and its exit code.

    Anything else is a bug and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZooError as exc:
            click.echo(f"zoo: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            text = "zoo: interrupted (exit 130): nothing was judged, and no half-written file was left under a final name"
            kept = getattr(exc, "path", None)  # zoo.weights.download.DownloadInterrupted
            if kept:
                text += f"; the partial download is kept ({kept}, {getattr(exc, 'size', 0):,} bytes) so the next run resumes it"
            click.echo(text + ".", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:  # a path the user gave cannot be read or written
            click.echo(f"zoo: error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except Exception:  # a bug in zoo: never exit 1, which means "a claim drifted"
            traceback.print_exc()
            click.echo("zoo: internal error (the traceback above says where); please report it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def index_option(func: F) -> F:
    """``--index PATH`` (repeatable): model-index files or folders, default ``metadata/``."""
    return click.option(
        "--index",
        "index_paths",
        multiple=True,
        type=click.Path(exists=True, dir_okay=True, file_okay=True),
        help="Model-index file or folder (repeatable). Default: metadata/ "
        "(or $ZOO_INDEX).",
        envvar="ZOO_INDEX",
    )(func)


def conventions_option(func: F) -> F:
    """``--conventions FILE``: the pinned FLOPs conventions (default: flops-conventions.yml beside the index)."""
    return click.option(
        "--conventions",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="ZOO_CONVENTIONS",
        help="Pinned FLOPs conventions file (default: flops-conventions.yml in the index's folder, or $ZOO_CONVENTIONS). "
        "Without one, the conventions are fitted over every card of the index and a note says how to pin them.",
    )(func)


__all__ = ["DeviceType", "EXIT_BAD_INPUT", "EXIT_CODES_HELP", "conventions_option", "explained_errors", "index_option"]
