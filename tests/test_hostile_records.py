"""Hostile run records (issue #20, items 2, 4, 5, 10, 12): a ``run.json`` is input like a card.
Nested thousands deep, holding NaN or Infinity, naming a model with megabytes of text, pointing
its artifacts outside its folder, or written to a disk that fills: every command ends with an
explained exit code (never 4), and nothing half-written is left."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures.runs.world import CLAIMS, Outcome, enter_world, make_run

from hostile_world import snapshot
from zoo.cli import diff_cmd, gate_cmd, report_cmd
from zoo.runs.predictions import ImagePredictions, write_predictions
from zoo.runs.store import save_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_world(tmp_path, monkeypatch)


def saved_run(world: Path, run_id: str = "20250601T120000Z-abc123") -> Path:
    """A run folder with per-image predictions, as `zoo verify --data` leaves one."""
    run = make_run(world, {name: Outcome() for name in CLAIMS}, run_id=run_id)
    folder = save_run(run, world / "runs").parent
    names = tuple(f"img{i}.png" for i in range(4))
    write_predictions(folder / "predictions.parquet",
                      [ImagePredictions("mobilenetv2_100", names, np.arange(4), np.tile(np.arange(5), (4, 1)))])
    data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    data["artifacts"] = {"predictions": "predictions.parquet"}
    (folder / "run.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def edit(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite ``run.json`` as text: ``change`` gets the JSON text and returns the new text."""
    path = folder / "run.json"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def invoke(command, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command.command, list(args), env={"ZOO_PROGRESS": "0"})


def no_crash(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code != 4 and "internal error" not in result.output and "Traceback" not in result.output, result.output


# --------------------------------------------------------------------------- item 2: nesting


def test_a_run_record_nested_thousands_deep_is_bad_input_for_report_gate_and_diff(world):
    folder = saved_run(world)
    other = saved_run(world, "20250601T130000Z-def456")
    edit(folder, lambda text: text.replace('"options": {', '"options": {"nest": ' + "[" * 5000 + "]" * 5000 + ", ", 1))
    for result in (invoke(report_cmd, str(folder), "--markdown", "-"), invoke(gate_cmd, str(folder), "--stored-claims"),
                   invoke(diff_cmd, str(folder), str(other))):
        no_crash(result)
        assert result.exit_code == 2, result.output
        assert str(folder / "run.json") in result.output and "nested" in result.output, result.output


# --------------------------------------------------------------------------- item 4: numbers that are not numbers


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_measured_value_that_is_not_a_finite_number_is_bad_input(world, value):
    folder = saved_run(world)
    # the first model's top-1 measurement holds the value
    edit(folder, lambda text: re.sub(r'("metric": "top1", "status": "ok", "value": )[0-9.]+', r"\g<1>" + value, text, count=1))
    assert value in (folder / "run.json").read_text()
    report = invoke(report_cmd, str(folder), "--html", str(world / "out"))
    gate = invoke(gate_cmd, str(folder), "--stored-claims")
    for result in (report, gate):
        no_crash(result)
        assert result.exit_code == 2, result.output
        assert "not a finite number" in result.output and "mobilenetv2_100" in result.output and "top1" in result.output
        assert "pass (exit 0)" not in result.output
    assert not (world / "out").exists()


# --------------------------------------------------------------------------- item 5: long names


def test_a_model_name_of_four_megabytes_is_shortened_for_display_and_kept_whole_in_data(world):
    folder = saved_run(world)
    long_name = "m" * (4 << 20)
    edit(folder, lambda text: text.replace("mobilenetv2_110d", long_name))
    out = world / "out"
    # --stored-claims: the renamed model is judged on the claims stored with it (the index knows no such model)
    result = invoke(report_cmd, str(folder), "--stored-claims", "--html", str(out), "--csv", str(world / "claims.csv"))
    no_crash(result)
    assert result.exit_code == 0, result.output[-2000:]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert long_name not in page and "m" * 40 + "…" in page
    assert long_name in (world / "claims.csv").read_text(encoding="utf-8")  # data keeps it whole
    table = invoke(report_cmd, str(folder), "--stored-claims", "--format", "table")
    no_crash(table)
    assert long_name not in table.output and "m" * 40 + "…" in table.output


# --------------------------------------------------------------------------- item 10: paths in a record


@pytest.mark.parametrize("where", ["outside", "absolute"])
def test_a_record_cannot_point_diff_at_a_file_outside_its_folder(world, where):
    folder = saved_run(world)
    other = saved_run(world, "20250601T130000Z-def456")
    planted = world / "elsewhere" / "predictions.parquet"
    planted.parent.mkdir()
    shutil.copy(folder / "predictions.parquet", planted)
    target = str(planted) if where == "absolute" else "../../elsewhere/predictions.parquet"
    edit(folder, lambda text: text.replace('"predictions": "predictions.parquet"', f'"predictions": {json.dumps(target)}'))
    result = invoke(diff_cmd, str(folder), str(other))
    no_crash(result)
    assert result.exit_code == 2, result.output
    assert "artifacts" in result.output and "outside" in result.output and str(folder / "run.json") in result.output


# --------------------------------------------------------------------------- item 12: a disk that fills


def _unshare() -> list[str]:
    """A command prefix that can mount a tmpfs: a new mount namespace (as root, or in a user namespace)."""
    probe = ["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d"]
    if shutil.which("unshare") is None or subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs unshare and user namespaces, or root)")
    return ["unshare", "-rm"]


def on_full_disk(world: Path, size_kb: int, free_kb: int, zoo_args: list[str]) -> tuple[int, str, list[str]]:
    """Run ``python -m zoo ZOO_ARGS`` with ``world/disk`` a tmpfs of ``size_kb`` that has ``free_kb`` left;
    returns (exit code, output, every path left on the tmpfs afterwards)."""
    disk = world / "disk"
    disk.mkdir()
    listing = world / "listing.txt"
    script = (
        f'mount -t tmpfs -o size={size_kb}k tmpfs "{disk}" && '
        f'head -c {(size_kb - free_kb) * 1024} /dev/zero > "{disk}/filler"; '
        f'"$@"; code=$?; (cd "{disk}" && find . -mindepth 1 | sort) > "{listing}"; exit $code'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOO_PROGRESS": "0"}
    done = subprocess.run([*_unshare(), "sh", "-c", script, "sh", sys.executable, "-m", "zoo", *zoo_args],
                          cwd=world, env=env, capture_output=True, text=True, timeout=300)
    left = [line[2:] for line in listing.read_text().splitlines()] if listing.exists() else []
    return done.returncode, done.stdout + done.stderr, left


def test_report_on_a_full_disk_is_incomplete_names_the_path_and_leaves_no_partial_assets(world):
    folder = saved_run(world)
    code, output, left = on_full_disk(world, 512, 60, [
        "report", str(folder), "--html", str(world / "disk" / "report")])
    assert code == 3, output
    assert "no space" in output.lower() and str(world / "disk" / "report") in output, output
    assert left == ["filler"], left


def test_gate_junit_on_a_full_disk_is_incomplete_and_names_the_path(world):
    folder = saved_run(world)
    code, output, left = on_full_disk(world, 64, 4, ["gate", str(folder), "--junit", str(world / "disk" / "junit.xml")])
    assert code == 3, output
    assert "no space" in output.lower() and str(world / "disk" / "junit.xml") in output, output
    assert left == ["filler"], left


def test_nothing_outside_the_results_and_report_folders_changes(world):
    folder = saved_run(world)
    before = snapshot(world, [world / "runs", world / "out"])
    edit(folder, lambda text: text.replace('"predictions": "predictions.parquet"', '"predictions": "../../metadata/zoo.yml"'))
    for result in (invoke(report_cmd, str(folder), "--html", str(world / "out")), invoke(diff_cmd, str(folder), str(folder))):
        no_crash(result)
    assert snapshot(world, [world / "runs", world / "out"]) == before


def test_a_run_record_that_is_a_fifo_is_refused_not_waited_on(world):
    """Beyond the issue's list: reading a FIFO blocks until someone writes to it; a record is read only
    when it is a regular file."""
    folder = saved_run(world)
    (folder / "run.json").unlink()
    os.mkfifo(folder / "run.json")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOO_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-m", "zoo", "gate", str(folder), "--stored-claims"], cwd=world, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not a regular file" in done.stderr and str(folder / "run.json") in done.stderr
