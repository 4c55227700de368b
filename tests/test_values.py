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
