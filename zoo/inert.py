"""Untrusted text on its way out of zoo, made inert: one rule per kind of reader.

Names, URLs, reasons and image names come from cards, run records, baselines and servers, and
zoo passes them on to a terminal, a spreadsheet or a person skimming a table:

- :func:`inert_text`, for every line printed to a terminal: control characters (C0 but tab and
  newline, DEL, C1) and the bidirectional overrides are shown as visible stand-ins (``ESC`` as
  ``␛``), so an escape sequence in a model name (``ESC [2J`` clears the screen, ``ESC ]0;...BEL``
  sets the window title, ``U+202E`` reverses what follows) is printed, never obeyed;
- :func:`csv_cell`, for every CSV cell zoo writes: OWASP's CSV-injection rule, a text cell that
  starts with ``= + - @``, tab or carriage return gets a leading ``'`` so no spreadsheet runs
  it as a formula (a cell that is a plain number, ``-0.25``, is left as it is);
- :func:`shortened`, for text shown where a person reads it (tables, plots, reports): a name of
  megabytes costs what a short one does; the data exports keep it whole.

Hand-written: each rule is a character table or a prefix, and no library applies exactly these.

>>> inert_text("net\\x1b]0;pwned\\x07")
'net␛]0;pwned␇'
>>> csv_cell('=HYPERLINK("http://x")'), csv_cell("-0.25"), csv_cell(-1)
('\\'=HYPERLINK("http://x")', '-0.25', -1)
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_STAND_INS: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)}
_STAND_INS[0x7F] = "\u2421"  # ␡
_STAND_INS.update({code: "\ufffd" for code in range(0x80, 0xA0)})  # C1, 0x9b being a one-byte CSI
_STAND_INS.update({code: "\ufffd" for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_TABLE = str.maketrans(_STAND_INS)
_NEEDS = re.compile("[" + "".join(re.escape(chr(code)) for code in _STAND_INS) + "]")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

DISPLAY_LIMIT = 80
"""Longest text shown whole where a person reads it; longer text is cut (see :func:`shortened`)."""


def inert_text(text: str) -> str:
    """``text`` with every control character and direction override replaced by a visible stand-in."""
    return text.translate(_TABLE) if _NEEDS.search(text) else text


def inert_json(text: str) -> str:
    """JSON text with the characters :func:`inert_text` replaces written as ``\\uXXXX`` escapes instead:
    the same data, printed inert (``json.dumps`` escapes C0 itself, not C1 or the direction overrides)."""
    return _NEEDS.sub(lambda found: f"\\u{ord(found.group()):04x}", text) if _NEEDS.search(text) else text


_CONSOLE: Any = None


def inert_console(**options: Any) -> Any:
    """A ``rich`` console whose every printed character passes :func:`inert_text` (rich's own styling,
    sent as control segments, is kept) and that reads no markup in strings (``[link=...]`` in a
    model name would make a hyperlink). ``rich`` is imported on first use."""
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console
        from rich.segment import Segment

        class InertConsole(Console):
            """rich's Console with the inert-text rule on what it renders."""

            def render(self, renderable: Any, options: Any = None) -> Any:  # type: ignore[override]
                for segment in super().render(renderable, options):
                    if segment.control or not _NEEDS.search(segment.text):
                        yield segment
                    else:
                        yield Segment(segment.text.translate(_TABLE), segment.style, segment.control)

        _CONSOLE = InertConsole
    return _CONSOLE(**{"markup": False, **options})


def csv_cell(value: Any) -> Any:
    """A CSV cell value that no spreadsheet will run: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(row: Any) -> Any:
    """:func:`csv_cell` over a row: a mapping (for ``csv.DictWriter``) or a sequence."""
    if isinstance(row, dict):
        return {key: csv_cell(value) for key, value in row.items()}
    return [csv_cell(value) for value in row]


def shortened(text: str, limit: int = DISPLAY_LIMIT) -> str:
    """``text`` if it fits in ``limit`` characters, else its first half-limit characters, ``…`` and 8 hex
    of its SHA-256 (so two long names that start alike stay two names)."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{text[: limit // 2]}…{digest}"


__all__ = ["DISPLAY_LIMIT", "csv_cell", "csv_row", "inert_console", "inert_json", "inert_text", "shortened"]
