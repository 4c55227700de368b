"""The timing method on a fake clock: warm-up excluded, rounds counted, medians and spreads right."""

from __future__ import annotations

import pytest

from bench_world import FakeClock, ScriptedStep
from zoo.measure.throughput.stats import summarize
from zoo.measure.throughput.timing import WallStopwatch, iterations_for, time_latency, time_throughput, warm_up


def test_warm_up_is_excluded_from_the_throughput_figure() -> None:
    clock = FakeClock()
    # Three slow warm-up calls (compilation, autotuning), then a steady 10 ms per call.
    step = ScriptedStep(clock, [5.0, 2.0, 1.0, 0.01])
    timing = time_throughput(
        step, 8, WallStopwatch(clock), rounds=4, round_seconds=0.0, warmup_iters=3, warmup_seconds=0.0
    )
    assert timing.warmup.iterations == 3
    assert timing.warmup.seconds == pytest.approx(8.0)
    assert timing.images_per_second.median == pytest.approx(8 / 0.01)
    assert timing.images_per_second.minimum == pytest.approx(8 / 0.01)
    assert timing.images_per_second.count == 4
    assert len(timing.round_seconds) == 4
    assert step.calls == 3 + 4 * timing.iters_per_round


def test_rounds_are_counted_and_summarised_as_median_iqr_min_max() -> None:
    clock = FakeClock()
    step = ScriptedStep(clock, [0.5, 0.01, 0.02, 0.04, 0.01, 0.02])
    timing = time_throughput(
        step, 4, WallStopwatch(clock), rounds=5, round_seconds=0.0, warmup_iters=1, warmup_seconds=0.0
    )
    rates = [4 / 0.01, 4 / 0.02, 4 / 0.04, 4 / 0.01, 4 / 0.02]
    expected = summarize(rates)
    assert timing.iters_per_round == 1
    got = timing.images_per_second
    assert (got.median, got.q1, got.q3, got.minimum, got.maximum) == pytest.approx(
        (expected.median, expected.q1, expected.q3, expected.minimum, expected.maximum)
    )
    assert got.count == 5
    assert timing.images_per_second.median == pytest.approx(200.0)
    assert timing.images_per_second.minimum == pytest.approx(100.0)
    assert timing.images_per_second.maximum == pytest.approx(400.0)
    # sorted rates 100, 200, 200, 400, 400: quartiles 200 and 400
    assert (got.q1, got.q3) == pytest.approx((200.0, 400.0))


def test_round_length_is_set_from_the_settled_warm_up() -> None:
    clock = FakeClock()
    # Warm-up: a slow first call, then 0.1 s calls; a 1 s round needs 10 of them.
    step = ScriptedStep(clock, [3.0, 0.1])
    timing = time_throughput(
        step, 2, WallStopwatch(clock), rounds=2, round_seconds=1.0, warmup_iters=4, warmup_seconds=0.0
    )
    assert timing.warmup.step_seconds == pytest.approx(0.1)
    assert timing.iters_per_round == 10
    assert timing.round_seconds == pytest.approx((1.0, 1.0))
    assert timing.images_per_second.median == pytest.approx(20.0)


def test_warm_up_runs_for_its_minimum_time_as_well_as_its_minimum_count() -> None:
    clock = FakeClock()
    step = ScriptedStep(clock, [0.1])
    warm = warm_up(step, WallStopwatch(clock), min_iters=1, min_seconds=0.35)
    assert warm.iterations == 4
    assert step.calls == 4
    assert warm.seconds == pytest.approx(0.4)


def test_on_round_is_called_once_per_round_with_its_figure() -> None:
    clock = FakeClock()
    step = ScriptedStep(clock, [0.05])
    seen: list[tuple[int, float]] = []
    time_throughput(
        step,
        10,
        WallStopwatch(clock),
        rounds=3,
        round_seconds=0.0,
        warmup_iters=1,
        warmup_seconds=0.0,
        on_round=lambda i, v: seen.append((i, v)),
    )
    assert [i for i, _ in seen] == [0, 1, 2]
    assert all(v == pytest.approx(200.0) for _, v in seen)


def test_latency_reports_p50_and_p90_per_round_in_milliseconds() -> None:
    clock = FakeClock()
    # 1 warm-up call of 1 s, then rounds of 10 calls taking 1..10 ms.
    per_round = [i / 1000 for i in range(1, 11)]
    step = ScriptedStep(clock, [1.0] + per_round * 3)
    timing = time_latency(
        step, WallStopwatch(clock), rounds=3, round_seconds=0.0, min_iters=10, warmup_iters=1, warmup_seconds=0.0
    )
    assert timing.iters_per_round == 10
    assert timing.sample_count == 30
    assert timing.p50_ms.count == 3
    assert timing.p50_ms.median == pytest.approx(5.5)
    assert timing.p90_ms.median == pytest.approx(9.1)
    assert timing.min_ms == pytest.approx(1.0)
    assert timing.max_ms == pytest.approx(10.0)
    assert 1000.0 not in [s for r in timing.samples_ms for s in r]


def test_synchronize_runs_before_each_clock_reading() -> None:
    events: list[str] = []
    clock = FakeClock()

    def read() -> float:
        events.append("clock")
        return clock()

    def step() -> None:
        events.append("step")

    watch = WallStopwatch(read, synchronize=lambda: events.append("sync"))
    watch.time_block(step, 2)
    assert events == ["sync", "clock", "step", "step", "sync", "clock"]
    assert watch.name == "perf_counter+synchronize"


def test_iterations_for_fills_the_round() -> None:
    assert iterations_for(1.0, 0.3) == 4
    assert iterations_for(0.0, 0.3) == 1
    assert iterations_for(1.0, 0.0) == 1
    assert iterations_for(0.1, 0.3, minimum=10) == 10


def test_a_zero_round_time_is_refused_rather_than_divided_by() -> None:
    clock = FakeClock()
    step = ScriptedStep(clock, [0.1, 0.0])
    with pytest.raises(RuntimeError, match="cannot resolve"):
        time_throughput(step, 1, WallStopwatch(clock), rounds=1, round_seconds=0.0, warmup_iters=1, warmup_seconds=0.0)


def test_percentiles_interpolate_between_order_statistics() -> None:
    from zoo.measure.throughput.stats import percentile

    tens = [float(v) for v in range(1, 11)]
    assert percentile(tens, 50) == pytest.approx(5.5)
    assert percentile(tens, 90) == pytest.approx(9.1)
    assert percentile([7.0], 90) == 7.0
    spread = summarize([3.0, 1.0, 2.0, 4.0, 100.0])
    assert (spread.median, spread.q1, spread.q3, spread.minimum, spread.maximum, spread.count) == (
        3.0,
        2.0,
        4.0,
        1.0,
        100.0,
        5,
    )
    with pytest.raises(ValueError):
        summarize([])
