"""Long reasons said once: a row shows the reason's first clause and a note number, the whole
text stands once under the table (terminal and HTML alike).

>>> notes = Notes()
>>> reason = "weights unavailable: m.pth from https://example.org/m.pth: cannot resolve the host name"
>>> notes.refer(reason, 40), notes.refer(reason, 40), notes.texts
('weights unavailable [1]', 'weights unavailable [1]', {'weights unavailable: m.pth from https://example.org/m.pth: cannot resolve the host name': 1})
"""

from __future__ import annotations


def first_clause(text: str, keep: int) -> str:
    """The start of ``text`` a reader needs, at most ``keep`` characters: up to its first ". "
    or "; ", else before its first ": ", else cut with "…"."""
    first = text.split(". ", 1)[0].split("; ", 1)[0]
    if len(first) > keep and ": " in first:  # "weights unavailable: <file> from <url>: ..." -> "weights unavailable"
        first = first.split(": ", 1)[0]
        if first.count("(") > first.count(")"):
            first = first.rsplit(" (", 1)[0]
    if len(first) > keep:
        first = first[: keep - 1].rstrip() + "…"
    return first


class Notes:
    """Numbered full texts, each said once however many rows refer to it."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def refer(self, text: str, room: int) -> str:
        """``text`` itself if it fits in ``room`` characters, else its first clause and a note number."""
        if len(text) <= room:
            return text
        number, mark = self.number(text)
        return first_clause(text, max(room - len(mark), 12)) + mark

    def number(self, text: str) -> tuple[int, str]:
        """The note number of ``text`` (a new one the first time) and its mark, ``" [N]"``."""
        number = self.texts.setdefault(text, len(self.texts) + 1)
        return number, f" [{number}]"


__all__ = ["Notes", "first_clause"]
