"""A run record as a person is shown it: over-long text shortened, so a name of megabytes costs
what a short one does (tables lay it out, plots draw it, a report embeds it once per mention).

:func:`display_run` returns a copy in which model names longer than :data:`zoo.inert.DISPLAY_LIMIT`
and other texts longer than :data:`TEXT_LIMIT` are cut by :func:`zoo.inert.shortened` (the head of
the text, ``…`` and 8 hex of its hash, so two names that start alike stay apart). The tables,
plots, HTML and Markdown read the copy; the data exports (CSV, JSON, JUnit XML) read the record
itself and keep every name whole. A record with nothing long is returned as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from zoo.inert import DISPLAY_LIMIT, shortened
from zoo.records import Claim, Measurement, ModelResult, PairedEstimate, RunRecord, Verdict
from zoo.views.history_data import History, RunDigest

TEXT_LIMIT = 2000
"""Longest reason, method or explanation shown whole (zoo's own run to a few hundred characters)."""


def display_run(run: RunRecord) -> RunRecord:
    """``run`` with long names and texts shortened for display (see the module's docstring)."""
    models = [_model(result) for result in run.models]
    if all(new is old for new, old in zip(models, run.models)):
        return run
    return replace(run, models=models)


def display_history(history: History) -> History:
    """``history`` as people are shown it: its whole runs through :func:`display_run`, its digests'
    model names and notes shortened the same way."""
    current, previous = display_run(history.current), history.previous and display_run(history.previous)
    runs = [_digest(digest) for digest in history.runs]
    if current is history.current and previous is history.previous and all(a is b for a, b in zip(runs, history.runs)):
        return history
    return replace(history, current=current, previous=previous, runs=runs)


def _digest(digest: RunDigest) -> RunDigest:
    names = [_text(name, DISPLAY_LIMIT) for name in digest.names]
    notes = [_text(note) for note in digest.notes]
    if all(a is b for a, b in zip(names + notes, digest.names + digest.notes)):
        return digest
    claims = {metric: {_text(name, DISPLAY_LIMIT): value for name, value in column.items()} for metric, column in digest.claims.items()}
    return replace(digest, names=names, notes=notes, claims=claims)


def _text(value: Any, limit: int = TEXT_LIMIT) -> Any:
    return shortened(value, limit) if isinstance(value, str) and len(value) > limit else value


def _model(result: ModelResult) -> ModelResult:
    name = _text(result.card.name, DISPLAY_LIMIT)
    measurements = [_measurement(m) for m in result.measurements]
    verdicts = [_verdict(v, result.card.name, name) for v in result.verdicts]
    same = name is result.card.name and all(a is b for a, b in zip(measurements + verdicts, result.measurements + result.verdicts))
    if same:
        return result
    card = replace(result.card, name=name, claims={key: _claim(claim) for key, claim in result.card.claims.items()})
    return replace(result, card=card, measurements=measurements, verdicts=verdicts)


def _claim(claim: Optional[Claim]) -> Optional[Claim]:
    if claim is None or (_text(claim.raw) is claim.raw and _text(claim.value) is claim.value):
        return claim
    return replace(claim, raw=_text(claim.raw), value=_text(claim.value))


def _measurement(m: Optional[Measurement]) -> Optional[Measurement]:
    if m is None:
        return None
    changes: dict[str, Any] = {}
    for key in ("reason", "method"):
        value = getattr(m, key)
        if _text(value) is not value:
            changes[key] = _text(value)
    if any(_text(value) is not value for value in m.conditions.values()):
        changes["conditions"] = {key: _text(value) for key, value in m.conditions.items()}
    paired = _paired(m.paired)
    if paired is not m.paired:
        changes["paired"] = paired
    return replace(m, **changes) if changes else m


def _paired(paired: Optional[PairedEstimate]) -> Optional[PairedEstimate]:
    if paired is None or not any(len(c.name) > DISPLAY_LIMIT for c in paired.changed):
        return paired
    return replace(paired, changed=[replace(c, name=_text(c.name, DISPLAY_LIMIT)) for c in paired.changed])


def _verdict(verdict: Verdict, original: str, name: str) -> Verdict:
    changes: dict[str, Any] = {}
    if name is not original or len(verdict.model) > DISPLAY_LIMIT:  # the card's name, shortened once
        changes["model"] = name if verdict.model == original else _text(verdict.model, DISPLAY_LIMIT)
    if _text(verdict.explanation) is not verdict.explanation:
        changes["explanation"] = _text(verdict.explanation)
    measurement, claim = _measurement(verdict.measurement), _claim(verdict.claim)
    if measurement is not verdict.measurement:
        changes["measurement"] = measurement
    if claim is not verdict.claim:
        changes["claim"] = claim
    return replace(verdict, **changes) if changes else verdict


__all__ = ["TEXT_LIMIT", "display_history", "display_run"]
