"""``zoo fetch``: pre-fetch and verify weights into the cache, to verify later without network."""

from __future__ import annotations

import sys
from typing import Any, Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors, index_option, report_index_problems
from zoo.cli.declared import click_options, options_from
from zoo.index import load_index
from zoo.weights.options import FetchOptions
from zoo.judge.exit_codes import worst_code
from zoo.weights.errors import OfflineMissingError
from zoo.weights.integrity import human_bytes
from zoo.weights.select import fetch_cards
from zoo.weights.results import FetchAttempt


@click.command("fetch", epilog=EXIT_CODES_HELP)
@click.argument("models", nargs=-1)
@click.option("--all", "all_models", is_flag=True, help="Every model in the index.")
@index_option
@click_options(FetchOptions)
@explained_errors
def command(models: Sequence[str], all_models: bool, index_paths: Sequence[str], **kw: Any) -> None:
    """Fetch and verify the weights of MODELS (or --all) into the cache.

    Files already cached are checked, not downloaded again. A machine without network
    can then verify with --offline, given this cache (copy it, or point ZOO_CACHE at it).
    With --source hub the Hub files go to huggingface_hub's cache (HF_HUB_CACHE).
    """
    options = options_from(FetchOptions, kw)
    index = load_index(index_paths, fetch=options)  # an hf: card obeys --offline and the stall rule too
    cards = index.select(models, all_models)
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
    where = _where(options)
    if missing:
        names = " ".join(a.model for a in missing)
        if options.source == "card":
            todo = (f"run `zoo fetch {names}` on a machine with network and copy the files into {where}, "
                    f"or pass --mirror FOLDER, or {options.going_online()}")
        else:
            todo = (f"run `zoo fetch --source {options.source} {names}` on a machine with network and copy that machine's "
                    f"Hub cache to {where}, or {options.going_online() if options.offline else 'unset HF_HUB_OFFLINE'}")
        echo(f"zoo: {len(missing)} file(s) missing offline. To get them, {todo}.", err=True)
    ok = len(attempts) - len(failed)
    echo(f"{ok} of {len(attempts)} weights file(s) verified in {where}", err=True)
    problems = report_index_problems(index)
    sys.exit(worst_code([problems, *(a.error.exit_code for a in failed if a.error is not None)]))


def _where(options: FetchOptions) -> str:
    """The cache the files go to: zoo's, or huggingface_hub's with --source hub."""
    if options.source == "card":
        return str(options.cache_dir)
    from zoo.weights.hub import HubSettings

    hub = f"the Hub cache ({HubSettings.current(options).cache_dir})"
    return hub if options.source == "hub" else f"{options.cache_dir} or {hub}"


def _line(attempt: FetchAttempt) -> str:
    if attempt.result is None:
        return f"FAILED  {attempt.model}  ({attempt.error.what if attempt.error is not None else 'failed'})"
    r = attempt.result
    proof = r.verified_by or "unverified: pin it with `zoo lock`"
    name = r.hub.describe() if r.hub is not None else r.file_name
    return (
        f"ok      {r.model}  {name}  {human_bytes(r.size)}  from {r.source}  "
        f"sha256 {r.sha256[:12]}  [{proof}; lock: {r.lock_status}]"
    )
