"""``zoo gate`` over many runs: each run's gate text and exit code, from the history cache when it has them.

Judging a run again costs reading it whole (megabytes for a run of fifty models) and
judging every claim; over a year of nightly runs that is minutes. What the gate prints of a
run depends only on the run's records and what the judging rests on (the index's cards, the
tolerances and waivers in force, the FLOPs conventions, the weights lock, zoo's own code:
:class:`zoo.views.history_data.JudgingKeys`), so it is kept in the history cache
(:mod:`zoo.runs.cache`) under those and served again while none of them changes. The first
line (which names the day the waivers were judged on) is written anew each time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from zoo.judge.gate import Gate
from zoo.judge.tally import tally
from zoo.runs.cache import DerivedCache, key_of
from zoo.runs.history import StoredRun
from zoo.views.display import display_run
from zoo.views.gate_text import GateHead, gate_lines
from zoo.views.history_data import JudgingKeys

GATE_KIND = "gate-text"


@dataclass(frozen=True)
class RunGate:
    """What the gate found in one run, as text."""

    run_id: str
    lines: list[str]
    code: int


def _from_payload(payload: Any, judged_on: str) -> Optional[RunGate]:
    if not isinstance(payload, dict) or set(payload) != {"head", "rest", "code"}:
        return None
    rest, code = payload["rest"], payload["code"]
    if not isinstance(rest, list) or not all(isinstance(line, str) for line in rest) or not isinstance(code, int):
        return None
    try:
        head = GateHead(**payload["head"])
    except TypeError:
        return None
    return RunGate(head.run_id, [head.line(judged_on), *rest], code)


def gate_history(runs: Sequence[StoredRun], gate: Gate, cache: DerivedCache) -> Iterator[RunGate]:
    """Each run's gate text and exit code, in order, as :func:`zoo.views.gate_text.gate_lines`
    writes them for ``gate``'s judgement; runs are read one at a time."""
    judged_on = gate.today.isoformat()
    keys = JudgingKeys(gate, GATE_KIND)
    for run in runs:
        key = key_of(keys.of(run.header), run.sha256s)
        found = _from_payload(cache.get(GATE_KIND, key), judged_on) if cache.active else None
        if found is None:
            result = gate.judge(run.load())
            lines = gate_lines(dataclasses.replace(result, run=display_run(result.run)))  # long names shortened
            found = RunGate(result.run.run_id, lines, result.code)
            head = GateHead.of(result)
            cache.put(GATE_KIND, key, {"head": head.__dict__, "rest": lines[1:], "code": result.code})
        yield found


__all__ = ["RunGate", "gate_history"]
