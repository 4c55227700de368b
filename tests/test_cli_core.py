"""The command line over the library: list, show, verify (params/FLOPs), exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from index_worlds import line_of, model_yaml, write
from zoo.cli.main import cli
from zoo.runs.store import list_runs, load_run

SEED = Path(__file__).resolve().parents[1] / "metadata"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_list_json_carries_claims_with_sources():
    result = invoke("list", "--index", str(SEED), "--format", "json")
    assert result.exit_code == 0
    models = json.loads(result.output)
    assert [m["name"] for m in models] == ["mobilenetv2_100", "mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140"]
    first = models[0]
    assert first["collection"] == "MobileNet V2" and first["source"].endswith("mobilenet-v2.yml:10")
    claims = first["claims"]
    assert set(claims) >= {"flops", "parameters", "file_size", "top1", "top5", "image_size", "crop_pct", "interpolation", "weights"}
    assert claims["top1"]["value"] == 72.95 and claims["top1"]["line"] == line_of(SEED / "mobilenet-v2.yml", "72.95%")
    assert claims["weights"]["value"].startswith("https://github.com/")


def test_list_table_and_show():
    table = invoke("list", "--index", str(SEED))
    assert table.exit_code == 0 and "mobilenetv2_140" in table.output
    shown = invoke("show", "mobilenetv2_110d", "--index", str(SEED))
    assert shown.exit_code == 0
    assert "75.05%" in shown.output and "mobilenet-v2.yml:" in shown.output and "RMSProp" in shown.output


def test_bad_index_exits_2_with_the_place(tmp_path):
    path = write(tmp_path / "i.yml", "Models:\n- Name: m\n  Metadata:\n    Parameters: many\n")
    result = CliRunner().invoke(cli, ["list", "--index", str(path)])
    assert result.exit_code == 2
    assert "i.yml:4" in result.output and "'Parameters'" in result.output


def test_unknown_model_exits_2():
    result = CliRunner().invoke(cli, ["show", "resnet9000", "--index", str(SEED)])
    assert result.exit_code == 2 and "unknown model 'resnet9000'" in result.output


def test_bad_only_option_exits_2(tmp_path):
    index = write(tmp_path / "i.yml", model_yaml())
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", "params,speed"])
    assert result.exit_code == 2 and "unknown measurement 'speed'" in result.output


def test_verify_params_and_flops_writes_a_record_and_exits_by_verdict(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # test_efficientnet: 356,196 parameters exactly; FLOPs claim far from any convention.
    index = write(tmp_path / "i.yml", model_yaml(flops=1000, params="356000"))
    results = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["verify", "--all", "--index", str(index), "--only", "config,params,flops", "--results", str(results)]
    )
    assert result.exit_code == 0, result.output  # flops drift, but only top1/top5 gate by default
    [path] = list_runs(results)
    record = load_run(path)
    verdicts = {v.metric: v for v in record.verdicts()}
    assert verdicts["parameters"].status == "pass"
    assert verdicts["flops"].status == "drift" and "closest other convention" in verdicts["flops"].explanation
    from zoo.judge.conventions import reference_key

    assert verdicts["flops"].convention == reference_key()  # one model and no convention explains it: the reference
    assert verdicts["image_size"].status == "pass" and verdicts["crop_pct"].status == "pass"
    assert verdicts["top1"].status == "unverified" and verdicts["top1"].explanation == "not measured in this run"
    assert record.measurements_requested == ["config", "params", "flops"]
    assert "drift" in result.output and "test_efficientnet" in result.output

    gated = CliRunner().invoke(
        cli, ["verify", "--all", "--index", str(index), "--only", "params,flops", "--gate-metrics", "flops", "--no-record"]
    )
    assert gated.exit_code == 1


def test_unbuildable_model_is_a_per_model_error_not_a_crash(tmp_path):
    text = model_yaml() + model_yaml("no_such_net_v9").split("Models:\n", 1)[1]
    index = write(tmp_path / "i.yml", text)
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", "params", "--no-record"])
    assert result.exit_code == 2
    assert "no_such_net_v9" in result.output and "no model of that name" in result.output
    assert "test_efficientnet" in result.output


def test_card_fps_for_this_device_becomes_a_judged_throughput_claim(tmp_path):
    import torch

    from zoo.measure.device import device_name

    cpu = device_name(torch.device("cpu"))
    text = model_yaml().replace("    Custom Key: kept\n", f"    Custom Key: kept\n    FPS ({cpu}): 1000000000\n")
    index = write(tmp_path / "i.yml", text)
    result = CliRunner().invoke(
        cli,
        ["bench", "--all", "--index", str(index), "--device", "cpu", "--batch-size", "2", "--rounds", "2",
         "--gate-metrics", "throughput", "--results", str(tmp_path / "runs")],
    )
    [path] = list_runs(tmp_path / "runs")
    verdict = next(v for v in load_run(path).verdicts() if v.metric == "throughput")
    assert verdict.claim is not None and verdict.claim.field.startswith("FPS (")
    assert verdict.claim.source.line == line_of(index, "FPS (")
    assert verdict.status == "drift" and result.exit_code == 1
    # the gate re-judges against the current index and keeps the device's published figure
    gate = CliRunner().invoke(cli, ["gate", str(path), "--index", str(index), "--gate-metrics", "throughput"])
    assert gate.exit_code == 1, gate.output
    wrong_index = write(tmp_path / "other.yml", model_yaml("test_resnet"))
    assert CliRunner().invoke(cli, ["gate", str(path), "--index", str(wrong_index)]).exit_code == 2


def test_a_misspelt_gate_metric_is_bad_input(tmp_path):
    index = write(tmp_path / "i.yml", model_yaml())
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", "params", "--gate-metrics", "Parameters", "--no-record"])
    assert result.exit_code == 2 and "unknown metric 'Parameters'" in result.output


def test_an_unwritable_results_folder_is_bad_input_not_drift(tmp_path):
    index = write(tmp_path / "i.yml", model_yaml())
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", "params", "--results", str(blocker / "runs")])
    assert result.exit_code == 2 and "zoo: error:" in result.output


def test_a_missing_data_folder_fails_before_any_measuring(tmp_path):
    index = write(tmp_path / "i.yml", model_yaml())
    result = CliRunner().invoke(
        cli, ["verify", "--all", "--index", str(index), "--only", "accuracy", "--offline",
              "--cache-dir", str(tmp_path / "cache"), "--data", str(tmp_path / "nowhere"), "--no-record"],
    )
    assert result.exit_code == 2 and "no such file or folder" in result.output
    assert "[1/1]" not in result.output  # nothing was measured


def test_every_command_describes_itself_in_its_help():
    # A docstring placed after code is no docstring: click then shows no description.
    from zoo.cli.main import COMMANDS

    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"], terminal_width=200)
        assert result.exit_code == 0, name
        description = result.output.split("\n\n", 2)[1].strip()
        assert description and not description.startswith("Options:"), (name, result.output[:300])


def test_bench_progress_counts_the_rounds_asked_for(tmp_path):
    from zoo import progress

    index = write(tmp_path / "i.yml", model_yaml())
    lines: list[str] = []
    channel = progress.Channel("lines", interval=0.0)
    channel._line = lines.append  # type: ignore[method-assign]
    import unittest.mock

    with unittest.mock.patch.object(progress, "configure", lambda quiet=False: channel), \
            unittest.mock.patch.object(progress, "_channel", channel):
        result = CliRunner().invoke(cli, ["bench", "--all", "--index", str(index), "--device", "cpu", "--batch-size", "2",
                                          "--rounds", "2", "--no-record"])
    assert result.exit_code == 0, result.output
    rounds = [line for line in lines if " rounds" in line]
    assert any("test_efficientnet throughput: 2/2 rounds" in line for line in rounds), rounds
    assert any("test_efficientnet latency: 2/2 rounds" in line for line in rounds), rounds
    assert not any("/4 rounds" in line or "4 rounds" in line for line in rounds), rounds


def test_ctrl_c_while_timing_exits_130_and_says_what_was_interrupted(tmp_path, monkeypatch):
    from zoo.measure.throughput import measure as measure_module

    def interrupted(step, batch_size, watch, *, on_round, **kw):
        on_round(0, 1.0)
        raise KeyboardInterrupt  # Ctrl-C in the second timed round

    monkeypatch.setattr(measure_module, "time_throughput", interrupted)
    index = write(tmp_path / "i.yml", model_yaml())
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", "throughput", "--device", "cpu",
                                      "--rounds", "3", "--results", str(tmp_path / "runs")])
    assert result.exit_code == 130
    assert "test_efficientnet throughput: interrupted after 1 of 3 rounds" in result.output
    assert "done," not in result.output and "partial download" not in result.output
    assert "zoo: interrupted (exit 130)" in result.output
    assert not (tmp_path / "runs").exists() or not list_runs(tmp_path / "runs")
