"""A cache of facts derived from run records, so a long history is not read again in full.

``zoo report`` and ``zoo gate`` over a year of runs would otherwise parse, validate and
re-judge every record each time (gigabytes of JSON). What they show of the runs before the
latest is small: a row of counts, a point per model and metric, a few gate lines. This cache
keeps those, in one SQLite file, keyed by what they were derived from:

- ``files``: a run record's path, size and modification time (ns) -> the SHA-256 of its bytes,
  so an unchanged file is known by a ``stat`` alone;
- ``headers``: a record's SHA-256 -> its header (run id, times, shard, run group, ...), which
  says which records are shards of one run without reading them;
- ``derived``: (kind, key) -> a payload, where the key hashes the records' SHA-256s with
  everything else the payload depends on (tolerances, waivers in force, the index, zoo's own
  code: :func:`code_fingerprint`).

A record whose bytes change gets a new SHA-256, so nothing stale can be served; a cache that
cannot be opened or written is left alone with a note, and the views are computed from the
records as without it. SQLite because it is in the standard library, keeps one file
consistent across concurrent processes and crashes (a transaction is written whole or not at
all), and reads a few thousand small rows in milliseconds.

Where: ``$ZOO_HISTORY_CACHE`` (a file path; ``off`` turns the cache off), else
``$XDG_CACHE_HOME/zoo/history.sqlite``, else ``~/.cache/zoo/history.sqlite``.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import sqlite3
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence

from zoo.inert import inert_text
from zoo.json_input import read_json

CACHE_ENV = "ZOO_HISTORY_CACHE"
OFF = ("off", "0", "no", "false")
FORMAT = 1
"""The layout of the tables; a file of another layout is emptied and refilled."""
COMMIT_SECONDS = 2.0
KEEP_SECONDS = 90 * 24 * 3600
"""Entries not read for this long are dropped (records deleted, policies changed)."""


def _note(text: str) -> None:
    """A note on stderr, printed inert (:func:`zoo.inert.inert_text`): the path comes from the environment."""
    print(inert_text(text), file=sys.stderr)


def cache_path(environ: Optional[dict[str, str]] = None) -> Optional[Path]:
    """Where the cache lives, or ``None`` when ``$ZOO_HISTORY_CACHE`` turns it off."""
    env = os.environ if environ is None else environ
    chosen = env.get(CACHE_ENV, "").strip()
    if chosen.lower() in OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = env.get("XDG_CACHE_HOME", "").strip()
    return (Path(base).expanduser() if base else Path.home() / ".cache") / "zoo" / "history.sqlite"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of zoo's own source files: a payload made by other code is never served."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2", ".css") and path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data that is the same in every process: dataclasses as dicts,
    sets sorted (their order follows string hashing, which differs from process to process)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def key_of(*parts: Any) -> str:
    """A cache key: the SHA-256 of ``parts`` as canonical JSON (:func:`canonical`)."""
    return hashlib.sha256(json.dumps(canonical(parts), sort_keys=True).encode()).hexdigest()


def file_stamp(path: Path) -> tuple[str, int, int]:
    """(resolved path, size, mtime in ns): what a file is known by between two reads."""
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


class DerivedCache:
    """The cache file, opened for one command; every method is a no-op once it has failed."""

    def __init__(self, path: Optional[Path]) -> None:
        self.path = path
        self.connection: Optional[sqlite3.Connection] = None
        self.now = int(time.time())
        self.pending = 0
        self.since = 0.0
        self.opened = False

    @property
    def active(self) -> bool:
        """Whether the cache can be used (the file is opened on the first use)."""
        if not self.opened:
            self.opened = True
            if self.path is not None:
                self._guard(self._open)
        return self.connection is not None

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version != FORMAT:
            connection.executescript(
                "DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS headers; DROP TABLE IF EXISTS derived;"
                "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT);"
                "CREATE TABLE headers (sha256 TEXT PRIMARY KEY, header TEXT, used INTEGER);"
                "CREATE TABLE derived (kind TEXT, key TEXT, payload TEXT, used INTEGER, PRIMARY KEY (kind, key));"
                f"PRAGMA user_version={FORMAT};"
            )
        cutoff = self.now - KEEP_SECONDS
        with connection:  # one short transaction: other processes are kept waiting as little as possible
            connection.execute("BEGIN")
            connection.execute("DELETE FROM derived WHERE used < ?", (cutoff,))
            connection.execute("DELETE FROM headers WHERE used < ?", (cutoff,))
        self.connection = connection

    def _guard(self, action: Any, *args: Any) -> Any:
        try:
            return action(*args)
        except (sqlite3.Error, OSError, ValueError) as exc:
            if self.connection is not None or self.path is not None:
                _note(f"note: the history cache {self.path} is not used ({exc}); set {CACHE_ENV}=off to skip it")
            self._drop()
            return None

    def _drop(self) -> None:
        connection, self.connection, self.path = self.connection, None, None
        if connection is not None:
            try:
                connection.rollback()
                connection.close()
            except sqlite3.Error:
                pass

    # ------------------------------------------------------------------ files and headers

    def sha256s_of(self, stamps: Sequence[tuple[str, int, int]]) -> dict[str, str]:
        """Path -> SHA-256 of each file whose recorded size and mtime still match its stamp."""
        found: dict[str, str] = {}
        wanted = {stamp[0]: stamp[1:] for stamp in stamps}
        for rows in self._select("SELECT path, size, mtime_ns, sha256 FROM files WHERE path IN ({})", list(wanted)):
            found.update({path: sha for path, size, mtime, sha in rows if wanted.get(path) == (size, mtime)})
        return found

    def headers_of(self, sha256s: Sequence[str]) -> dict[str, Any]:
        """SHA-256 -> the header stored for it, of those stored."""
        found: dict[str, Any] = {}
        for rows in self._select("SELECT sha256, header FROM headers WHERE sha256 IN ({})", sorted(set(sha256s)),
                                 touch="UPDATE headers SET used = ? WHERE used < ? AND sha256 IN ({})"):
            found.update({sha: read_json(text) for sha, text in rows})  # the bounded reader: a planted entry drops the cache
        return found

    def _select(self, sql: str, keys: list[str], touch: Optional[str] = None) -> Iterator[list[Any]]:
        """The rows of ``sql`` for ``keys``, a few hundred keys a query; ``touch`` marks them used."""
        if not self.active:
            return
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))

            def select() -> list[Any]:
                assert self.connection is not None
                rows = self.connection.execute(sql.format(marks), chunk).fetchall()
                if touch is not None:
                    self.connection.execute(touch.format(marks), (self.now, self.now - 24 * 3600, *chunk))
                return rows

            rows = self._guard(select)
            if rows is None:
                return
            yield rows

    def remember_file(self, stamp: tuple[str, int, int], sha256: str) -> None:
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (*stamp, sha256))

    def remember_header(self, sha256: str, header: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO headers VALUES (?, ?, ?)", (sha256, json.dumps(header), self.now))

    # ------------------------------------------------------------------ derived payloads

    def get(self, kind: str, key: str) -> Any:
        """The payload stored under (kind, key), or ``None``."""
        return self._read("derived", "payload", "kind = ? AND key = ?", (kind, key))

    def put(self, kind: str, key: str, payload: Any) -> None:
        self._write("INSERT OR REPLACE INTO derived VALUES (?, ?, ?, ?)", (kind, key, json.dumps(payload), self.now))

    def _read(self, table: str, column: str, where: str, args: tuple[Any, ...]) -> Any:
        if not self.active:
            return None

        def read() -> Any:
            assert self.connection is not None
            row = self.connection.execute(f"SELECT {column}, used FROM {table} WHERE {where}", args).fetchone()
            if row is None:
                return None
            if row[1] < self.now - 24 * 3600:  # mark as used, at most once a day
                self.connection.execute(f"UPDATE {table} SET used = ? WHERE {where}", (self.now, *args))
            return read_json(row[0])

        return self._guard(read)

    def _write(self, sql: str, args: Iterable[Any]) -> None:
        if not self.active:
            return

        def write() -> None:
            assert self.connection is not None
            if not self.connection.in_transaction:
                self.connection.execute("BEGIN")
                self.since = time.monotonic()
            self.connection.execute(sql, tuple(args))
            self.pending += 1
            # Writes are committed in batches (one commit per entry would cost a sync each), and at
            # least every few seconds: a long first read keeps what it made, and another process
            # writing to the cache waits no longer than that.
            if self.pending >= 200 or time.monotonic() - self.since > COMMIT_SECONDS:
                self.connection.execute("COMMIT")
                self.pending = 0

        self._guard(write)

    def close(self) -> None:
        """Commit what was written and close the file."""
        if self.connection is None:
            return
        connection = self.connection
        try:
            if connection.in_transaction:
                connection.execute("COMMIT")
            connection.close()
        except sqlite3.Error as exc:
            _note(f"note: the history cache {self.path} could not be written ({exc})")
        self.connection = None

    def __enter__(self) -> "DerivedCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # every entry stands on its own: what was made before an error is kept


def open_cache(path: Optional[Path] = None, *, use: bool = True) -> DerivedCache:
    """The cache at ``path`` (default :func:`cache_path`); an inactive one when ``use`` is false or it is off."""
    return DerivedCache((path or cache_path()) if use else None)


__all__ = ["CACHE_ENV", "DerivedCache", "cache_path", "canonical", "code_fingerprint", "file_stamp", "key_of", "open_cache"]
