"""A new value written at the precision and in the form of the claim it replaces (zoo.fix.values)."""

from __future__ import annotations

import pytest

from zoo.fix.values import NotWritable, written_like
from zoo.index.claims import ClaimReader
from zoo.yaml_input import load_located
from zoo.judge.compare import holds_at_precision
from zoo.metrics import spec


def claim(metric: str, written: str):
    """The claim a card line ``Field: WRITTEN`` makes, read by the index's own reader."""
    return ClaimReader("card.yml", "m").read(load_located(f"k: {written}\n"), "k", spec(metric))


@pytest.mark.parametrize(
    ("metric", "written", "measured", "expected"),
    [
        ("parameters", "3500000", 3_438_984, "3400000"),  # to the 100,000 as the judge reads it
        ("parameters", "4520000", 4_538_984, "4540000"),  # to the 10,000
        ("parameters", "53456696", 55_989_256, "55989256"),  # exact
        ("parameters", "66349999", 66_343_464, "66340000"),  # a float-truncated 66.35M: to the 10,000
        ("parameters", "3.5M", 3_438_984, "3.4M"),
        ("parameters", "3,504,872", 3_438_984, "3,438,984"),
        ("flops", "401920448", 507_737_637.4, "507737637"),
        ("flops", "1234321170", 1_297_698_666.0, "1297698670"),  # a trailing zero: to the ten
        ("top1", "72.95%", 72.914, "72.91%"),
        ("top1", "91.0%", 90.66, "90.7%"),
        ("top1", "90%", 89.4, "89%"),
        ("top1", "0.7295", 72.914, "0.7291"),  # a fraction stays a fraction
        ("crop_pct", "'0.875'", 0.95, "0.950"),  # three decimals, as written
        ("crop_pct", "0.94", 0.95, "0.95"),
        ("crop_pct", "0.875", 0.8975, "0.898"),  # half-even in decimal: 0.8975 -> 0.898
        ("image_size", "'300'", 288, "288"),
        ("file_size", "14202571", 14_202_572, "14202572"),  # exact bytes
        ("interpolation", "bilinear", "bicubic", "bicubic"),
    ],
)
def test_value_written_like_the_claim(metric: str, written: str, measured, expected: str) -> None:
    old = claim(metric, written)
    new = written_like(old, spec(metric), measured)
    assert new == expected
    if metric != "interpolation":  # read back: the same precision, and the measurement holds at it
        read = claim(metric, f"'{new}'")
        assert read.precision == old.precision
        assert holds_at_precision(float(read.value), float(measured), read.precision)


@pytest.mark.parametrize(
    ("metric", "written", "measured", "why"),
    [
        ("parameters", "4.0e+06", 3_438_984, "form zoo does not rewrite"),
        ("parameters", "+3500000", 3_438_984, "form zoo does not rewrite"),
        ("parameters", "3500000", float("nan"), "not a finite number"),
        ("interpolation", "bilinear", "bi linear; rm -rf", "not one plain word"),
        ("image_size", "'224'", "224px", "not a number"),
    ],
)
def test_values_that_cannot_be_written_are_refused(metric: str, written: str, measured, why: str) -> None:
    with pytest.raises(NotWritable, match=why):
        written_like(claim(metric, written), spec(metric), measured)


def test_throughput_and_urls_are_never_written() -> None:
    weights = ClaimReader("card.yml", "m").read(load_located("Weights: https://x.invalid/a.pth\n"), "Weights", spec("weights"))
    with pytest.raises(NotWritable, match="does not write"):
        written_like(weights, spec("weights"), "https://x.invalid/b.pth")
