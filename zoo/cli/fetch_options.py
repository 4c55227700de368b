"""The weights-fetching flags every command that fetches shares: ``@fetch_options``.

The flags are declared on :class:`FetchOptions`' fields (:mod:`zoo.flags`). Usage::

    @click.command()
    @fetch_options
    def command(**kw):
        options = fetch_options_from_cli(**kw)   # FetchOptions; picks only its own keys
"""

from __future__ import annotations

from typing import Any

from zoo.cli.declared import click_options, options_from_cli
from zoo.flags import flag_names
from zoo.weights.options import FetchOptions

FETCH_OPTION_NAMES = flag_names(FetchOptions)
"""The keyword arguments ``@fetch_options`` adds to a command."""

fetch_options = click_options(FetchOptions)
"""Add --cache-dir, --mirror, --offline/--online, --weights, --lock-file, --weights-source and
--hub-repo (every flag declared on FetchOptions). Unset flags fall back to their environment
variables, then defaults."""


def fetch_options_from_cli(**kw: Any) -> FetchOptions:
    """FetchOptions from ``@fetch_options`` keyword arguments (others are ignored), over
    the environment (:meth:`FetchOptions.from_env`)."""
    return FetchOptions.from_env(**options_from_cli(FetchOptions, kw))


__all__ = ["FETCH_OPTION_NAMES", "fetch_options", "fetch_options_from_cli"]
