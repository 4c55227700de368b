"""Where a fix's verdicts come from: the runs given, or a run made now.

Without a run, :func:`fresh_run` measures the chosen models' config, params and FLOPs (what
needs no network and no data; ``kinds`` chooses among those) and writes a run record, so every
proposal rests on the cards as they are now and names a run id. A File Size or accuracy fix
needs a run that fetched the weights or evaluated them: make it with ``zoo verify`` and pass it.
Either way the runs are judged again by :func:`zoo.judge.gate.gate_records`, as ``zoo gate`` and
``zoo report`` judge them (the same index, tolerances, pinned conventions and lock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from zoo import progress
from zoo.errors import InputError
from zoo.index import Index, load_index
from zoo.judge.gate import GateResult, GateSettings, gate_records, run_index
from zoo.records import RunRecord
from zoo.runs.store import RUN_FILE

if TYPE_CHECKING:
    from zoo.fix.plan import FixPlan

FRESH_KINDS = ("config", "params", "flops")
"""What a fix measures when it is given no run."""


@dataclass(frozen=True)
class Arguments:
    """``zoo fix``'s positional arguments, told apart."""

    models: list[str]
    runs: list[str]


def split_arguments(values: Sequence[str]) -> Arguments:
    """A run.json file, or a folder holding one, is a RUN; anything else names a MODEL."""
    models, runs = [], []
    for value in values:
        path = Path(value)
        if (path.is_file() and path.name == RUN_FILE) or (path.is_dir() and (path / RUN_FILE).is_file()):
            runs.append(value)
        else:
            models.append(value)
    return Arguments(models, runs)


def fresh_run(
    index_paths: Sequence[str], models: Sequence[str], all_models: bool, kinds: Sequence[str], results: Path,
    *, tolerances: Optional[str] = None, conventions: Optional[str] = None, today: Optional[dt.date] = None,
) -> RunRecord:
    """Measure ``kinds`` of the chosen models and write the run record in ``results``."""
    from zoo.judge.policy import load_policy
    from zoo.judge.zoo_data import load_zoo_data
    from zoo.verify.pipeline import VerifyRequest, run_verify

    unknown = [k for k in kinds if k not in FRESH_KINDS]
    if unknown:
        raise InputError(
            f"zoo fix measures only {', '.join(FRESH_KINDS)} itself, not {', '.join(unknown)}",
            hint="run `zoo verify --only ...` for the weights or accuracy and pass its run folder to zoo fix",
        )
    index = load_index(index_paths)
    if index.from_folder:
        progress.note(f"zoo: {index.describe_files()}")
    cards = index.select(models, all_models)
    policy = load_policy(tolerances)
    zoo = load_zoo_data(index.roots, index.digests, conventions=conventions, policy=policy)
    request = VerifyRequest(
        cards=cards, kinds=[k for k in FRESH_KINDS if k in kinds], policy=policy, results=results,
        index_paths=index.roots, reference_tables=zoo.reference_tables, today=today or dt.date.today(), zoo=zoo,
        index_cards=index.models, options={"command": "fix", "only": ",".join(kinds), "conventions": conventions, "tolerances": tolerances},
    )
    record, path = run_verify(request, say=progress.note)
    if path is not None:
        progress.note(f"run record: {path}")
    return record


def judged(runs: Sequence[RunRecord], settings: GateSettings) -> tuple[list[GateResult], Index]:
    """The runs judged again (see the module doc) and the index they were judged against."""
    results = gate_records(runs, settings)
    roots = {tuple(run.index) for run in runs}
    if settings.index_paths:
        index = load_index(settings.index_paths)
    elif len(roots) == 1:
        index = run_index(runs[0])
    else:
        raise InputError(
            "the runs given were made from different indexes: " + "; ".join(", ".join(r) for r in sorted(roots)),
            hint="fix one index at a time, or pass --index",
        )
    return results, index


def propose(
    records: Sequence[RunRecord], settings: GateSettings, models: Optional[Sequence[str]], results: Path,
) -> "FixPlan":
    """The fix plan for ``records``: judged again (:func:`judged`), planned (:func:`zoo.fix.plan.plan_fixes`),
    and, where a model gets a new config value, its params and FLOPs counted again with it
    (:mod:`zoo.fix.recount`, a second run written in ``results``)."""
    from dataclasses import replace

    from zoo.fix.plan import card_digests, plan_fixes
    from zoo.fix.recount import merge_recount, recount, with_new_config

    outcomes, index = judged(records, settings)
    for outcome in outcomes:
        for note in outcome.notes:
            progress.note(f"zoo: {note}")
    plan = card_digests(plan_fixes([outcome.run for outcome in outcomes], index, models), records)
    cards = with_new_config(plan, index)
    if not cards:
        return plan
    first = next(o.run for o in outcomes if any(r.card.name == cards[0].name for r in o.run.models))
    second = recount(cards, first, index, results, tolerances=settings.tolerances, today=settings.today)
    [again] = gate_records([second], replace(settings, index_paths=(), stored_claims=True))
    merged = merge_recount(plan, plan_fixes([again.run], index), again.run)
    return replace(merged, digests=plan.digests, unhashed=plan.unhashed)
