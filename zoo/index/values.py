"""Reading the numbers cards write, and the precision they were written with.

Cards write ``3500000``, ``'224'``, ``'0.875'``, ``'72.95%'``, ``3.5M``, ``4.0e-05``. The
precision is the unit of the last significant digit written: "72.95%" -> 0.01,
"91.0%" -> 0.1, "3500000" -> 100000 (trailing zeros of an integer are read as rounding),
"3.5M" -> 100000. A claim then "holds at the precision claimed" when the measurement
rounds to it.

Float artifacts: a count stored as a float and truncated to an integer comes out one below
(or above) a round figure: 66.35M written as ``66349999``. An integer of at least 7 digits
that ends in three or more 9s, or in three or more 0s and a final 1, is read as the round
figure next to it (66350000, precision 10000); :func:`round_float_artifact` applies the rule
and the claim keeps the raw text. Metrics that are exact (Image Size, Crop Pct, File Size)
do not use the written precision at all: see ``zoo.index.claims``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Optional, Sequence

_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "t": 10**12}
_NUMBER = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+(?:[eE][+-]?\d+)?)"
    r"\s*(?P<suffix>[kKmMgGbBtT])?\s*(?P<percent>%)?\s*$"
)


MAX_DIGITS = 40
"""Longest number text read (a 5,000-digit figure is not a claim)."""
MAX_EXPONENT = 30
"""Largest power of ten a card number may have (the biggest real figures are about 1e11)."""


@dataclass(frozen=True)
class Number:
    """A number read from a card."""

    value: float
    precision: float
    is_percent: bool
    is_integer: bool
    unit: str = ""
    """The unit word written after the number (``MiB``), one of the ``scales`` it was read with."""


def read_number(raw: str, scales: Sequence[tuple[str, float]] = ()) -> Optional[Number]:
    """Parse ``raw`` as a card number, or ``None`` if it is not one.

    ``scales`` are unit words the number may be followed by (``("MiB", 1048576.0)``, from
    :attr:`zoo.metrics.MetricSpec.scales`): the value and its precision are then in the base unit.

    >>> read_number("97.781 MiB", [("MiB", 1048576.0)]).precision
    1048.576
    """
    text_in = str(raw).rstrip()
    unit, factor = "", 1.0
    for word, size in sorted(scales, key=lambda s: -len(s[0])):  # "MiB" before "B"
        head = text_in[: -len(word)].rstrip()
        if text_in.endswith(word) and head[-1:].isdigit():
            text_in, unit, factor = head, word, size
            break
    match = _NUMBER.match(text_in)
    if not match or (unit and (match.group("suffix") or match.group("percent"))):
        return None
    text = match.group("num").replace(",", "")
    if len(text) > MAX_DIGITS:
        return None
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return None
    if exact and not -MAX_EXPONENT <= exact.adjusted() <= MAX_EXPONENT:
        return None  # 1e400, 1e999999999: no card figure is this big or small
    scale = _SUFFIXES[match.group("suffix").lower()] if match.group("suffix") else 1
    if unit:
        scale = Decimal(repr(factor))
    precision = _last_digit_unit(text) * scale
    value = exact * scale
    is_integer = value == value.to_integral_value()
    return Number(
        value=float(value),
        precision=float(precision),
        is_percent=bool(match.group("percent")),
        is_integer=bool(is_integer),
        unit=unit,
    )


_ARTIFACT = re.compile(r"^\s*[+-]?\d+?(?P<nines>9{3,}|0{3,}1)\s*$")


def round_float_artifact(raw: str) -> Optional[Number]:
    """The round figure a float-truncated count such as ``66349999`` came from, or None (see the module doc)."""
    text = str(raw).strip()
    match = _ARTIFACT.match(text)
    if not match or len(text.lstrip("+-")) < 7:
        return None
    value = int(text)
    rounded = value + 1 if match.group("nines").startswith("9") else value - 1
    return Number(value=float(rounded), precision=float(_last_digit_unit(str(rounded))), is_percent=False, is_integer=True)


def _last_digit_unit(text: str) -> Decimal:
    """The place value of the last significant digit written in ``text``."""
    mantissa, _, exponent = text.lower().partition("e")
    exp = int(exponent) if exponent else 0
    if "." in mantissa:
        decimals = len(mantissa.split(".", 1)[1])
        return Decimal(1).scaleb(exp - decimals)
    digits = mantissa.lstrip("+-")
    stripped = digits.rstrip("0")
    trailing = len(digits) - len(stripped) if stripped else 0
    return Decimal(1).scaleb(exp + trailing)
