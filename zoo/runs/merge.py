"""Merging the run records of CI shards into one run record.

The shards of one run (``zoo verify --shard K/N`` on each machine of a matrix) are put
back together so that every view and the gate see one run: the merge of a run's shards
holds the same models and verdicts as the same run made unsharded.

What the merged record keeps:
- models from every shard, in index order (source file, then line);
- ``started`` = the earliest start, ``finished`` = the latest finish;
- the environment of the lowest shard (the hosts of all are named in ``merge``);
- ``options``: those all shards agree on;
- ``merge`` (:class:`~zoo.records.MergeInfo`): the shard run ids, the shards present and
  missing, the hosts, and the options the shards did not agree on;
- artifacts, renamed ``<shard run id>/<name>`` and pointing at ``../<shard run id>/<path>``
  (valid when the merged record is saved into the same results folder as the shards).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Hashable, Sequence

from zoo.errors import InputError
from zoo.records import MergeInfo, ModelResult, RunRecord, Scalar
from zoo.runs.shard import Shard, parse_shard

MERGE_OPTIONS = ("shard",)
"""Options left out of the merged ``options``: ``shard`` differs between shards by design."""
# "run_group" is not left out: shards of one run share it, so the merged record keeps it.


def _shard(record: RunRecord) -> Shard:
    try:
        return parse_shard(record.shard or "")
    except InputError:
        raise InputError(
            f"run {record.run_id}: its shard {record.shard!r} is not of the form K/N",
            hint="the run record is damaged; re-run that shard",
        ) from None


def _model_order(result: ModelResult) -> tuple[str, int, str]:
    return (result.card.source.path, result.card.source.line, result.card.name)


def merge_runs(records: Sequence[RunRecord]) -> RunRecord:
    """One run record from the shard records of one run.

    A single unsharded record is returned as it is. Raises :class:`InputError` when the
    records cannot be one run: an unsharded record among shards, different shard counts,
    the same shard twice, a model in two shards, or different measurements requested.
    """
    if not records:
        raise InputError("no run records to merge", hint="pass the run.json files (or folders) of the shards")
    unique = list({record.run_id: record for record in records}.values())
    if len(unique) == 1 and unique[0].shard is None:
        return unique[0]
    unsharded = [r.run_id for r in unique if r.shard is None]
    if unsharded:
        raise InputError(
            f"cannot merge unsharded run {unsharded[0]} with shard runs",
            hint="pass the shards of one run, or one unsharded run",
        )
    shards = sorted(unique, key=lambda r: _shard(r).k)
    counts = {_shard(r).n for r in shards}
    if len(counts) > 1:
        raise InputError(
            f"the runs were split into different numbers of shards ({', '.join(f'{r.run_id}: {r.shard}' for r in shards)})",
            hint="pass the shards of one CI run; each shard's run.json names its K/N",
        )
    count = counts.pop()
    _refuse_mixed_groups(shards)
    _refuse_duplicates(shards)
    _refuse_mixed_requests(shards)
    _refuse_mixed_zoo_data(shards)

    models: list[ModelResult] = []
    owner: dict[str, str] = {}
    for record in shards:
        for result in record.models:
            if result.card.name in owner:
                raise InputError(
                    f"model {result.card.name} is in two shard runs ({owner[result.card.name]} and {record.run_id})",
                    hint="the shards come from different runs or index versions; pass the shards of one run",
                )
            owner[result.card.name] = record.run_id
            models.append(result)
    models.sort(key=_model_order)

    present = {_shard(r).k for r in shards}
    options, differ = _common_options(shards)
    merged_from = ",".join(r.run_id for r in shards)
    hosts = sorted({r.environment.hostname for r in shards})
    merge = MergeInfo(
        merged_from=[r.run_id for r in shards],
        shards=[str(_shard(r)) for r in shards],
        missing=[f"{k}/{count}" for k in range(1, count + 1) if k not in present],
        hosts=hosts if len(hosts) > 1 else [],
        options_differ=differ,
    )
    artifacts = {
        f"{r.run_id}/{name}": f"../{r.run_id}/{path}" for r in shards for name, path in r.artifacts.items()
    }
    first = shards[0]
    return RunRecord(
        run_id="merged-" + hashlib.sha256(merged_from.encode()).hexdigest()[:10],
        started=min(r.started for r in shards),
        finished=max(r.finished for r in shards),
        environment=first.environment,
        index=list(first.index),
        measurements_requested=list(first.measurements_requested),
        options=options,
        models=models,
        shard=None,
        artifacts=artifacts,
        schema_version=first.schema_version,
        merge=merge,
        judged_against=first.judged_against,
    )


def _refuse_mixed_zoo_data(shards: list[RunRecord]) -> None:
    """Shards judged against different zoo data (a card, the tolerances or the conventions changed
    between them) would give one merged run two rules: refused, naming what differs."""
    first = shards[0]
    for other in shards[1:]:
        a, b = first.judged_against, other.judged_against
        if a is None or b is None or a == b:
            continue
        cards_a, cards_b = {d.path: d.sha256 for d in a.cards}, {d.path: d.sha256 for d in b.cards}
        differ = [path for path in sorted(set(cards_a) | set(cards_b)) if cards_a.get(path) != cards_b.get(path)]
        if a.tolerances != b.tolerances:
            differ.append("the tolerances file")
        if a.conventions != b.conventions or a.conventions_file != b.conventions_file:
            differ.append("the FLOPs conventions")
        if a.lock != b.lock:
            differ.append("the weights lock")
        if differ:
            raise InputError(
                f"shard runs {first.run_id} ({first.shard}) and {other.run_id} ({other.shard}) were judged against different "
                f"zoo data: {', '.join(differ[:5])}{' ...' if len(differ) > 5 else ''}",
                hint="run every shard of a job on the same commit of the zoo's metadata, then merge again",
            )


def _differing_options(shards: list[RunRecord]) -> str:
    """"key (run: value, run: value)" for each option whose value differs between the shards."""
    keys = sorted({key for r in shards for key in r.options if key not in MERGE_OPTIONS})
    parts = []
    for key in keys:
        values = {r.run_id: r.options.get(key) for r in shards}
        if len({repr(v) for v in values.values()}) > 1:
            parts.append(f"{key} (" + ", ".join(f"{run}: {value!r}" for run, value in values.items()) + ")")
    return "; ".join(parts)


def _refuse_mixed_groups(shards: list[RunRecord]) -> None:
    """Shards of different run groups, or with no identity at all (no group, no git commit)
    and different options, are not one run."""
    groups = {r.options.get("run_group") for r in shards}
    anonymous = groups == {None} and all(r.environment.git_commit is None for r in shards)
    differ = _differing_options(shards)
    if len(groups) > 1 or (anonymous and differ):
        listing = ", ".join(f"{r.run_id} ({r.shard}): {r.options.get('run_group') or 'no run group'}" for r in shards)
        raise InputError(
            f"these shard runs are not one run: {listing}" + (f"; options that differ: {differ}" if differ else ""),
            hint="pass the shards of one job; give each job's shards the same --run-group (or $ZOO_RUN_GROUP; CI run "
            "ids such as GITHUB_RUN_ID are used by default)",
        )


def _refuse_duplicates(shards: list[RunRecord]) -> None:
    seen: dict[int, str] = {}
    for record in shards:
        index = _shard(record).k
        if index in seen:
            raise InputError(
                f"shard {record.shard} appears twice: runs {seen[index]} and {record.run_id}",
                hint="pass the shards of one run only (one run.json per shard)",
            )
        seen[index] = record.run_id


def _refuse_mixed_requests(shards: list[RunRecord]) -> None:
    first = shards[0]
    for record in shards[1:]:
        if sorted(record.measurements_requested) != sorted(first.measurements_requested):
            raise InputError(
                f"shards measured different things: {first.run_id} ({first.shard}) measured "
                f"{', '.join(first.measurements_requested)}; {record.run_id} ({record.shard}) measured "
                f"{', '.join(record.measurements_requested)}",
                hint="run every shard with the same --only/--skip",
            )


def _common_options(shards: list[RunRecord]) -> tuple[dict[str, Scalar], list[str]]:
    """The options every shard agrees on, and the names of those they do not."""
    keys = {key for r in shards for key in r.options if key not in MERGE_OPTIONS}
    common: dict[str, Scalar] = {}
    differ = []
    for key in sorted(keys):
        values = {repr(r.options.get(key)) for r in shards}
        if len(values) == 1:
            common[key] = shards[0].options.get(key)
        else:
            differ.append(key)
    return common, differ


def _group_key(record: RunRecord) -> Hashable:
    """Shards that belong together: same shard count, run group, commit, index and measurements."""
    return (
        _shard(record).n,
        record.options.get("run_group"),
        record.environment.git_commit,
        tuple(record.index),
        tuple(sorted(record.measurements_requested)),
    )


def combine_runs(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs among ``records``: shards of one run merged, unsharded runs as they are.

    Shards are grouped by shard count, git commit, index and measurements requested; a
    group holding the same shard twice is refused (pass one run's shards at a time).
    The result is ordered by start time.
    """
    runs: list[RunRecord] = []
    groups: dict[Hashable, list[RunRecord]] = defaultdict(list)
    for record in {r.run_id: r for r in records}.values():
        if record.shard is None:
            runs.append(record)
        else:
            groups[_group_key(record)].append(record)
    runs += [merge_runs(group) for group in groups.values()]
    return sorted(runs, key=lambda r: (r.started, r.run_id))


def latest_shard_set(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The records of the latest run: the latest record itself, or, when it is a shard,
    the newest record of every shard of its group (for ``zoo report`` with no RUN)."""
    if not records:
        return []
    newest = max(records, key=lambda r: (r.finished, r.run_id))
    if newest.shard is None:
        return [newest]
    key = _group_key(newest)
    chosen: dict[int, RunRecord] = {}
    for record in sorted(records, key=lambda r: (r.finished, r.run_id)):
        if record.shard is not None and _group_key(record) == key:
            chosen[_shard(record).k] = record
    return [chosen[k] for k in sorted(chosen)]
