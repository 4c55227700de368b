"""Reading the RUN arguments that ``zoo report`` and ``zoo gate`` share."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import click

from zoo.runs.merge import combine_runs, latest_shard_set
from zoo.records import RunRecord
from zoo.runs.store import latest_run, list_runs, load_run, results_dir


def runs_argument(func: Any) -> Any:
    """``RUN ...`` (run.json files or run folders) and ``--results DIR`` for the default."""
    func = click.option(
        "--results", type=click.Path(file_okay=False), default=None,
        help="Where to look for the latest run when no RUN is given (default: runs/, or $ZOO_RESULTS).",
    )(func)
    return click.argument("runs", nargs=-1, type=click.Path(exists=True, dir_okay=True, file_okay=True))(func)


def read_runs(paths: Sequence[str], results: Optional[str]) -> list[RunRecord]:
    """The runs named (shards of one run merged), or the latest run in the results folder.

    When the latest run is one shard, the newest record of each of its sibling shards in
    the same folder is merged with it.
    """
    if paths:
        return combine_runs([load_run(Path(p)) for p in paths])
    folder = results_dir(results)
    newest = load_run(latest_run(folder))
    if newest.shard is None:
        return [newest]
    siblings = [load_run(p) for p in list_runs(folder)]
    return combine_runs(latest_shard_set(siblings))
