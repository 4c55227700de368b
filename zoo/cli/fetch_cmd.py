"""``zoo fetch``: pre-fetch and verify weights into the cache, to verify later without network."""

from __future__ import annotations

import sys
from typing import Any, Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors, index_option, report_index_problems
from zoo.cli.fetch_options import fetch_options, fetch_options_from_cli
from zoo.index import load_index
from zoo.judge.exit_codes import worst_code
from zoo.weights.errors import OfflineMissingError
from zoo.weights.integrity import human_bytes
from zoo.weights.select import fetch_cards
from zoo.weights.results import FetchAttempt


@click.command("fetch", epilog=EXIT_CODES_HELP)
@click.argument("models", nargs=-1)
@click.option("--all", "all_models", is_flag=True, help="Every model in the index.")
@index_option
@fetch_options
@explained_errors
def command(models: Sequence[str], all_models: bool, index_paths: Sequence[str], **kw: Any) -> None:
    """Fetch and verify the weights of MODELS (or --all) into the cache.

    Files already cached are checked, not downloaded again. A machine without network
    can then verify with --offline, given this cache (copy it, or point ZOO_CACHE at it).
    With --source hub the Hub files go to huggingface_hub's cache (HF_HUB_CACHE).
    """
    index = load_index(index_paths)
    cards = index.select(models, all_models)
    options = fetch_options_from_cli(**kw)
    attempts = fetch_cards(cards, options)
    for attempt in attempts:
        echo(_line(attempt))
        for note in attempt.result.notes if attempt.result is not None and attempt.result.hub is not None else ():
            echo(f"    note: {note}", err=True)
    failed = [a for a in attempts if a.error is not None]
    for attempt in failed:
        text = str(attempt.error)
        echo(f"zoo: {text}" if text.startswith(f"{attempt.model}:") else f"zoo: {attempt.model}: {text}", err=True)
    missing = [a for a in failed if isinstance(a.error, OfflineMissingError)]
    if missing:
        names = " ".join(a.model for a in missing)
        echo(
            f"zoo: {len(missing)} file(s) missing offline. To get them, run `zoo fetch {names}` on a machine "
            f"with network and copy the files into {options.cache_dir}, or pass --mirror FOLDER.",
            err=True,
        )
    ok = len(attempts) - len(failed)
    echo(f"{ok} of {len(attempts)} weights file(s) verified in {options.cache_dir}", err=True)
    problems = report_index_problems(index)
    sys.exit(worst_code([problems, *(a.error.exit_code for a in failed if a.error is not None)]))


def _line(attempt: FetchAttempt) -> str:
    if attempt.result is None:
        return f"FAILED  {attempt.model}  ({type(attempt.error).__name__})"
    r = attempt.result
    proof = r.verified_by or "unverified: pin it with `zoo lock`"
    name = r.hub.describe() if r.hub is not None else r.file_name
    return (
        f"ok      {r.model}  {name}  {human_bytes(r.size)}  from {r.source}  "
        f"sha256 {r.sha256[:12]}  [{proof}; lock: {r.lock_status}]"
    )
