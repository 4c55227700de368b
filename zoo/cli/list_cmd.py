"""``zoo list``: the models in the index with their claims, and where each came from."""

from __future__ import annotations

import json
import sys
from typing import Sequence

import click

from zoo.index.cards_json import card_json
from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors, index_option, report_index_problems
from zoo.index import load_index
from zoo.records import ModelCard

NOT_CLAIMED = "not claimed"
"""The cell of a field the card writes with no value (``FLOPs: null``)."""


def claim_cell(card: ModelCard, metric: str, field: str) -> str:
    """A claim as written, "not claimed" for a field written empty, "—" when the card does not name it."""
    claim = card.claims.get(metric)
    if claim is not None:
        return claim.raw
    return NOT_CLAIMED if field in card.not_claimed else "—"


def origin_cell(card: ModelCard) -> str:
    """Which source the claims came from and which library builds the model: ``model-index · timm``."""
    return f"{card.origin} · {card.library or 'no library'}"


@click.command("list", epilog=EXIT_CODES_HELP)
@index_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format.")
@explained_errors
def command(index_paths: Sequence[str], fmt: str) -> None:
    """List the models in the index with their claims, where each is written and which source it came from.

    A card with bad input is listed with what could be read, and its problem named on stderr
    (exit 2 at the end); a figure zoo does not measure is listed as not checked.
    """
    index = load_index(index_paths)
    if index.from_folder:  # a folder without a root file: say which cards it stood for
        echo(f"zoo: {index.describe_files()}", err=True)
    if fmt == "json":
        echo(json.dumps([card_json(card) for card in index.models], indent=2))
        sys.exit(report_index_problems(index))
    from zoo.views.rows import short_source
    from zoo.views.terminal import make_console, print_grid

    from zoo.metrics import METRICS

    listed = [m for m in METRICS if m.listed]
    unchecked = any(card.unchecked for card in index.models)
    headers = ("Model", "Collection", *(m.field for m in listed), "From", "Source") + (("Not checked",) if unchecked else ())
    rows = []
    for card in index.models:
        cells = [claim_cell(card, m.name, m.field) for m in listed]
        row = (card.name, card.collection or "", *cells, origin_cell(card), short_source(card.source))
        if unchecked:
            row += ("; ".join(f"{u.field} {u.raw} (line {u.source.line})" for u in card.unchecked),)
        rows.append(row)
    numeric = tuple(range(2, 2 + len(listed)))
    print_grid(make_console(), f"{len(index.models)} models from {index.describe_roots()}", headers, rows, numeric=numeric)
    sys.exit(report_index_problems(index))
