"""Run records on disk: one folder per run holding ``run.json`` and its artifacts.

A run is written into a hidden staging folder and renamed into place only when complete,
so an interrupted run never leaves a half-written record among the results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from pydantic import ValidationError

from zoo.atomic import write_atomic
from zoo.errors import InputError
from zoo.inert import inert_text, shortened
from zoo.json_input import JSONInputError, read_json_file
from zoo.paths import inside
from zoo.records import SCHEMA_VERSION, RunRecord, from_json_dict, to_json_dict
from zoo.runs.schema import upgrade

RUN_FILE = "run.json"
DEFAULT_RESULTS_DIR = Path("runs")
RESULTS_ENV = "ZOO_RESULTS"


def results_dir(option: Union[str, Path, None] = None) -> Path:
    """``--results``, else ``$ZOO_RESULTS``, else ``runs/``."""
    return Path(option or os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS_DIR)


def new_run_id(now: Optional[dt.datetime] = None) -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@contextmanager
def staging(results: Path, run_id: str) -> Iterator[Path]:
    """A private folder to write a run into; removed if the block does not complete."""
    results.mkdir(parents=True, exist_ok=True)
    folder = inside(results, results / f".staging-{run_id}")  # a run id read from a record is untrusted
    folder.mkdir()
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def publish(record: RunRecord, staged: Path) -> Path:
    """Write ``run.json`` into ``staged`` and move the folder into place; returns the run.json path."""
    payload = json.dumps(to_json_dict(record), indent=2, sort_keys=False)
    write_atomic(staged / RUN_FILE, payload + "\n")
    final = inside(staged.parent, staged.parent / record.run_id)
    os.replace(staged, final)
    return final / RUN_FILE


def save_run(record: RunRecord, results: Path) -> Path:
    """Write a run with no artifacts; returns the path of its run.json."""
    with staging(results, record.run_id) as folder:
        return publish(record, folder)


def run_file(path: Union[str, Path]) -> Path:
    """The run.json a user meant: the file itself or the one inside a run folder."""
    path = Path(path)
    return path / RUN_FILE if path.is_dir() else path


RECORD_MAX_BYTES = 256 << 20
"""Largest run.json read (a record of a whole zoo with every changed image listed is a few MB)."""


def load_run(path: Union[str, Path]) -> RunRecord:
    """Read a run record, with errors that name the file and the bad field.

    The record is input like a card: it is read with the one bounded JSON reader
    (:func:`zoo.json_input.read_json_file`: size, nesting, finite numbers), then validated field by field.
    """
    file = run_file(path)
    try:
        data = read_json_file(file, max_bytes=RECORD_MAX_BYTES)
    except FileNotFoundError:
        raise InputError(f"no run record at {file}", hint="pass a run folder or its run.json (see `ls runs/`)") from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read run record: {exc.strerror or exc}", hint="check the file's permissions") from None
    except JSONInputError as exc:
        where = record_place(exc.document, exc.path) if exc.path else ""
        raise InputError(f"{file}: cannot read run record: {where + ': ' if where else ''}{exc.reason}",
                         hint="the file is damaged or was altered; re-run `zoo verify`") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    try:
        data = upgrade(data) if isinstance(data, dict) else data
    except ValueError:
        raise InputError(
            f"{file}: run record schema {version!r} is not one this zoo reads (1 to {SCHEMA_VERSION})",
            hint="re-run `zoo verify` with this zoo version, or read the record with the zoo that wrote it",
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{file}: run record schema {version!r} is not the supported {SCHEMA_VERSION}", hint="re-run `zoo verify` with this zoo version")
    try:
        return from_json_dict(RunRecord, data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = record_place(data, tuple(first["loc"]))
        raise InputError(f"{file}: run record field {where}: {first['msg']}", hint="the file is damaged or from another tool") from None


def record_place(data: Any, path: tuple[Any, ...]) -> str:
    """A place in a run record's JSON as a person reads it: ``models[1] (mobilenetv2_110d).measurements[9] (top1).value``."""
    text, node = "", data
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(part, int) and isinstance(node, dict):
            card = node.get("card")
            label = card.get("name") if isinstance(card, dict) else node.get("metric")
            if isinstance(label, str):
                text += f" ({inert_text(shortened(label))})"
    return text


def artifact_path(file: Path, record: RunRecord, name: str) -> Optional[Path]:
    """The file a record names as its artifact ``name`` (``None`` when it names none), proven inside
    the run's own folder: a record is input, and ``../x`` or an absolute path is refused."""
    relative = record.artifacts.get(name)
    if not relative:
        return None
    folder = Path(os.path.realpath(file.parent))
    # Resolved whole, the last part too: the file is read, so a link planted at its name is followed here.
    real = Path(os.path.realpath(folder / relative))
    if folder not in real.parents:
        raise InputError(
            f"{file}: run record field artifacts.{name}: {inert_text(shortened(relative, 200))!r} is outside the run's "
            f"folder {file.parent}",
            hint="a record names its files relative to its own folder; the record was altered, or copied without them",
        )
    return real


def list_runs(results: Path) -> list[Path]:
    """run.json files under ``results``, oldest first (run ids sort by time)."""
    if not results.is_dir():
        return []
    return sorted(p / RUN_FILE for p in results.iterdir() if not p.name.startswith(".") and (p / RUN_FILE).is_file())


def latest_run(results: Path) -> Path:
    runs = list_runs(results)
    if not runs:
        raise InputError(f"no runs in {results}", hint="run `zoo verify` first, or pass run records explicitly")
    return runs[-1]
