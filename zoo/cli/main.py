"""The ``zoo`` command group. Each subcommand lives in its own module."""

from __future__ import annotations

import click

from zoo import __version__
from zoo.cli.common import EXIT_CODES_HELP


@click.group(
    help="Check a model zoo's documented numbers against reality.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="zoo")
def cli() -> None:
    """Entry point."""


def _register() -> None:
    # One line per command module; each module defines one click command.
    from zoo.cli import list_cmd, show_cmd, verify_cmd, bench_cmd, fetch_cmd, lock_cmd, report_cmd, gate_cmd, diff_cmd
    from zoo.cli import baseline_cmd

    for module in (list_cmd, show_cmd, verify_cmd, bench_cmd, fetch_cmd, lock_cmd, report_cmd, gate_cmd, diff_cmd, baseline_cmd):
        cli.add_command(module.command)


_register()
