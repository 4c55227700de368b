"""History: a timing change is a regression or an improvement only when it beats both runs' spread."""

from __future__ import annotations

from typing import Optional

import pytest

from zoo.judge.history import compare_measurements, compare_runs
from zoo.records import Environment, Measurement, ModelCard, ModelResult, RunRecord, SourceRef, Uncertainty

CONDITIONS = {
    "device_name": "AMD EPYC",
    "dtype": "fp32",
    "channels_last": False,
    "compile": False,
    "batch_size": 32,
    "input_size": "3x224x224",
    "threads": 2,
}


def timing(
    value: float, low: float, high: float, metric: str = "throughput", kind: str = "process-range", **conditions: object
) -> Measurement:
    """A figure of ``zoo bench --repeat N`` (median of fresh processes, their range), or with
    ``kind="iqr"`` one process's (median of its rounds, their IQR)."""
    return Measurement(
        metric=metric,
        status="ok",
        value=value,
        unit="images/s" if metric == "throughput" else "ms",
        conditions={**CONDITIONS, **conditions},
        uncertainty=Uncertainty(kind, low, high),
    )


def test_a_drop_larger_than_both_spreads_is_a_regression() -> None:
    change = compare_measurements("m", timing(80.0, 79.0, 81.0), timing(100.0, 98.0, 102.0))
    assert change.status == "regression"
    assert change.change == pytest.approx(-20.0)
    assert change.relative_change == pytest.approx(-0.2)
    assert change.noise == pytest.approx(5.0)  # the 5% floor is above both spreads (2 and 4)
    assert "-20.0%" in change.explanation
    assert "between-process spread" in change.explanation


def test_a_change_inside_either_spread_is_unchanged() -> None:
    # 6 images/s apart: more than the current run's spread (2) but less than the previous one's (10).
    change = compare_measurements("m", timing(94.0, 93.0, 95.0), timing(100.0, 95.0, 105.0))
    assert change.status == "unchanged"
    assert "within the noise" in change.explanation


def test_a_rise_in_throughput_is_an_improvement_and_in_latency_a_regression() -> None:
    assert compare_measurements("m", timing(130.0, 129.0, 131.0), timing(100.0, 99.0, 101.0)).status == "improvement"
    slower = compare_measurements("m", timing(13.0, 12.9, 13.1, "latency_p50"), timing(10.0, 9.9, 10.1, "latency_p50"))
    assert slower.status == "regression"
    faster = compare_measurements("m", timing(7.0, 6.9, 7.1, "latency_p90"), timing(10.0, 9.9, 10.1, "latency_p90"))
    assert faster.status == "improvement"


def test_a_relative_floor_keeps_tiny_spreads_from_flagging_noise() -> None:
    current, previous = timing(97.0, 96.9, 97.1), timing(100.0, 99.9, 100.1)
    assert compare_measurements("m", current, previous).status == "unchanged"  # 3% < the documented 5%
    assert compare_measurements("m", current, previous, min_relative=0.02).status == "regression"


def test_two_single_process_runs_are_inconclusive_however_far_apart() -> None:
    """The issue's case: two identical zoo bench processes, 34.9 and 27.9 img/s, each with a tight IQR."""
    change = compare_measurements("m", timing(27.9, 27.6, 28.3, kind="iqr"), timing(34.9, 34.5, 35.2, kind="iqr"))
    assert change.status == "inconclusive"
    assert "-20.1%" in change.explanation and "within-run spread" in change.explanation
    assert "--repeat" in change.explanation
    mixed = compare_measurements("m", timing(27.9, 27.0, 29.0), timing(34.9, 34.5, 35.2, kind="iqr"))
    assert mixed.status == "inconclusive"  # one side's evidence across processes is missing
    small = compare_measurements("m", timing(34.0, 33.9, 34.1, kind="iqr"), timing(34.9, 34.5, 35.2, kind="iqr"))
    assert small.status == "unchanged"  # under the floor: no change to look for


@pytest.mark.parametrize(
    "current, why",
    [
        (timing(50.0, 49.0, 51.0, batch_size=16), "batch_size 32 -> 16"),
        (timing(50.0, 49.0, 51.0, device_name="Intel Xeon"), "device_name"),
        (
            Measurement(metric="throughput", status="unavailable", reason="out of memory even at batch 1"),
            "out of memory",
        ),
        (
            Measurement(metric="throughput", status="ok", value=50.0, conditions=dict(CONDITIONS)),
            "no run-to-run spread",
        ),
    ],
)
def test_figures_that_cannot_be_compared_say_why(current: Measurement, why: str) -> None:
    change = compare_measurements("m", current, timing(100.0, 99.0, 101.0))
    assert change.status == "incomparable"
    assert why in change.explanation


def environment() -> Environment:
    return Environment(python="3.11", platform="linux", hostname="h", cpu="AMD EPYC", cpu_threads=2, torch="2.x")


def run(run_id: str, results: dict[str, Optional[Measurement]]) -> RunRecord:
    models = [
        ModelResult(
            card=ModelCard(name=name, source=SourceRef("metadata/zoo.yml", 1)),
            measurements=[m] if m is not None else [],
        )
        for name, m in results.items()
    ]
    return RunRecord(
        run_id=run_id,
        started="s",
        finished="f",
        environment=environment(),
        index=[],
        measurements_requested=["throughput"],
        models=models,
    )


def test_compare_runs_pairs_models_present_in_both() -> None:
    previous = run("old", {"a": timing(100.0, 99.0, 101.0), "b": timing(50.0, 49.0, 51.0), "gone": timing(1, 1, 1)})
    current = run(
        "new", {"b": timing(60.0, 59.0, 61.0), "a": timing(100.5, 99.0, 101.0), "new": timing(1, 1, 1), "c": None}
    )
    changes = compare_runs(current, previous)
    assert [(c.model, c.metric, c.status) for c in changes] == [
        ("b", "throughput", "improvement"),
        ("a", "throughput", "unchanged"),
    ]


QUIET = {"load_1min_before": 1.52, "load_1min_after": 1.61, "cpus": 2, "cpu_per_wall": 1.93}
BUSY = {"load_1min_before": 6.8, "load_1min_after": 7.03, "cpus": 2, "cpu_per_wall": 0.61}


def test_a_change_beyond_the_floor_between_single_process_runs_is_never_unchanged() -> None:
    # `zoo report A B` once called a +29.1% p90 latency "unchanged": each round's p90 spread wide.
    change = compare_measurements(
        "m", timing(12.91, 6.0, 35.0, "latency_p90", kind="iqr", **QUIET), timing(10.0, 5.0, 30.0, "latency_p90", kind="iqr", **QUIET)
    )
    assert change.status == "inconclusive" and "+29.1%" in change.explanation


def test_figures_timed_under_different_load_are_not_called_a_change_or_unchanged() -> None:
    slower = compare_measurements("m", timing(20.0, 19.0, 21.0, **BUSY), timing(100.0, 98.0, 102.0, **QUIET))
    assert slower.status == "inconclusive"
    assert "different load (load 1.52-1.61 (2 CPUs), CPU per wall second 1.93 (2 threads) before, " \
           "load 6.80-7.03 (2 CPUs), CPU per wall second 0.61 (2 threads) now)" in slower.explanation
    same = compare_measurements("m", timing(100.0, 98.0, 102.0, **BUSY), timing(100.0, 98.0, 102.0, **QUIET))
    assert same.status == "inconclusive" and "different load" in same.explanation
    # the CPU share alone tells contention the load average has not caught up with yet
    starved = compare_measurements("m", timing(80.0, 79.0, 81.0, **{**QUIET, "cpu_per_wall": 0.9}), timing(100.0, 99.0, 101.0, **QUIET))
    assert starved.status == "inconclusive"
    quiet_both = compare_measurements("m", timing(80.0, 79.0, 81.0, **QUIET), timing(100.0, 99.0, 101.0, **QUIET))
    assert quiet_both.status == "regression" and "load" not in quiet_both.explanation


def test_a_change_from_a_run_without_its_load_says_so() -> None:
    change = compare_measurements("m", timing(80.0, 79.0, 81.0, **QUIET), timing(100.0, 99.0, 101.0))
    assert change.status == "regression"
    assert "the machine's load was not recorded in the earlier run" in change.explanation
