"""The edits as one unified diff that ``git apply`` (or ``patch -p1``) accepts.

Paths are the files' paths as shown (relative to the working folder when inside it), under
``a/`` and ``b/``: run ``git apply`` from that folder. Lines are split on ``\\n`` only, so a
CRLF line keeps its ``\\r`` (git applies it byte for byte) and a character such as U+2028
inside a line does not split it; a last line without a newline is marked as diff marks it.
"""

from __future__ import annotations

import difflib
from typing import Sequence

from zoo.fix.edit import FileEdit

NO_NEWLINE = "\\ No newline at end of file\n"
CONTEXT = 3


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return lines + ([parts[-1]] if parts[-1] else [])


def unified_diff(edits: Sequence[FileEdit]) -> str:
    """Every file's change, in the order given."""
    out: list[str] = []
    for edit in edits:
        before = _lines(edit.before.decode("utf-8"))
        after = _lines(edit.after.decode("utf-8"))
        out += [f"diff --git a/{edit.path} b/{edit.path}\n", f"--- a/{edit.path}\n", f"+++ b/{edit.path}\n"]
        if len(before) == len(after):
            hunks = _line_for_line(before, after)
        else:  # an edit replaces values within lines and never adds one; kept general all the same
            hunks = list(difflib.unified_diff(before, after, n=CONTEXT))[2:]
        out += [line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in hunks]
    return "".join(out)


def _line_for_line(before: list[str], after: list[str]) -> list[str]:
    """Hunks for texts whose lines correspond one to one: each changed line is a -/+ pair, with
    CONTEXT lines around. Written out rather than left to difflib, whose matcher can pair an
    unchanged line that repeats often in a long card (``Image Size: '224'``) with another copy
    and show it removed and added."""
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    groups: list[list[int]] = []
    for i in changed:
        if groups and i - groups[-1][-1] <= 2 * CONTEXT:
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for group in groups:
        low, high = max(0, group[0] - CONTEXT), min(len(before), group[-1] + CONTEXT + 1)
        out.append(f"@@ -{low + 1},{high - low} +{low + 1},{high - low} @@\n")
        i = low
        while i < high:
            if before[i] == after[i]:
                out.append(" " + before[i])
                i += 1
                continue
            run = i
            while run < high and before[run] != after[run]:
                run += 1
            out += ["-" + line for line in before[i:run]] + ["+" + line for line in after[i:run]]
            i = run
    return out
