"""``metadata/weights.lock``: the full SHA-256 and size of every verified weights file.

Trust on first use, like pinned hashes in a requirements file: ``zoo lock`` records what
it fetched and verified; every later fetch is checked against the record. The file is
YAML, keyed by weights file name, sorted, so a change reads well in a diff::

    version: 1
    files:
      mobilenetv2_100_ra-b33bc2c4.pth:
        sha256: b33bc2c4...
        size: 14202571
        models: [mobilenetv2_100]
        url: https://github.com/.../mobilenetv2_100_ra-b33bc2c4.pth
      timm/mobilenetv2_100.ra_in1k/model.safetensors:     # a Hub file: ORG/NAME/FILE
        sha256: ...
        size: 14220608
        models: [mobilenetv2_100]
        repo: timm/mobilenetv2_100.ra_in1k
        commit: 0123...(40 hex)
        file: model.safetensors

A second file of the same name from another URL (a name with no hash in it, as in
``.../a/model.pth`` and ``.../b/model.pth``) is keyed by its URL, with ``name:`` giving its name.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from zoo.atomic import write_atomic
from zoo.errors import InputError
from zoo.file_lock import updating
from zoo.yaml_input import LocatedMap, error_position, error_problem, load_located, read_utf8
from zoo.paths import unsafe_name_reason
from zoo.records import SourceRef
from zoo.weights.errors import LockFileError
from zoo.weights.integrity import hash_prefix_from_name

LOCK_VERSION = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_HEADER = """\
# zoo weights lock: SHA-256 and size of every verified weights file, by file name.
# Written by `zoo lock` (trust on first use); every later fetch is checked against it.
# Check it in. To accept a changed upstream file: `zoo lock --update MODEL`, then review the diff.
"""


@dataclass(frozen=True)
class LockEntry:
    """One pinned file."""

    file_name: str
    sha256: str
    size: int
    models: tuple[str, ...] = ()
    url: str = ""
    repo: str = ""
    """Hub files only: the repo, the pinned commit and the file's path in the repo."""
    commit: str = ""
    file: str = ""
    key: str = ""
    """The entry's key in the file: the file name, or the URL when another source's file
    of the same name (with no hash in it) holds the name already."""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.file_name)


@dataclass
class WeightsLock:
    """The lock file's content; :meth:`save` writes it atomically."""

    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)
    exists: bool = False

    def get(self, file_name: str, url: Optional[str] = None) -> Optional[LockEntry]:
        """The entry for ``file_name`` as served from ``url``.

        A name that carries its hash is one file wherever it comes from. Any other name
        is only the same file when the entry was pinned from the same URL (or from none):
        ``.../a/model.pth`` and ``.../b/model.pth`` are two files.
        """
        if url and url in self.entries and self.entries[url].file_name == file_name:
            return self.entries[url]
        entry = self.entries.get(file_name)
        if entry is None or not url or not entry.url or entry.url == url or hash_prefix_from_name(file_name):
            return entry
        return None

    def pin(self, file_name: str, sha256: str, size: int, *, model: str, url: str = "",
            repo: str = "", commit: str = "", file: str = "") -> LockEntry:
        """Record (or update) a file; the model joins the entry's model list."""
        old = self.get(file_name, None if commit else url or None)  # a Hub entry is keyed by repo/file
        if old is not None:
            key = old.key
        elif file_name in self.entries and url and not commit:
            key = url  # the name is another source's file
        else:
            key = file_name
        models = set(old.models) if old else set()
        models.add(model)
        entry = LockEntry(file_name, sha256, size, tuple(sorted(models)), url or (old.url if old else ""),
                          repo, commit, file, key)
        self.entries[key] = entry
        return entry

    def save(self) -> None:
        """Write the lock file atomically (:func:`zoo.atomic.write_atomic`: never half-written)."""
        files = {
            key: {**({"name": e.file_name} if key != e.file_name else {}),
                  "sha256": e.sha256, "size": e.size, "models": list(e.models), "url": e.url,
                  **({"repo": e.repo, "commit": e.commit, "file": e.file} if e.commit else {})}
            for key, e in sorted(self.entries.items())
        }
        text = _HEADER + yaml.safe_dump(
            {"version": LOCK_VERSION, "files": files}, sort_keys=False, default_flow_style=None, width=1000
        )
        write_atomic(self.path, text)
        self.exists = True


def load_lock(path: Path) -> WeightsLock:
    """Read a lock file; a missing file is an empty lock. Bad content raises
    :class:`~zoo.weights.errors.LockFileError` naming the file, line and field."""
    try:
        return _load(Path(path))
    except LockFileError:
        raise
    except InputError as exc:
        error = LockFileError(exc.detail if exc.source is None else str(exc).removesuffix(f" ({exc.hint})"), todo=exc.hint)
        error.source, error.column = exc.source, exc.column  # the place stays readable, as on every InputError
        raise error from None


@contextmanager
def update_lock(path: Path, *, timeout: Optional[float] = None) -> Iterator[WeightsLock]:
    """The lock file read, changed by the block and written back, all under its inter-process lock
    (:func:`zoo.file_lock.updating`), so concurrent ``zoo lock`` processes keep each other's pins.
    It is written only when the block changed an entry."""
    path = Path(path)
    with updating(path, timeout=timeout):
        lock = load_lock(path)
        before = dict(lock.entries)
        yield lock
        if lock.entries != before:
            lock.save()


def _load(path: Path) -> WeightsLock:
    if not path.exists():
        return WeightsLock(path=path)
    text = read_utf8(path, str(path), what="the lock file", hint="delete it and run `zoo lock` to write it again")
    try:
        data = load_located(text)  # safe, with limits on nesting and alias expansion
    except yaml.YAMLError as exc:
        line, column = error_position(exc)
        raise InputError(
            f"not valid YAML: {error_problem(exc)}",
            source=SourceRef(str(path), line or 1), column=column,
            hint="fix the file, or delete it and run `zoo lock` to write it again",
        ) from exc
    data = data or {}
    if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
        raise InputError(
            "expected a mapping with a 'files' mapping",
            source=SourceRef(str(path), 1),
            hint="delete it and run `zoo lock` to write it again",
        )
    version = data.get("version", LOCK_VERSION)
    if version != LOCK_VERSION:
        raise InputError(
            f"lock file version {version!r} is not supported (this zoo writes version {LOCK_VERSION})",
            source=SourceRef(str(path), _line_of(text, "version")),
            field="version",
        )
    entries = {}
    files = data.get("files") or {}
    for name, raw in files.items():
        line = files.line_of(name) if isinstance(files, LocatedMap) else _line_of(text, str(name))
        entries[str(name)] = _entry(path, line, str(name), raw)
    return WeightsLock(path=path, entries=entries, exists=True)


def _entry(path: Path, line: int, name: str, raw: Any) -> LockEntry:
    where = SourceRef(str(path), line)
    hint = f"fix it, or remove the entry and run `zoo lock` to pin {name} again"
    if not isinstance(raw, dict):
        raise InputError(f"entry {name!r} must be a mapping", source=where, hint=hint)

    def at(key: str) -> SourceRef:
        return SourceRef(str(path), raw.line_of(key)) if isinstance(raw, LocatedMap) and key in raw else where

    sha = str(raw.get("sha256", "")).lower()
    if not _SHA256.match(sha):
        raise InputError(
            f"{name}: sha256 must be 64 hex digits, got {raw.get('sha256')!r}", source=at("sha256"),
            field="sha256", hint=hint,
        )
    size = raw.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InputError(
            f"{name}: size must be a whole number of bytes, got {size!r}", source=at("size"),
            field="size", hint=hint,
        )
    models = raw.get("models") or []
    if isinstance(models, str):
        models = [models]
    commit = str(raw.get("commit") or "").lower()
    if commit and not (_COMMIT.match(commit) and raw.get("repo") and raw.get("file")):
        raise InputError(
            f"{name}: a Hub entry needs repo, file and a 40-hex commit, got commit {raw.get('commit')!r}",
            source=at("commit"), field="commit", hint=hint,
        )
    repo, file = (str(raw.get("repo") or ""), str(raw.get("file") or "")) if commit else ("", "")
    # Each of these becomes a path: in the Hub cache (repo, file) or in zoo's cache (name). The
    # lock file is input too (it arrives in pull requests), so each is checked here, where its line is known.
    problems = [("repo", _repo_problem(repo)), ("file", _repo_path_problem(file))] if commit else []
    file_name = str(raw.get("name") or name)
    if not commit:
        problems.append(("name" if raw.get("name") else "", unsafe_name_reason(file_name)))
    for field_name, problem in problems:
        if problem:
            shown = raw.get(field_name) if field_name else name
            raise InputError(f"{name}: {field_name or 'the key'} {shown!r} {problem}", source=at(field_name) if field_name else where,
                             field=field_name or None, hint=hint)
    return LockEntry(file_name, sha, size, tuple(str(m) for m in models), str(raw.get("url") or ""), repo, commit, file, name)


_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def _repo_problem(repo: str) -> Optional[str]:
    if not _REPO.fullmatch(repo) or ".." in repo:
        return "is not a Hub repo id (ORG/NAME)"
    return None


def _repo_path_problem(file: str) -> Optional[str]:
    """Why ``file`` is not a path inside a repo (``model.safetensors``, ``sub/model.bin``), or None."""
    if not file or file.startswith("/") or "\\" in file:
        return "is not a relative path inside the repo"
    for part in file.split("/"):
        problem = unsafe_name_reason(part)
        if problem is not None:
            return f"is not a path inside the repo: its part {part!r}: {problem}"
    return None


def _line_of(text: str, key: str) -> int:
    """1-based line where ``key:`` first appears (for error messages), else 1."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return number
    return 1


__all__ = ["LOCK_VERSION", "LockEntry", "WeightsLock", "load_lock", "update_lock"]
