"""What every command shares: the exit-code contract and turning errors into messages."""

from __future__ import annotations

import functools
import sys
import traceback
from typing import Any, Callable, TypeVar

import click

from zoo.atomic import is_no_space
from zoo.cli.param_types import DeviceType
from zoo.errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_INTERNAL, ZooError
from zoo.inert import inert_json, inert_text
from zoo.judge.exit_codes import EXIT_CODES_HELP


F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130
"""Ctrl-C (SIGINT): 128 + the signal's number, as shells report it."""



def echo(message: object = "", *, err: bool = False) -> None:
    """``click.echo`` through the one inert-text rule (:func:`zoo.inert.inert_text`): every line a
    command prints may hold text from a card, a record or a server."""
    click.echo(inert_text(str(message)), err=err)


def out(text: str, *, json_text: bool = False) -> None:
    """Write a rendered document (CSV, Markdown, JSON) to stdout, printed inert; JSON keeps its
    data (:func:`zoo.inert.inert_json` writes the characters as escapes)."""
    sys.stdout.write(inert_json(text) if json_text else inert_text(text))


def explained_errors(func: F) -> F:
    """Turn a :class:`ZooError` into a one-paragraph message on stderr and its exit code.

    Anything else is a bug and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZooError as exc:
            echo(f"zoo: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            text = "zoo: interrupted (exit 130): nothing was judged, and no half-written file was left under a final name"
            kept = getattr(exc, "path", None)  # zoo.weights.download.DownloadInterrupted
            if kept:
                text += f"; the partial download is kept ({kept}, {getattr(exc, 'size', 0):,} bytes) so the next run resumes it"
            echo(text + ".", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:  # a path the user gave cannot be read or written; a full disk is incomplete
            echo(f"zoo: error: {exc}", err=True)
            sys.exit(EXIT_INCOMPLETE if is_no_space(exc) else EXIT_BAD_INPUT)
        except Exception:  # a bug in zoo: never exit 1, which means "a claim drifted"
            echo(traceback.format_exc().rstrip(), err=True)  # its message may quote a card
            echo("zoo: internal error (the traceback above says where); please report it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


class IndexPath(click.ParamType):
    """An ``--index`` value: an existing file or folder, or a claim source's own form (``hf:ORG/NAME[@REV]``)."""

    name = "PATH|hf:ORG/NAME[@REV]"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from zoo.index.loader import is_index_form

        text = str(value)
        if is_index_form(text):
            return text
        return click.Path(exists=True, dir_okay=True, file_okay=True).convert(text, param, ctx)


def index_option(func: F) -> F:
    """``--index PATH`` (repeatable): model-index files or folders, Hugging Face cards, ``hf:ORG/NAME``; default ``metadata/``."""
    return click.option(
        "--index",
        "index_paths",
        multiple=True,
        type=IndexPath(),
        help="Where the claims are (repeatable): a model-index file or folder, a Hugging Face README.md or a folder "
        "of model folders, or hf:ORG/NAME[@REV] (the card on the Hub). Default: metadata/ (or $ZOO_INDEX).",
        envvar="ZOO_INDEX",
    )(func)


def report_index_problems(index: Any) -> int:
    """Print every problem of ``index`` (its files' and its cards') on stderr; the exit code they call for."""
    messages = index.all_problems()
    for message in messages:
        echo(f"zoo: error: {message}", err=True)
    if messages:
        echo(
            f"zoo: {len(messages)} problem(s) in the index; everything else was read (exit {EXIT_BAD_INPUT} at the end)", err=True,
        )
    return EXIT_BAD_INPUT if messages else 0


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


__all__ = [
    "DeviceType", "EXIT_BAD_INPUT", "EXIT_CODES_HELP", "IndexPath", "conventions_option", "echo", "explained_errors", "index_option",
    "out", "report_index_problems",
]
