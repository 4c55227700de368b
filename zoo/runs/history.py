"""Many run records, known by their headers: which are shards of one run, which run is the latest.

A record's header is the record without its models (run id, times, environment, options,
shard, merge): a few kilobytes where the whole record holds megabytes. Headers are kept in
the history cache (:mod:`zoo.runs.cache`) by the SHA-256 of each file's bytes, so grouping a
year of records into runs, and finding the latest, reads no record twice. The grouping and
the merge are :mod:`zoo.runs.merge`'s own, applied to headers: a header is a
:class:`~zoo.records.RunRecord` with no models.

>>> runs = read_runs_of(paths, cache)  # doctest: +SKIP
>>> latest = max(runs, key=lambda run: run.order)  # doctest: +SKIP
>>> record = latest.load()  # the whole run: its shards read and merged  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from zoo.errors import InputError
from zoo.json_input import JSONInputError, read_json, read_regular_file
from zoo.records import RunRecord, from_json_dict, to_json_dict
from zoo.runs.cache import DerivedCache, file_stamp
from zoo.runs.merge import group_runs, latest_shard_set, merge_runs
from zoo.runs.schema import upgrade
from zoo.runs.store import RECORD_MAX_BYTES, load_run, run_file


@dataclass(frozen=True)
class StoredRecord:
    """One run record file: where it is, the SHA-256 of its bytes, and its header."""

    path: Path
    sha256: str
    """The SHA-256 of the file's bytes ("" when read without the history cache)."""
    header: RunRecord
    """The record without its models."""

    def load(self) -> RunRecord:
        """The whole record (validated; errors name the file)."""
        return load_run(self.path)


@dataclass(frozen=True)
class StoredRun:
    """One run among the records: an unsharded record, or the shard records of one run."""

    records: list[StoredRecord]
    header: RunRecord
    """The run as :func:`~zoo.runs.merge.merge_runs` makes it of the headers (no models):
    run id, start, finish, merge facts."""

    @property
    def order(self) -> tuple[str, str, str]:
        """Sort key by finish time, as :func:`zoo.views.rows.finish_order`."""
        return (self.header.finished, self.header.started, self.header.run_id)

    @property
    def sha256s(self) -> list[str]:
        """The SHA-256 of each record's bytes, sorted: the run's content, wherever the files lie."""
        return sorted(record.sha256 for record in self.records)

    def load(self) -> RunRecord:
        """The whole run: its records read, and shards merged as :func:`~zoo.runs.merge.combine_runs` does."""
        records = [record.load() for record in self.records]
        return records[0] if records[0].shard is None else merge_runs(records)


def _read(path: Path) -> bytes:
    """The record's bytes, read as :func:`~zoo.runs.store.load_run` reads them (a regular file of
    bounded size); anything else is left to ``load_run``, whose error names the file."""
    try:
        return read_regular_file(path, max_bytes=RECORD_MAX_BYTES)
    except (OSError, JSONInputError):
        load_run(path)  # raises the InputError that says what is wrong with the file
        raise


MODELS_KEY = '\n  "models": ['
AFTER_MODELS = '\n  "shard": '
TOP_LEVEL = '\n  "'


def header_text(text: str) -> str:
    """The JSON of a record written by :func:`zoo.runs.store.publish` (``indent=2``) with its
    models cut out unread; ``text`` itself when it is not laid out so.

    In that layout every top-level key, and only a top-level key, starts a line with exactly two
    spaces (a string cannot hold a raw line break), and ``models`` is followed by ``shard``: the
    cut is made only when ``models`` is the one key between the two marks. Hand-written here
    because no JSON library reads part of a document; what is cut out is never looked at, and
    the header is validated like the whole record.
    """
    start = text.find(MODELS_KEY)
    end = text.rfind(AFTER_MODELS)
    if start < 0 or end < start or text.find(TOP_LEVEL, start + 1, end) != -1:
        return text
    return text[:start] + '\n  "models": [],' + text[end:]


def _header_of_file(path: Path, content: Optional[bytes] = None) -> RunRecord:
    """The header of the record at ``path`` (whose bytes are ``content`` when already read): its
    JSON without the models, validated.

    Anything unexpected (unreadable, not JSON, an old schema this zoo cannot upgrade, a bad
    field) is left to :func:`~zoo.runs.store.load_run`, whose errors name the file and field.
    """
    try:
        data: Any = read_json(header_text((_read(path) if content is None else content).decode("utf-8")))
        if isinstance(data, dict):
            data = upgrade(data)
            if isinstance(data, dict):
                return from_json_dict(RunRecord, {**data, "models": []})
    except (ValueError, TypeError, OSError):  # json's, pydantic's, the schema's and UTF-8's errors are ValueErrors
        pass
    record = load_run(path)  # raises the InputError that names what is wrong
    return dataclasses.replace(record, models=[])


def _stamp(file: Path) -> tuple[str, int, int]:
    try:
        return file_stamp(file)
    except FileNotFoundError:
        raise InputError(f"no run record at {file}", hint="pass a run folder or its run.json (see `ls runs/`)") from None


def read_record(path: Union[str, Path], cache: DerivedCache) -> StoredRecord:
    """The header of the run record at ``path`` (a run.json or its folder), from the cache when
    the file is unchanged (same size and modification time, or the same bytes)."""
    return read_records([path], cache)[0]


def read_records(paths: Sequence[Union[str, Path]], cache: DerivedCache) -> list[StoredRecord]:
    """:func:`read_record` of each path, asking the cache for all of them at once."""
    files = [run_file(path) for path in paths]
    stamps = [_stamp(file) for file in files]
    if not cache.active:  # no cache: nothing is kept under the SHA-256
        return [StoredRecord(file, "", _header_of_file(file)) for file in files]
    known = cache.sha256s_of(stamps)
    stored = cache.headers_of(list(known.values()))
    records = []
    for file, stamp in zip(files, stamps):
        sha256, content = known.get(stamp[0]), None
        if sha256 is None:  # a file not seen as it is now: its bytes are read once, for the hash and the header
            content = _read(file)
            sha256 = hashlib.sha256(content).hexdigest()
            cache.remember_file(stamp, sha256)
            stored.update(cache.headers_of([sha256]))  # the same bytes seen elsewhere (a copied history)
        header = None
        if sha256 in stored:
            try:
                header = from_json_dict(RunRecord, stored[sha256])
            except ValueError:
                pass  # a cache entry of another form: made again below
        if header is None:
            header = _header_of_file(file, content)
            cache.remember_header(sha256, to_json_dict(header))
        records.append(StoredRecord(file, sha256, header))
    return records


def runs_of(records: Sequence[StoredRecord]) -> list[StoredRun]:
    """The runs among ``records`` (shards of one run together), ordered by start time,
    as :func:`~zoo.runs.merge.combine_runs` orders the runs it merges."""
    owner = {id(record.header): record for record in records}
    runs = []
    for group in group_runs([record.header for record in records]):
        members = [owner[id(header)] for header in group]
        header = group[0] if group[0].shard is None else merge_runs(group)
        if header.merge is not None and group[0].shard is not None:
            members = sorted(members, key=lambda m: header.merge.merged_from.index(m.header.run_id))  # type: ignore[union-attr]
        runs.append(StoredRun(members, header))
    return sorted(runs, key=lambda run: (run.header.started, run.header.run_id))


def latest_records(records: Sequence[StoredRecord]) -> list[StoredRecord]:
    """The records of the latest run among ``records``, as :func:`~zoo.runs.merge.latest_shard_set`
    chooses them (for ``zoo report`` and ``zoo gate`` with no RUN)."""
    owner = {id(record.header): record for record in records}
    return [owner[id(header)] for header in latest_shard_set([record.header for record in records])]


def previous_and_latest(runs: Sequence[StoredRun]) -> tuple[Optional[StoredRun], StoredRun]:
    """The run that finished last and the one that finished before it (``None`` if alone)."""
    ordered = sorted(runs, key=lambda run: run.order)
    return (ordered[-2] if len(ordered) > 1 else None), ordered[-1]


__all__ = ["StoredRecord", "StoredRun", "latest_records", "previous_and_latest", "read_record", "read_records", "runs_of"]
