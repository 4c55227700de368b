"""``zoo show MODEL``: one model's card, whole."""

from __future__ import annotations

import json
import sys
from typing import Sequence

import click
import yaml

from zoo.index.cards_json import card_json
from zoo.cli.common import EXIT_BAD_INPUT, EXIT_CODES_HELP, echo, explained_errors, index_option
from zoo.index import load_index


@click.command("show", epilog=EXIT_CODES_HELP)
@click.argument("model")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@explained_errors
def command(model: str, index_paths: Sequence[str], fmt: str) -> None:
    """Print MODEL's claims (value, precision, source line) and everything else its card says.

    Exit 2 when the card has bad input (named on stderr); problems of other cards are not its own.
    """
    card = load_index(index_paths).get(model)
    if fmt == "json":
        echo(json.dumps(card_json(card, with_metadata=True), indent=2))
    else:
        echo(f"{card.name}  ({card.collection or 'no collection'})  {card.source}")
        echo(f"from: {card.origin}; built by {card.library or 'no library named'} as {card.builds or card.name}")
        echo("claims:")
        for metric, claim in card.claims.items():
            precision = f"  (to {claim.precision:g})" if claim.precision else ""
            echo(f"  {metric:<14} {claim.raw:<24}{precision:<16} {claim.field!r} at {claim.source}")
        for field in card.not_claimed:
            echo(f"  {'':<14} {'not claimed':<24}{'':<16} {field!r} is written with no value")
        if card.unchecked:
            echo("not checked:")
            for item in card.unchecked:
                echo(f"  {item.field!r} {item.raw} at {item.source}: {item.reason}")
        echo("card:")
        echo("  " + yaml.safe_dump(card.metadata, sort_keys=False, width=100).replace("\n", "\n  ").rstrip())
    for problem in card.problems:
        echo(f"zoo: error: {problem.message}", err=True)
    sys.exit(EXIT_BAD_INPUT if card.problems else 0)
