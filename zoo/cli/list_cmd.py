"""``zoo list``: the models in the index with their claims."""

from __future__ import annotations

import json
from typing import Sequence

import click

from zoo.index.cards_json import card_json
from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors, index_option
from zoo.index import load_index


@click.command("list", epilog=EXIT_CODES_HELP)
@index_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format.")
@explained_errors
def command(index_paths: Sequence[str], fmt: str) -> None:
    """List the models in the index with their claims and where each is written."""
    index = load_index(index_paths)
    if index.from_folder:  # a folder without a root file: say which cards it stood for
        echo(f"zoo: {index.describe_files()}", err=True)
    if fmt == "json":
        echo(json.dumps([card_json(card) for card in index.models], indent=2))
        return
    from zoo.views.rows import short_source
    from zoo.views.terminal import make_console, print_grid

    from zoo.metrics import METRICS

    listed = [m for m in METRICS if m.listed]
    headers = ("Model", "Collection", *(m.field for m in listed), "Source")
    rows = []
    for card in index.models:
        cells = [card.claims[m.name].raw if m.name in card.claims else "—" for m in listed]
        rows.append((card.name, card.collection or "", *cells, short_source(card.source)))
    numeric = tuple(range(2, 2 + len(listed)))
    print_grid(make_console(), f"{len(index.models)} models from {', '.join(index.roots)}", headers, rows, numeric=numeric)
