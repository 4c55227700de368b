"""The ``zoo`` command group. Each subcommand lives in its own module."""

from __future__ import annotations

import click

from zoo import __version__
from zoo.cli.common import EXIT_CODES_HELP


# Command name -> module under zoo.cli; a command's module is imported only when it runs, so
# `zoo list` does not pay for torch, which verify and bench import.
COMMANDS = {
    "list": "list_cmd", "show": "show_cmd", "verify": "verify_cmd", "bench": "bench_cmd", "fetch": "fetch_cmd",
    "lock": "lock_cmd", "report": "report_cmd", "gate": "gate_cmd", "diff": "diff_cmd", "baseline": "baseline_cmd",
    "import": "import_cmd",
    "conventions": "conventions_cmd", "fix": "fix_cmd",
}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str):  # type: ignore[no-untyped-def]
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            import importlib

            self.add_command(importlib.import_module(f"zoo.cli.{COMMANDS[cmd_name]}").command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    help="Check a model zoo's documented numbers against reality.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="zoo")
def cli() -> None:
    """Entry point."""

