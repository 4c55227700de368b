"""Reading the numbers cards write, and the precision they were written with.

Cards write ``3500000``, ``'224'``, ``'0.875'``, ``'72.95%'``, ``3.5M``, ``4.0e-05``. The
precision is the unit of the last significant digit written: "72.95%" -> 0.01,
"91.0%" -> 0.1, "3500000" -> 100000 (trailing zeros of an integer are read as rounding),
"3.5M" -> 100000. A claim then "holds at the precision claimed" when the measurement
rounds to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Optional

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


def read_number(raw: str) -> Optional[Number]:
    """Parse ``raw`` as a card number, or ``None`` if it is not one."""
    match = _NUMBER.match(str(raw))
    if not match:
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
    precision = _last_digit_unit(text) * scale
    value = exact * scale
    is_integer = value == value.to_integral_value()
    return Number(
        value=float(value),
        precision=float(precision),
        is_percent=bool(match.group("percent")),
        is_integer=bool(is_integer),
    )


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
