"""click_options(BenchOptions): flags parse into BenchOptions, env vars fill what flags leave out, bad values exit 2."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from zoo.measure.throughput.options import BenchOptions
from zoo.cli.declared import click_options, options_from
from zoo.flags import flag_names

BENCH_OPTION_NAMES = flag_names(BenchOptions)
from zoo.cli.common import explained_errors

seen: list[BenchOptions] = []


@click.command()
@click.argument("models", nargs=-1)
@click_options(BenchOptions)
@explained_errors
def command(models: tuple[str, ...], **kw: object) -> None:
    seen.append(options_from(BenchOptions, kw))


@pytest.fixture(autouse=True)
def clean() -> None:
    seen.clear()


def invoke(args: list[str], env: dict[str, str] | None = None) -> click.testing.Result:
    blank = {var: None for var in ("ZOO_DEVICE", "ZOO_DTYPE", "ZOO_THREADS", "ZOO_BATCH_SIZE", "ZOO_CHANNELS_LAST")}
    return CliRunner().invoke(command, args, env={**blank, **(env or {})})


def test_flags_become_options() -> None:
    result = invoke(
        [
            "m1",
            "--device",
            "cpu",
            "--dtype",
            "bf16",
            "--channels-last",
            "--compile",
            "--compile-mode",
            "max-autotune",
            "--threads",
            "2",
            "--batch-size",
            "16",
            "--rounds",
            "9",
        ]
    )
    assert result.exit_code == 0, result.output
    assert seen == [
        BenchOptions(
            device="cpu",
            dtype="bf16",
            channels_last=True,
            compile=True,
            compile_mode="max-autotune",
            threads=2,
            batch_size=16,
            rounds=9,
        )
    ]


def test_unset_flags_fall_back_to_env_then_defaults() -> None:
    result = invoke([], env={"ZOO_THREADS": "3", "ZOO_CHANNELS_LAST": "1"})
    assert result.exit_code == 0, result.output
    assert seen == [BenchOptions(threads=3, channels_last=True)]
    result = invoke(["--no-channels-last"], env={"ZOO_CHANNELS_LAST": "1"})
    assert seen[-1].channels_last is False


@pytest.mark.parametrize("args", [["--device", "tpu"], ["--dtype", "int4"], ["--threads", "0"], ["--batch-size", "x"]])
def test_bad_flags_exit_with_code_2(args: list[str]) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert seen == []


def test_a_bad_env_value_exits_2_naming_the_variable() -> None:
    result = invoke([], env={"ZOO_THREADS": "lots"})
    assert result.exit_code == 2
    assert "ZOO_THREADS" in result.output


def test_every_option_name_is_a_flag_in_help() -> None:
    text = CliRunner().invoke(command, ["--help"]).output
    for name in BENCH_OPTION_NAMES:
        assert "--" + name.replace("_", "-") in text
    assert "ZOO_DEVICE" in text
