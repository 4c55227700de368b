"""Property (issue #20): whatever a run record or a baseline file holds (a value replaced anywhere
by another type, NaN, Infinity, a number beyond range, nesting thousands deep, text with escape
sequences or formulas, a path out of the folder; a parquet table with any column types, nulls,
duplicates and metadata), ``zoo report``, ``zoo gate``, ``zoo diff`` and ``zoo baseline show``
never crash (exit 4), print escapes raw, write a formula cell, or write outside their folders.
Example counts stay small so the suite stays fast (``ZOO_HYPOTHESIS_EXAMPLES`` for a longer hunt)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from fixtures.runs.world import CLAIMS, Outcome, make_run, write_index, write_tolerances
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_world import snapshot
from zoo.cli import baseline_cmd, diff_cmd, gate_cmd, report_cmd
from zoo.records import to_json_dict
from zoo.runs.baselines import METADATA_KEY
from zoo.runs.predictions import ImagePredictions, write_predictions

SETTINGS = settings(max_examples=int(os.environ.get("ZOO_HYPOTHESIS_EXAMPLES", "15")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NESTED = "<<nested>>"
HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "+SUM(1)", "@x", "-1+1", "\x1b[2J", "\x1b]0;t\x07", "\x9b2J", "\u202eevil",
                     "../../x", "/etc/passwd", "[link=http://x]y[/link]", "x" * 5000, "", "nan", "1e400"]),
)
HOSTILE_VALUE = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(), st.booleans(),
    st.just(NESTED),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _get(document: Any, path: tuple) -> Any:
    for part in path:
        document = document[part]
    return document


def _set(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


def _text(document: Any) -> str:
    text = json.dumps(document, allow_nan=True, ensure_ascii=False)
    return text.replace(json.dumps(NESTED), "[" * 3000 + "]" * 3000)


def _safe_output(result: Any) -> None:
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.output[-3000:])
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output[-3000:]
    assert not any(c in result.output for c in ("\x1b", "\x07", "\x9b")), repr(result.output[-2000:])


def _safe_csv(path: Path) -> None:
    if path.exists():
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(cell)  # only a plain number may start like a formula


@SETTINGS
@given(data=st.data())
def test_no_run_record_crashes_a_view_or_writes_outside(data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = os.getcwd()
        os.chdir(root)
        try:
            write_index(root)
            write_tolerances(root)
            runs = root / "runs" / "r1"
            runs.mkdir(parents=True)
            names = tuple(f"img{i}.png" for i in range(4))
            write_predictions(runs / "predictions.parquet",
                              [ImagePredictions("mobilenetv2_100", names, np.arange(4), np.tile(np.arange(5), (4, 1)))])
            document = to_json_dict(make_run(root, {name: Outcome() for name in CLAIMS}, run_id="r1"))
            document["artifacts"] = {"predictions": "predictions.parquet"}
            for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
                places = _paths(document)
                if data.draw(st.booleans()):  # any value becomes anything: the record is damaged
                    document = _set(document, data.draw(st.sampled_from(places)), data.draw(HOSTILE_VALUE))
                    continue
                # a text or a number becomes a hostile one of its kind: the record stays valid, the views see it
                texts = [path for path in places if path and isinstance(_get(document, path), str)]
                numbers = [path for path in places if path and type(_get(document, path)) in (int, float)]
                if texts and data.draw(st.booleans()):
                    document = _set(document, data.draw(st.sampled_from(texts)), data.draw(HOSTILE_TEXT))
                elif numbers:
                    number = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False) | st.integers(-(2**62), 2**62)
                    document = _set(document, data.draw(st.sampled_from(numbers)), data.draw(number))
            (runs / "run.json").write_text(_text(document), encoding="utf-8")
            (root / "victim.txt").write_text("precious")
            before = snapshot(root, [root / "runs", root / "out"])
            runner = CliRunner()
            env = {"ZOO_PROGRESS": "0"}
            for args in ([report_cmd, str(runs), "--html", "out/html", "--csv", "out/claims.csv", "--markdown", "-"],
                         [gate_cmd, str(runs), "--stored-claims", "--junit", "out/junit.xml"],
                         [diff_cmd, str(runs), str(runs), "--csv", "out/diff.csv"]):
                _safe_output(runner.invoke(args[0].command, args[1:], env=env))
            _safe_csv(root / "out" / "claims.csv")
            _safe_csv(root / "out" / "diff.csv")
            assert snapshot(root, [root / "runs", root / "out"]) == before
        finally:
            os.chdir(old)


ID_TYPES = st.sampled_from([pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.float64(), pa.string()])


@st.composite
def baseline_tables(draw: Any) -> tuple[pa.Table, bytes]:
    rows = draw(st.integers(min_value=0, max_value=6))
    names = draw(st.lists(HOSTILE_TEXT, min_size=rows, max_size=rows))
    columns: dict[str, pa.Array] = {}
    if draw(st.booleans()):
        columns["image"] = pa.array([n.encode("utf-8", "surrogatepass") for n in names], pa.binary())
    else:
        columns["image"] = pa.array(names, pa.string())
    for name in ["label"] + [f"pred{i}" for i in range(1, 6)]:
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            continue  # a column left out
        kind = draw(ID_TYPES)
        values = draw(st.lists(st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.none()), min_size=rows, max_size=rows))
        if pa.types.is_string(kind):
            columns[name] = pa.array([None if v is None else str(v) for v in values], kind)
        elif pa.types.is_floating(kind):
            columns[name] = pa.array([float("nan") if v is None else float(v) for v in values], kind)
        else:
            bits = kind.bit_width
            columns[name] = pa.array([None if v is None else v % (2 ** (bits - 1)) for v in values], kind)
    info: dict[str, Any] = {
        "model": "m", "run_id": "r", "created": "c", "checkpoint_sha256": "a" * 64, "transform": "t",
        "dataset_fingerprint": "f", "dataset": "d", "dataset_images": rows, "population": rows, "images": rows,
        "top1": 100.0, "top5": 100.0, "environment": {}, "format_version": 1,
    }
    for key in draw(st.lists(st.sampled_from(sorted(info)), max_size=3)):
        info[key] = draw(HOSTILE_VALUE)
    return pa.table(columns), _text(info).encode("utf-8", "surrogatepass")


@SETTINGS
@given(table=baseline_tables())
def test_no_baseline_file_crashes_show_or_diff(table):
    columns, metadata = table
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "b"
        folder.mkdir()
        path = folder / "m.parquet"
        pq.write_table(columns.replace_schema_metadata({METADATA_KEY: metadata}), path)
        runner = CliRunner()
        shown = runner.invoke(baseline_cmd.command, ["show", "--dir", str(folder)])
        diffed = runner.invoke(diff_cmd.command, [str(path), str(path), "--csv", str(Path(tmp) / "d.csv")])
        for result in (shown, diffed):
            _safe_output(result)
            assert result.exit_code in (0, 2)
        _safe_csv(Path(tmp) / "d.csv")
