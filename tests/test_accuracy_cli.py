"""The evaluation flags, per-image predictions on disk, and `zoo diff` between two runs."""

from __future__ import annotations

import csv
from pathlib import Path

import click
import numpy as np
import pytest
from conftest import card, accuracy_entry, fast_eval_options
from accuracy_world import SCORED, grey_image, grey_plan, grey_wnids, GreyModel, write_grey_class_folders
from click.testing import CliRunner

from zoo.cli import diff_cmd
from zoo.cli.declared import click_options, options_from
from zoo.errors import InputError
from zoo.runs.diff import diff_predictions
from zoo.measure.accuracy.options import EvalOptions
from zoo.runs.predictions import ImagePredictions, read_predictions, write_predictions
from zoo.measure.accuracy.measure import measure_accuracy
from zoo.records import Environment, ModelResult, RunRecord


def parse(args: list[str], with_bench: bool = False) -> EvalOptions:
    seen: dict = {}

    @click.command()
    @click_options(EvalOptions)
    def command(**kw):
        seen.update(kw)

    if with_bench:
        command = click.option("--device", default=None)(
            click.option("--channels-last/--no-channels-last", default=None)(command)
        )
    result = CliRunner().invoke(command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return options_from(EvalOptions, seen)


def test_flags_become_eval_options_and_env_fills_the_rest(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_IMAGENET", "/data/imagenet/val")
    monkeypatch.setenv("ZOO_EVAL_LIMIT", "5000")
    monkeypatch.delenv("ZOO_IMAGENET_LABELS", raising=False)
    monkeypatch.delenv("ZOO_EVAL_WORKERS", raising=False)
    options = parse(
        [
            "--eval-batch-size",
            "128",
            "--workers",
            "0",
            "--amp",
            "bf16",
            "--eval-channels-last",
            "--interval",
            "clopper-pearson",
        ]
    )
    assert options.data == "/data/imagenet/val" and options.limit == 5000
    assert (options.batch_size, options.workers, options.amp, options.channels_last) == (128, 0, "bf16", True)
    assert options.interval == "clopper-pearson" and options.device == "auto"
    flagged = parse(["--data", "hf:ILSVRC/imagenet-1k", "--limit", "100", "--subset-seed", "3"])
    assert (flagged.data, flagged.limit, flagged.seed) == ("hf:ILSVRC/imagenet-1k", 100, 3)


def test_shared_device_and_channels_last_flags_are_the_fallback(monkeypatch):
    monkeypatch.delenv("ZOO_EVAL_LIMIT", raising=False)
    assert parse(["--device", "cpu", "--channels-last"], with_bench=True).device == "cpu"
    assert parse(["--device", "cpu", "--channels-last"], with_bench=True).channels_last is True
    own = parse(
        ["--device", "cuda", "--eval-device", "cpu", "--channels-last", "--no-eval-channels-last"], with_bench=True
    )
    assert own.device == "cpu" and own.channels_last is False


def test_bad_values_are_input_errors(monkeypatch):
    monkeypatch.setenv("ZOO_EVAL_LIMIT", "lots")
    with pytest.raises(InputError, match=r"ZOO_EVAL_LIMIT=\'lots\' is not a whole number"):
        EvalOptions.from_env()
    with pytest.raises(InputError, match="--limit must be a positive"):
        EvalOptions(limit=0)
    with pytest.raises(InputError, match="--amp must be one of"):
        EvalOptions(amp="int8")


def _predictions(model: str, names: list[str], labels: list[int], top1: list[int]) -> ImagePredictions:
    topk = np.stack([np.asarray(top1)] + [np.asarray(top1) + i for i in range(1, 5)], axis=1)
    return ImagePredictions(model, tuple(names), np.asarray(labels), topk)


def test_predictions_round_trip_and_the_diff_logic(tmp_path):
    a = [_predictions("m", ["x", "y", "z", "w"], [1, 2, 3, 4], [1, 9, 3, 7]), _predictions("gone", ["x"], [1], [1])]
    b = [_predictions("m", ["y", "x", "z", "v"], [2, 1, 3, 5], [2, 1, 8, 5]), _predictions("new", ["x"], [1], [1])]
    write_predictions(tmp_path / "a.parquet", a)
    write_predictions(tmp_path / "b.parquet", b)
    assert not list(tmp_path.glob(".*part"))
    read_a = read_predictions(tmp_path / "a.parquet")
    assert list(read_a) == ["m", "gone"]
    assert read_a["m"].names == ("x", "y", "z", "w") and read_a["m"].topk.tolist() == a[0].topk.tolist()
    result = diff_predictions(read_a, read_predictions(tmp_path / "b.parquet"))
    assert result.only_in_a == ["gone"] and result.only_in_b == ["new"]
    (diff,) = result.models
    assert diff.common == 3 and diff.only_in_a == 1 and diff.only_in_b == 1
    assert [(c.name, c.before, c.after, c.change) for c in diff.changed] == [
        ("y", 9, 2, "fixed"),
        ("z", 3, 8, "broken"),
    ]


def _run(results: Path, run_id: str, data: Path) -> Path:
    from zoo.runs.store import publish, staging

    model_card = card("grey", **SCORED)
    with staging(results, run_id) as folder:
        outcome = measure_accuracy([accuracy_entry(model_card, GreyModel())], fast_eval_options(data), folder)
        record = RunRecord(
            run_id=run_id,
            started="2026-01-01T00:00:00+00:00",
            finished="2026-01-01T00:01:00+00:00",
            environment=Environment(python="3", platform="linux", hostname="h", cpu="c", cpu_threads=2, torch="2"),
            index=["metadata/"],
            measurements_requested=["top1", "top5"],
            models=[ModelResult(card=model_card, measurements=outcome.measurements["grey"])],
            artifacts=outcome.artifacts,
        )
        return publish(record, folder)


def test_zoo_diff_lists_the_images_whose_prediction_changed(tmp_path):
    before = write_grey_class_folders(tmp_path / "before")
    after = write_grey_class_folders(tmp_path / "after")
    wnids, plan = grey_wnids(), grey_plan()
    # image 1 shows class 1 in class 0's folder (wrong); now it shows class 0 (fixed).
    grey_image(0).save(after / wnids[0] / f"{plan[0].name}.png")
    # image 5 is class 1 and right; now it shows class 3 (broken).
    grey_image(3).save(after / wnids[1] / f"{plan[4].name}.png")
    run_a = _run(tmp_path / "runs", "run-a", before)
    run_b = _run(tmp_path / "runs", "run-b", after)

    result = CliRunner().invoke(
        diff_cmd.command, [str(run_a.parent), str(run_b), "--csv", str(tmp_path / "changed.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "grey: 2 of 40 images changed top-1 (fixed 1, broken 1, wrong to wrong 0)" in result.output
    lines = [line.split() for line in result.output.splitlines() if line.strip().startswith("ILSVRC2012_val_")]
    assert lines == [
        ["ILSVRC2012_val_00000001.png", "0", "100", "0", "fixed"],
        ["ILSVRC2012_val_00000005.png", "100", "100", "300", "broken"],
    ]
    with open(tmp_path / "changed.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["image"], r["change"]) for r in rows] == [
        ("grey", "ILSVRC2012_val_00000001.png", "fixed"),
        ("grey", "ILSVRC2012_val_00000005.png", "broken"),
    ]
    same = CliRunner().invoke(diff_cmd.command, [str(run_a), str(run_a)])
    assert "grey: 0 of 40 images changed top-1" in same.output


def test_zoo_diff_on_a_run_without_predictions_says_why(tmp_path):
    from zoo.runs.store import save_run

    record = RunRecord(
        run_id="plain",
        started="s",
        finished="f",
        environment=Environment(python="3", platform="linux", hostname="h", cpu="c", cpu_threads=2, torch="2"),
        index=[],
        measurements_requested=["parameters"],
    )
    path = save_run(record, tmp_path)
    result = CliRunner().invoke(diff_cmd.command, [str(path), str(path)])
    assert result.exit_code == 2
    assert "stored no per-image predictions" in result.output and "zoo verify --data" in result.output


def test_diff_is_registered_with_the_zoo_command():
    from zoo.cli.main import cli

    assert cli.get_command(None, "diff") is diff_cmd.command
