"""Numbers as cards write them, and the precision they carry."""

from __future__ import annotations

import pytest

from zoo.index.values import read_number


@pytest.mark.parametrize(
    "raw,value,precision,percent",
    [
        ("3500000", 3_500_000, 100_000, False),
        ("401920448", 401_920_448, 1, False),
        ("72.95%", 72.95, 0.01, True),
        ("91.0%", 91.0, 0.1, True),
        ("0.875", 0.875, 0.001, False),
        ("224", 224, 1, False),
        ("3.5M", 3_500_000, 100_000, False),
        ("1.25 G", 1_250_000_000, 10_000_000, False),
        ("4.0e-05", 4e-5, 1e-6, False),
        ("3,504,872", 3_504_872, 1, False),
        ("100", 100, 100, False),
    ],
)
def test_value_and_precision(raw, value, precision, percent):
    number = read_number(raw)
    assert number is not None
    assert number.value == pytest.approx(value)
    assert number.precision == pytest.approx(precision)
    assert number.is_percent is percent


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3", "12 apples", "%", "1,23"])
def test_not_numbers(raw):
    assert read_number(raw) is None


@pytest.mark.parametrize(
    "raw,value,precision",
    [
        ("97.781 MiB", 97.781 * 2**20, 2**20 / 1000),
        ("30.845MiB", 30.845 * 2**20, 2**20 / 1000),
        ("97.79 MiB", 97.79 * 2**20, 2**20 / 100),
        ("14.2 MB", 14_200_000, 100_000),
        ("512 KiB", 512 * 1024, 1024),
        ("1.5 GiB", 1.5 * 2**30, 2**30 / 10),
        ("14202571 B", 14_202_571, 1),
    ],
)
def test_a_byte_count_written_in_a_larger_unit_holds_to_its_last_digit(raw, value, precision):
    from zoo.metrics import spec

    number = read_number(raw, spec("file_size").scales)
    assert number is not None and number.value == pytest.approx(value) and number.precision == pytest.approx(precision)
    assert number.unit == raw.lstrip("0123456789., ")


def test_a_file_size_in_mib_is_judged_to_half_its_last_digit_in_bytes():
    """torchvision's densenet121 file: 32,342,954 bytes, which torchvision documents as 30.845 (MiB)."""
    from conftest import card

    from zoo.judge.compare import judge_claim
    from zoo.records import Measurement, Tolerance

    claim = card("densenet121", file_size="30.845 MiB").claim("file_size")
    assert claim is not None and claim.value == round(30.845 * 2**20) and claim.precision == pytest.approx(1048.576)
    for measured, status in ((32_342_954, "pass"), (claim.value + 524, "pass"), (claim.value + 525, "drift"), (32_343_000 - 50_000, "drift")):
        verdict = judge_claim("densenet121", claim, Measurement("file_size", "ok", measured, "bytes"), Tolerance("file_size"))
        assert verdict.status == status, (measured, verdict.explanation)
