"""The exit code of a run, from its verdicts alone (design.md's contract)."""

from __future__ import annotations

from typing import Iterable

from zoo.errors import EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_INCOMPLETE, EXIT_OK
from zoo.records import Measurement, Verdict


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
    verdicts = list(verdicts)
    unclaimed = list(unclaimed)
    requested = None if requested_metrics is None else set(requested_metrics)
    if any(v.status == "drift" and v.gating for v in verdicts):
        return EXIT_DRIFT
    if any(v.status == "error" for v in verdicts) or any(m.status == "error" for m in unclaimed):
        return EXIT_BAD_INPUT
    if any(v.status == "unverified" and (requested is None or v.metric in requested) for v in verdicts):
        return EXIT_INCOMPLETE
    if any(m.status == "unavailable" for m in unclaimed):
        return EXIT_INCOMPLETE
    return EXIT_OK
