"""Hostile baseline files (issue #20, items 2, 3, 9): a baseline is input, read by one validated
reader that checks its schema, types, uniqueness and ranges before anything uses it, and refuses
a file that fails with the file's name and the reason (exit 2): ``zoo baseline show`` and
``zoo diff`` never crash, hang or take memory without bound on one."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from zoo.cli import baseline_cmd, diff_cmd
from zoo.runs.baselines import METADATA_KEY, Baseline, BaselineInfo, save_baseline
from zoo.runs.predictions import ImagePredictions

ROOT = Path(__file__).resolve().parents[1]
NAMES = [f"img{i}.png" for i in range(6)]
LABELS = np.array([1, 2, 3, 4, 5, 6], dtype=np.int16)
INFO = BaselineInfo(
    model="m", run_id="r1", created="2026-12-01T00:00:00+00:00", checkpoint_sha256="a" * 64,
    transform="Resize(73) bicubic, CenterCrop(64)", dataset_fingerprint="f00d", dataset="val", dataset_images=6,
    population=6, images=6, top1=100.0, top5=100.0, environment={"torch": "2.x"},
)


def craft(folder: Path, *, name: str = "m.parquet", info: dict | None = None, metadata: bytes | None = None,
          **columns: pa.Array) -> Path:
    """A baseline file written by hand with pyarrow, as a stranger's commit could: every label right,
    description to match, then ``columns`` and ``info`` replaced."""
    table = {"image": pa.array(NAMES, pa.string()), "label": pa.array(LABELS, pa.int16()),
             **{f"pred{i}": pa.array(LABELS, pa.int16()) for i in range(1, 6)}}
    table.update(columns)
    described = {**asdict(INFO), "format_version": 1, **(info or {})}
    raw = metadata if metadata is not None else json.dumps(described).encode()
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(table).replace_schema_metadata({METADATA_KEY: raw}), path, compression="zstd")
    return path


def show(folder: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(baseline_cmd.command, ["show", "--dir", str(folder)])


def refused(result, path: Path, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    assert str(path) in result.output and reason in result.output, result.output


def test_a_hand_made_file_that_is_right_is_read(tmp_path):
    craft(tmp_path / "b")
    result = show(tmp_path / "b")
    assert result.exit_code == 0 and "m: 6 of 6 images, top-1 100.000%" in result.output, result.output


def test_metadata_json_nested_thousands_deep_is_refused(tmp_path):
    nested = json.dumps({**asdict(INFO), "format_version": 1}).replace('"environment": {', '"environment": {"x": '
                                                                       + "[" * 5000 + "]" * 5000 + ", ").encode()
    path = craft(tmp_path / "b", metadata=nested)
    refused(show(tmp_path / "b"), path, "nested")
    refused(CliRunner().invoke(diff_cmd.command, [str(path), str(path)]), path, "nested")


@pytest.fixture(scope="module")
def two_hundred_million_rows(tmp_path_factory) -> Path:
    """5 MB of zstd holding 200,000,000 rows: 50 row groups of one repeated 4,000,000-row table."""
    folder = tmp_path_factory.mktemp("big")
    rows = 4_000_000
    zeros = pa.array(np.zeros(rows, dtype=np.int16))
    table = pa.table({"image": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array(["a.png"])),
                      "label": zeros, **{f"pred{i}": zeros for i in range(1, 6)}})
    info = {**asdict(INFO), "format_version": 1, "population": 200_000_000, "dataset_images": 200_000_000,
            "images": 200_000_000, "top1": 100.0}
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(info).encode()})
    path = folder / "b" / "m.parquet"
    path.parent.mkdir()
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(50):
            writer.write_table(table, row_group_size=rows)
    return path


def _limited(limit_bytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.slow  # writing the 200,000,000 rows takes 10-25 s
@pytest.mark.parametrize("command", ["show", "diff"])
def test_a_baseline_of_two_hundred_million_rows_is_refused_before_it_is_read(two_hundred_million_rows, command):
    path = two_hundred_million_rows
    args = ["baseline", "show", "--dir", str(path.parent)] if command == "show" else ["diff", str(path), str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOO_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-m", "zoo", *args], env=env, capture_output=True, text=True, timeout=60,
                          preexec_fn=_limited(3 << 30))
    assert done.returncode == 2, done.stdout + done.stderr[-3000:]
    assert str(path) in done.stderr and "200,000,000 rows" in done.stderr, done.stderr[-3000:]


@pytest.mark.parametrize(
    "tamper,reason",
    [
        ({"info": {"top1": float("nan")}}, "not a finite number"),
        ({"pred1": pa.array([np.nan, 2, 3, 4, 5, 6], pa.float64())}, "pred1"),
        ({"label": pa.array(np.array([1, 2, 3, 4, 5, 6]) + 2**32, pa.int64())}, "label"),
        ({"image": pa.array(["a.png"] * 2 + NAMES[2:], pa.string())}, "'a.png' appears 2 times"),
        ({"image": pa.array([b"\xff\x00a"] + [n.encode() for n in NAMES[1:]], pa.binary())}, "image"),
        ({"info": {"model": "../../x/evil"}}, "../../x/evil"),
        ({"label": pa.array([1, 2, 3, 4, 5, -7], pa.int16())}, "label"),
        ({"pred2": pa.array([1, 2, 3, 4, 5, None], pa.int16())}, "pred2"),
        ({"info": {"images": -6, "population": -6, "dataset_images": -6}}, "images"),
    ],
    ids=["nan-top1", "nan-predictions", "int64-labels-wrapping", "duplicate-names", "binary-names", "model-path",
         "negative-label", "missing-prediction", "negative-counts"],
)
def test_a_tampered_baseline_is_refused_with_the_file_and_the_reason(tmp_path, tamper, reason):
    tamper = dict(tamper)
    path = craft(tmp_path / "b", info=tamper.pop("info", None), **tamper)
    refused(show(tmp_path / "b"), path, reason)


def _saved(folder: Path) -> Path:
    names = tuple(f"n{i:05d}.JPEG" for i in range(2000))
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 1000, 2000)
    topk = np.stack([labels, *(rng.integers(0, 1000, 2000) for _ in range(4))], axis=1)
    info = BaselineInfo(**{**asdict(INFO), "population": 2000, "dataset_images": 2000, "images": 2000, "top1": 100.0,
                           "top5": 100.0})
    return save_baseline(folder, Baseline(info, ImagePredictions("m", names, labels, topk), Path("m.parquet")))


def test_a_baseline_with_one_byte_flipped_anywhere_in_the_middle_is_refused(tmp_path):
    original = _saved(tmp_path / "orig").read_bytes()
    assert show(tmp_path / "orig").exit_code == 0
    size = len(original)
    for position in range(size // 4, 3 * size // 4, max(1, size // 40)):
        flipped = bytearray(original)
        flipped[position] ^= 0x01
        folder = tmp_path / f"flip{position}"
        folder.mkdir()
        (folder / "m.parquet").write_bytes(bytes(flipped))
        result = show(folder)
        assert result.exit_code == 2, (position, size, result.output)
        assert str(folder / "m.parquet") in result.output and "internal error" not in result.output, result.output

