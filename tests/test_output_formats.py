"""``--format json|csv`` on stdout with timm's field names, ``-q``, ``-v`` and ``zoo report --format``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from index_worlds import model_yaml, write
from zoo.cli.main import cli
from zoo.runs.store import list_runs

TIMM_HEAD = ["model", "top1", "top1_err", "top5", "top5_err", "param_count", "img_size", "crop_pct", "interpolation",
             "infer_samples_per_sec", "infer_step_time", "infer_batch_size", "infer_img_size", "infer_gmacs", "infer_macts"]


def verify(tmp_path: Path, *extra: str):
    # test_efficientnet: 356,196 parameters exactly; the FLOPs claim is far from any convention.
    index = write(tmp_path / "i.yml", model_yaml(flops=1000, params="356000"))
    args = ["verify", "--all", "--index", str(index), "--only", "config,params,flops", "--results", str(tmp_path / "runs"), *extra]
    return CliRunner().invoke(cli, args)


def test_verify_json_on_stdout_has_timms_fields_and_each_verdict(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = verify(tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stdout holds the JSON alone; progress and notes go to stderr
    assert data["exit_code"] == 0 and data["run_id"]
    [row] = data["results"]
    assert list(row)[: len(TIMM_HEAD)] == TIMM_HEAD
    assert row["model"] == "test_efficientnet"
    assert row["parameters"] == 356196 and row["param_count"] == 0.36
    assert row["img_size"] == 160 and row["top1"] is None  # accuracy was not asked for
    assert row["parameters_verdict"] == "pass" and row["flops_verdict"] == "drift"
    assert row["top1_verdict"] == "not asked for" and row["verdict"] == "drift"
    assert row["flops"] is not None and row["flops_convention"]  # the value the verdict judged, and its convention
    assert row["flops_primary"] is not None


def test_verify_csv_is_one_row_per_model_and_quiet_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = verify(tmp_path, "--format", "csv", "--no-record")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1 and rows[0]["model"] == "test_efficientnet" and rows[0]["parameters"] == "356196"
    assert result.stdout.splitlines()[0].startswith(",".join(TIMM_HEAD))
    quiet = verify(tmp_path, "-q", "--no-record")
    assert quiet.exit_code == 0
    assert quiet.stdout.strip().count("\n") == 0 and "-> exit 0" in quiet.stdout
    assert quiet.stderr == ""  # no progress, no notes


def test_report_format_prints_a_stored_runs_table_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = verify(tmp_path)
    [path] = list_runs(tmp_path / "runs")
    again = CliRunner().invoke(cli, ["report", str(path), "--format", "table", "--no-color"])
    assert again.exit_code == 0, again.output
    assert "test_efficientnet" in again.stdout and "drift" in again.stdout
    assert again.stdout.strip().splitlines()[-1] == first.stdout.strip().splitlines()[-1]  # the same summary line
    data = json.loads(CliRunner().invoke(cli, ["report", str(path), "--format", "json"]).stdout)
    assert data["results"][0]["parameters"] == 356196


def test_csv_columns_do_not_depend_on_what_was_measured_and_carry_timms_step_time_and_macts(tmp_path: Path, monkeypatch) -> None:
    import timm
    import torch
    from fvcore.nn import ActivationCountAnalysis

    monkeypatch.chdir(tmp_path)
    index = write(tmp_path / "i.yml", model_yaml(flops=1000, params="356000"))

    def csv_of(only: str) -> tuple[list[str], dict[str, str]]:
        result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", only, "--no-record", "--format", "csv",
                                          "--device", "cpu", "--batch-size", "2", "--rounds", "2"])
        assert result.exit_code == 0, result.output
        reader = csv.DictReader(io.StringIO(result.stdout))
        return list(reader.fieldnames or []), next(reader)

    params_header, _ = csv_of("params")
    header, row = csv_of("params,flops,throughput")
    assert header == params_header  # --only no longer changes the columns
    step = float(row["infer_step_time"])
    assert abs(step - 1000 * 2 / float(row["infer_samples_per_sec"])) < 0.01 * step  # ms per batch of 2
    model = timm.create_model("test_efficientnet").eval()
    expected = ActivationCountAnalysis(model, torch.ones(1, 3, 160, 160)).unsupported_ops_warnings(False).total()
    assert float(row["infer_macts"]) == round(expected / 1e6, 2)
