"""``zoo lock``: pin the SHA-256 and size of every model's verified weights file."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Sequence

import click

from zoo.cli.common import EXIT_CODES_HELP, echo, explained_errors, index_option, report_index_problems
from zoo.cli.declared import click_options, options_from
from zoo.errors import InputError
from zoo.index import load_index
from zoo.weights.options import FetchOptions
from zoo.judge.exit_codes import worst_code
from zoo.weights.lockfile import load_lock, update_lock
from zoo.weights.select import fetch_cards


@click.command("lock", epilog=EXIT_CODES_HELP)
@click.argument("models", nargs=-1)
@click.option("--all", "all_models", is_flag=True, help="Every model in the index.")
@click.option(
    "--update",
    is_flag=True,
    help="Re-pin the named files as fetched now (cache first, then mirrors, then URL) instead of "
    "checking them against the lock; review the diff afterwards.",
)
@index_option
@click_options(FetchOptions)
@explained_errors
def command(models: Sequence[str], all_models: bool, update: bool, index_paths: Sequence[str], **kw: Any) -> None:
    """Fetch, verify and pin the weights of MODELS (or --all) in the lock file.

    Trust on first use: a file already pinned must match its entry (unless --update);
    a new file is pinned once it passes every other check. Later fetches, `zoo fetch`
    and `zoo verify`, are checked against the lock file.
    """
    options = options_from(FetchOptions, kw)
    index = load_index(index_paths, fetch=options)  # an hf: card obeys --offline and the stall rule too
    cards = index.select(models, all_models)
    if options.lock_path is None:
        raise InputError("no lock file to write", hint="pass --lock-file PATH")
    lock = load_lock(options.lock_path)
    # With --update the old entries are not consulted: what the sources serve now is pinned.
    fetch_with = dataclasses.replace(options, lock_path=None) if update else options
    attempts = fetch_cards(cards, fetch_with, lock=None if update else lock)
    # Read again, changed and written under the lock file's own lock (zoo.file_lock): another
    # `zoo lock` may have pinned other files since this one started, and its pins stay.
    with update_lock(options.lock_path) as current:
        before = dict(current.entries)
        for attempt in attempts:
            if attempt.result is None:
                echo(f"zoo: {attempt.model}: not pinned: {attempt.error}", err=True)
                continue
            r = attempt.result
            if r.hub is not None:  # a Hub file: repo + commit + file + SHA-256 + size
                key = r.hub.lock_key
                old = current.get(key)
                current.pin(key, r.sha256, r.size, model=r.model, url=r.url or "", repo=r.hub.repo_id,
                            commit=r.hub.commit, file=r.hub.filename)
                new = current.get(key)
            else:  # keyed by name, or by URL when another source's file has the name
                old = current.get(r.file_name, r.url)
                new = current.pin(r.file_name, r.sha256, r.size, model=r.model, url=r.url or "")
            if old == new:
                state = "unchanged"
            elif old is None:
                state = "pinned (new)"
            elif old.sha256 != r.sha256:
                state = f"re-pinned (was sha256 {old.sha256[:12]}, {old.size} bytes)"
            else:
                state = "entry updated"
            shown = r.hub.describe() if r.hub is not None else r.file_name
            echo(f"{state:<14}  {r.model}  {shown}  sha256 {r.sha256[:12]}  {r.size} bytes")
            for note in r.notes:
                echo(f"    note: {note}", err=True)
        changed = current.entries != before
    echo(f"wrote {options.lock_path}" if changed else f"{options.lock_path} unchanged", err=True)
    failed = [a.error for a in attempts if a.error is not None]
    problems = report_index_problems(index)
    sys.exit(worst_code([problems, *(e.exit_code for e in failed)]))
