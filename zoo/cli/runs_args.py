"""Reading the RUN arguments that ``zoo report`` and ``zoo gate`` share."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import click

from zoo.runs.cache import DerivedCache
from zoo.runs.history import StoredRun, latest_records, read_record, read_records, runs_of
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


def stored_runs(paths: Sequence[str], results: Optional[str], cache: DerivedCache) -> list[StoredRun]:
    """The runs :func:`read_runs` would return, known by their records' headers (read through
    ``cache``), for views that read only some of them whole."""
    if paths:
        return runs_of(read_records(list(paths), cache))
    folder = results_dir(results)
    newest = read_record(latest_run(folder), DerivedCache(None))  # one file: not worth the cache
    if newest.header.shard is None:
        return runs_of([newest])
    return runs_of(latest_records(read_records(list_runs(folder), cache)))
