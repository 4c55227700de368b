"""A new value written the way the card wrote the old one.

A card that writes ``3500000`` (to the 100,000, as the judge reads it) gets the measured count
rounded to the 100,000; ``4520000`` (to the 10,000) gets ``4540000``; ``72.95%`` keeps two
decimals and its percent sign; a fraction ``0.7295`` stays a fraction with four decimals;
``0.875`` (Crop Pct) keeps three decimals; ``3.5M`` keeps its suffix and one decimal;
``3,504,872`` keeps its thousands separators; ``'224'`` and File Size stay exact whole numbers.
The precision is the claim's own (:attr:`zoo.records.Claim.precision`, read by
:mod:`zoo.index.values` and :mod:`zoo.index.claims`), so the judge reads the new text at the
precision the old one had. Quoting is kept by the editor (:mod:`zoo.fix.edit`), not here.

Rounding is half-even in decimal on the shortest text of the float, so a figure exactly halfway
is not moved by binary rounding.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Union

from zoo.index.values import round_float_artifact
from zoo.metrics import MetricSpec
from zoo.records import Claim

_FORM = re.compile(
    r"^(?P<lead>\s*)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d*))?"
    r"(?P<mid>\s*)(?P<suffix>[kKmMgGbBtT])?(?P<gap>\s*)(?P<percent>%)?(?P<trail>\s*)$"
)
_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "t": 10**12}
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


class NotWritable(ValueError):
    """The new value cannot be written in the claim's form; the message says why."""


def written_like(claim: Claim, spec: MetricSpec, value: Union[int, float, str]) -> str:
    """``value`` (in the metric's unit: percent, bytes, a fraction for Crop Pct) as text in the
    form and at the precision of ``claim.raw`` (see the module doc). Raises :class:`NotWritable`."""
    if spec.read == "text":
        return _word(str(value))
    if spec.read in ("url", "rate"):
        raise NotWritable(f"zoo does not write {spec.label} values ({spec.read}) into cards")
    if isinstance(value, str) or isinstance(value, bool):
        raise NotWritable(f"the measured {spec.label} {value!r} is not a number")
    match = _FORM.match(claim.raw)
    if match is None:
        raise NotWritable(
            f"{claim.raw!r} is written in a form zoo does not rewrite (a sign, an exponent, or text around the number)"
        )
    scale = Decimal(_SUFFIXES[match.group("suffix").lower()]) if match.group("suffix") else Decimal(1)
    if spec.read == "percent" and not match.group("percent"):
        scale = Decimal(100) if _is_fraction(claim.raw) else scale  # "0.7295" is 72.95%
    quantum = _quantum(claim, spec, match, scale)
    try:
        exact = Decimal(repr(float(value))) / scale
        if not exact.is_finite():
            raise InvalidOperation
        rounded = (exact / quantum).to_integral_value(ROUND_HALF_EVEN) * quantum
    except (InvalidOperation, OverflowError, ValueError):
        raise NotWritable(f"the measured {spec.label} {value!r} is not a finite number") from None
    if rounded < 0:
        raise NotWritable(f"the measured {spec.label} {value!r} is negative")
    decimals = len(match.group("frac") or "") if match.group("frac") is not None else 0
    decimals = max(decimals, -quantum.as_tuple().exponent if quantum < 1 else 0)
    separator = "," if "," in match.group("int") else ""
    number = f"{rounded:{separator}.{decimals}f}"
    if match.group("frac") == "":  # "3." keeps its bare point
        number += "."
    after = "".join(match.group(part) or "" for part in ("mid", "suffix", "gap", "percent", "trail"))
    return match.group("lead") + number + after


def _quantum(claim: Claim, spec: MetricSpec, match: re.Match[str], scale: Decimal) -> Decimal:
    """The unit of the last digit to write, in the units the text is written in (``scale`` is
    what one written unit is worth in the metric's unit: 10**6 for "M", 100 for a fraction)."""
    if spec.read in ("bytes", "size"):
        if match.group("frac") or scale != 1:
            raise NotWritable(f"{claim.raw!r} is not written as a whole number")
        return Decimal(1)
    precision = claim.precision
    if spec.read == "count" and round_float_artifact(claim.raw) is not None:
        precision = round_float_artifact(claim.raw).precision  # type: ignore[union-attr]
    if not precision:
        raise NotWritable(f"{claim.raw!r} has no precision to write at")
    quantum = Decimal(repr(float(precision))) / scale
    return quantum.normalize() if quantum >= 1 else quantum


def _is_fraction(raw: str) -> bool:
    try:
        number = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        return False
    return 0 < number <= 1


def _word(text: str) -> str:
    """A text value (Interpolation) as a card writes it: one plain word."""
    if not _WORD.match(text):
        raise NotWritable(f"the measured value {text!r} is not one plain word")
    return text
