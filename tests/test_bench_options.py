"""BenchOptions: defaults per device, env vars, overrides and errors that name the flag."""

from __future__ import annotations

import pytest

from zoo.measure.throughput.options import BenchOptions
from zoo.errors import EXIT_BAD_INPUT, InputError


def test_defaults_depend_on_the_device() -> None:
    options = BenchOptions()
    assert options.batch_size_for("cuda") == 256
    assert options.batch_size_for("cpu") == 32
    assert options.warmup_iters_for("cuda") > options.warmup_iters_for("cpu") >= 1
    assert BenchOptions(batch_size=7).batch_size_for("cuda") == 7
    assert (options.device, options.dtype, options.channels_last, options.compile) == ("auto", "fp32", False, False)
    assert not options.amp and BenchOptions(dtype="fp16").amp


def test_from_env_reads_every_variable_and_overrides_win() -> None:
    env = {
        "ZOO_DEVICE": "cpu",
        "ZOO_DTYPE": "bf16",
        "ZOO_CHANNELS_LAST": "yes",
        "ZOO_COMPILE": "0",
        "ZOO_THREADS": "3",
        "ZOO_BATCH_SIZE": "64",
        "ZOO_BENCH_ROUNDS": "7",
        "ZOO_BENCH_ROUND_SECONDS": "0.25",
        "ZOO_BENCH_WARMUP_ITERS": "2",
        "ZOO_BENCH_WARMUP_SECONDS": "0",
    }
    options = BenchOptions.from_env(env, batch_size=8, threads=None)
    assert options == BenchOptions(
        device="cpu",
        dtype="bf16",
        channels_last=True,
        compile=False,
        threads=3,
        batch_size=8,
        rounds=7,
        round_seconds=0.25,
        warmup_iters=2,
        warmup_seconds=0.0,
    )
    assert BenchOptions.from_env({}) == BenchOptions()


def test_a_bad_env_value_names_the_variable() -> None:
    with pytest.raises(InputError, match="ZOO_THREADS") as caught:
        BenchOptions.from_env({"ZOO_THREADS": "many"})
    assert caught.value.exit_code == EXIT_BAD_INPUT
    with pytest.raises(InputError, match="ZOO_CHANNELS_LAST"):
        BenchOptions.from_env({"ZOO_CHANNELS_LAST": "maybe"})


@pytest.mark.parametrize(
    "changes, flag",
    [
        ({"device": "tpu"}, "--device"),
        ({"dtype": "int8"}, "--dtype"),
        ({"threads": 0}, "--threads"),
        ({"batch_size": -4}, "--batch-size"),
        ({"rounds": 0}, "--rounds"),
        ({"warmup_iters": 0}, "--warmup-iters"),
        ({"round_seconds": -1.0}, "--round-seconds"),
        ({"compile_mode": "fastest"}, "--compile-mode"),
        ({"threads": True}, "--threads"),
    ],
)
def test_bad_values_are_refused_with_the_flag_to_fix(changes: dict[str, object], flag: str) -> None:
    with pytest.raises(InputError, match=flag):
        BenchOptions(**changes)  # type: ignore[arg-type]


def test_unknown_override_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="no option 'speed'"):
        BenchOptions.from_env({}, speed=3)


def test_cuda_index_is_accepted() -> None:
    assert BenchOptions(device="cuda:1").device == "cuda:1"


def test_options_flatten_for_the_run_record() -> None:
    flat = BenchOptions(device="cpu", threads=2).as_scalars()
    assert flat["bench_device"] == "cpu" and flat["bench_threads"] == 2 and flat["bench_batch_size"] is None
    assert all(isinstance(v, (bool, int, float, str, type(None))) for v in flat.values())
