"""zoo bench --repeat N: fresh processes, each recorded, combined into one figure with the
between-process range, which the history accepts as evidence of a change."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from index_worlds import model_yaml, write
from zoo.cli.main import cli
from zoo.judge.history import compare_measurements
from zoo.runs.store import list_runs, load_run


def test_repeat_runs_fresh_processes_and_records_each(tmp_path) -> None:
    index = write(tmp_path / "i.yml", model_yaml())
    args = ["bench", "--all", "--index", str(index), "--device", "cpu", "--batch-size", "2", "--rounds", "2",
            "--threads", "1", "--allocator", "tuned", "--results", str(tmp_path / "runs")]
    result = CliRunner().invoke(cli, [*args, "--repeat", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [path] = list_runs(tmp_path / "runs")  # one combined run; the processes wrote none of their own
    run = load_run(path)
    throughput = run.models[0].measurement("throughput")
    assert throughput is not None and throughput.status == "ok"
    assert throughput.uncertainty is not None and throughput.uncertainty.kind == "process-range"
    values = [float(v) for v in str(throughput.conditions["process_values"]).split(", ")]
    assert len(values) == 2 and throughput.conditions["processes"] == 2
    assert throughput.uncertainty.low == pytest.approx(min(values), rel=1e-4)
    assert throughput.uncertainty.high == pytest.approx(max(values), rel=1e-4)
    assert throughput.value == pytest.approx(sum(values) / 2, rel=1e-4)  # the median of two
    assert throughput.conditions["allocator"] == "glibc-tuned"  # the option reached every process
    assert run.options["repeat"] == 2
    folder = path.parent / "processes"
    children = [json.loads((folder / f"{n:02d}.json").read_text()) for n in (1, 2)]
    assert len({child["run_id"] for child in children}) == 2  # two separate processes, two records
    seen = sorted(
        m["value"] for child in children for m in child["models"][0]["measurements"] if m["metric"] == "throughput"
    )
    assert seen == pytest.approx(sorted(values), rel=1e-4)
    latency = run.models[0].measurement("latency_p50")
    assert latency is not None and latency.uncertainty is not None and latency.uncertainty.kind == "process-range"
    assert compare_measurements("m", throughput, throughput).status == "unchanged"


def test_a_failing_process_stops_the_repeat_with_a_clear_error(tmp_path) -> None:
    index = write(tmp_path / "i.yml", model_yaml())
    result = CliRunner().invoke(
        cli,
        ["bench", "--all", "--index", str(index), "--device", "cpu", "--repeat", "2", "--results", str(tmp_path / "r")],
        env={"ZOO_THREADS": "zero"},
    )
    assert result.exit_code == 2, result.output  # the bad env var is seen before any process starts
    assert "ZOO_THREADS" in result.output


def test_combined_processes_keep_the_load_of_the_busiest_moment() -> None:
    from zoo.records import Measurement, Uncertainty
    from zoo.verify.repeat import _combined

    def process(value: float, before: float, after: float, share: float) -> Measurement:
        conditions = {"threads": 2, "cpus": 2, "load_1min_before": before, "load_1min_after": after, "cpu_per_wall": share}
        return Measurement("throughput", "ok", value, "images/s", conditions=conditions, uncertainty=Uncertainty("iqr", value, value))

    combined = _combined([process(30.0, 1.5, 1.6, 1.9), process(20.0, 1.6, 6.9, 0.7), process(29.0, 1.4, 1.5, 1.95)])
    c = combined.conditions
    assert (c["load_1min_before"], c["load_1min_after"], c["cpu_per_wall"]) == (1.4, 6.9, 0.7)
    assert c["process_cpu_per_wall"] == "1.9, 0.7, 1.95"
