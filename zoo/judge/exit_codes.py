"""Exit codes: what each means, which wins when several apply, and a run's code from its verdicts.

The numbers are in :mod:`zoo.errors` (every :class:`~zoo.errors.ZooError` carries one); their
meanings (:data:`MEANINGS`, shown in every command's ``--help``) and the one rule that combines
several codes (:func:`worst_code`, used by verify, gate, fetch and lock) are here.
"""

from __future__ import annotations

from typing import Iterable

from zoo.errors import EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_OK
from zoo.records import Measurement, Verdict

MEANINGS: dict[int, str] = {
    EXIT_OK: "every gating claim passes or is waived; every requested measurement was made",
    EXIT_DRIFT: "at least one gating claim drifted beyond its tolerance",
    EXIT_BAD_INPUT: "bad usage or bad input (unreadable index, unknown model, bad option)",
    EXIT_INCOMPLETE: "incomplete: a requested measurement could not be made or could not decide a claim, nothing drifted",
    EXIT_INTERNAL: "zoo itself failed (a bug; the traceback says where)",
}
"""Exit code -> what it means, for every command."""

PRECEDENCE: tuple[int, ...] = (EXIT_INTERNAL, EXIT_DRIFT, EXIT_BAD_INPUT, EXIT_INCOMPLETE)
"""When several codes apply, the first of these present wins: a bug, then drift, then bad
input, then incomplete; 0 only when none applies."""

EXIT_CODES_HELP = "\b\nExit codes:\n" + "".join(f"  {code}  {text}\n" for code, text in MEANINGS.items())
"""The exit-code table for a click epilog (``\\b`` keeps click from re-wrapping it)."""


def worst_code(codes: Iterable[int]) -> int:
    """The one code for several outcomes (models, runs, files) by :data:`PRECEDENCE`.

    >>> worst_code([3, 2, 0]), worst_code([3, 1]), worst_code([])
    (2, 1, 0)
    """
    present = set(codes)
    for code in PRECEDENCE:
        if code in present:
            return code
    return EXIT_OK


def verdict_code(verdict: Verdict, requested: set[str] | None = None) -> int:
    """The code one verdict calls for: gating drift 1, error 2, unverified (when requested) 3."""
    if verdict.status == "drift" and verdict.gating:
        return EXIT_DRIFT
    if verdict.status == "error":
        return EXIT_BAD_INPUT
    if verdict.status == "unverified" and (requested is None or verdict.metric in requested):
        return EXIT_INCOMPLETE
    return EXIT_OK


def exit_code(
    verdicts: Iterable[Verdict],
    requested_metrics: Iterable[str] | None = None,
    unclaimed: Iterable[Measurement] = (),
) -> int:
    """1 if a gating claim drifted; else 2 if a claim errored on bad input; else 3 if a
    measurement that was asked for could not be made; else 0.

    ``requested_metrics`` limits "incomplete" to measurements the run asked for (a claim left
    unmeasured by ``--only``/``--skip`` does not make the run incomplete); ``None`` counts all.
    ``unclaimed`` are requested measurements no claim judges: one that failed on bad input
    counts as an error, one that could not be made as incomplete, claim or not.
    """
    requested = None if requested_metrics is None else set(requested_metrics)
    codes = [verdict_code(v, requested) for v in verdicts]
    codes += [EXIT_BAD_INPUT if m.status == "error" else EXIT_INCOMPLETE for m in unclaimed if m.status != "ok"]
    return worst_code(codes)


__all__ = ["EXIT_CODES_HELP", "MEANINGS", "PRECEDENCE", "exit_code", "verdict_code", "worst_code"]
