"""``zoo gate`` over many runs: each run's gate text and exit code, from the history cache when it has them.

Judging a run again costs reading it whole (megabytes for a run of fifty models) and
judging every claim; over a year of nightly runs that is minutes. What the gate prints of a
run depends only on the run's records, the index, the tolerances and waivers in force, the
weights lock and zoo's own code, so it is kept in the history cache (:mod:`zoo.runs.cache`)
under those and served again while none of them changes. The first line (which names the
day the waivers were judged on) is written anew each time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence

from zoo.judge.gate import rejudge
from zoo.judge.policy import Policy
from zoo.runs.cache import DerivedCache, canonical, code_fingerprint, key_of
from zoo.runs.history import StoredRun
from zoo.views.gate_text import gate_head, gate_lines
from zoo.views.history_data import judging_inputs

if TYPE_CHECKING:
    from zoo.index import Index
    from zoo.weights.lockfile import WeightsLock

GATE_KIND = "gate-text"


@dataclass(frozen=True)
class RunGate:
    """What the gate found in one run, as text."""

    run_id: str
    lines: list[str]
    code: int


def _payload(run_id: str, models: int, claims: int, lines: list[str], code: int) -> dict[str, Any]:
    return {"run_id": run_id, "models": models, "claims": claims, "rest": lines[1:], "code": code}


def _from_payload(payload: Any, judged_on: str, index: Optional["Index"], policy: Policy) -> Optional[RunGate]:
    if not isinstance(payload, dict) or set(payload) != {"run_id", "models", "claims", "rest", "code"}:
        return None
    rest, code = payload["rest"], payload["code"]
    if not isinstance(rest, list) or not all(isinstance(line, str) for line in rest) or not isinstance(code, int):
        return None
    head = gate_head(str(payload["run_id"]), int(payload["models"]), int(payload["claims"]), judged_on, index, policy)
    return RunGate(str(payload["run_id"]), [head, *rest], code)


def gate_history(
    runs: Sequence[StoredRun],
    policy: Policy,
    cache: DerivedCache,
    *,
    index: Optional["Index"] = None,
    today: Optional[dt.date] = None,
    lock: Optional["WeightsLock"] = None,
) -> Iterator[RunGate]:
    """Each run's gate text and exit code, in order, as :func:`zoo.views.gate_text.gate_lines`
    writes them for :func:`zoo.judge.gate.rejudge`'s result; runs are read one at a time."""
    today = today or dt.date.today()
    judging = judging_inputs(
        policy, today,
        index=None if index is None else {"roots": index.roots, "cards": canonical(index.models)},
        lock=None if lock is None else {"path": str(lock.path), "entries": canonical(lock.entries)},
    )
    fingerprint = key_of(GATE_KIND, judging, code_fingerprint())
    for run in runs:
        key = key_of(fingerprint, run.sha256s)
        found = _from_payload(cache.get(GATE_KIND, key), today.isoformat(), index, policy) if cache.active else None
        if found is None:
            result = rejudge(run.load(), policy, index=index, today=today, lock=lock)
            lines = gate_lines(result, index, policy)
            found = RunGate(result.run.run_id, lines, result.code)
            cache.put(GATE_KIND, key, _payload(result.run.run_id, len(result.run.models), len(result.run.verdicts()), lines, result.code))
        yield found


__all__ = ["RunGate", "gate_history"]
