"""A new config value moves other claims: count the model again with it before proposing them.

A model's FLOPs are counted at its card's Image Size (and, under an ``@resize`` convention, the
size its Crop Pct gives), and the card's Image Size, Crop Pct and Interpolation take part in
choosing the pretrained tag whose config is compared. So when a fix gives a model a new config
value, the FLOPs (and parameter) verdicts of the run no longer describe the card it writes:
written as they stand, the FLOPs claim would drift in the next ``zoo verify`` (timm's Big
Transfer cards: Image Size 480 -> 448, and every FLOPs claim counted at 480 is then 13% high).

:func:`recount` measures config, params and FLOPs again for those models only, on their cards
with the new config values (in memory; nothing is written), against the same FLOPs conventions,
and records it as a run of its own; :func:`merge_recount` then takes those models' params and
FLOPs proposals from that run, and keeps a config change only where the new card's config
verdicts pass (else timm would pick another tag for it, and the change is left alone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Optional

from zoo import progress
from zoo.fix.plan import Change, FixPlan, LeftAlone, reread_claim
from zoo.index import Index
from zoo.metrics import MEASUREMENT_KINDS, spec
from zoo.records import ModelCard, RunRecord

CONFIG_METRICS = frozenset(MEASUREMENT_KINDS["config"])
RECOUNT_KINDS = ("config", "params", "flops")


def with_new_config(plan: FixPlan, index: Index) -> list[ModelCard]:
    """The cards of the models ``plan`` gives a new config value, with those values as claims."""
    cards = {card.name: card for card in index.models}
    changed: dict[str, ModelCard] = {}
    for change in plan.changes:
        if change.metric not in CONFIG_METRICS:
            continue
        for name in change.models:
            card = changed.get(name) or cards[name]
            old = card.claims[change.metric]
            new = reread_claim(old, spec(change.metric), change.new)
            if isinstance(new, str):  # plan_fixes read it already; it cannot fail here
                raise AssertionError(new)
            changed[name] = replace(card, claims={**card.claims, change.metric: new})
    return list(changed.values())


def recount(cards: list[ModelCard], first: RunRecord, index: Index, results: Path, *,
            tolerances: Optional[str] = None, today: Optional[dt.date] = None) -> RunRecord:
    """Config, params and FLOPs of ``cards`` measured and judged again, against the FLOPs
    conventions ``first`` was judged with; the run record is written in ``results``."""
    from zoo.judge.policy import load_policy
    from zoo.judge.zoo_data import load_zoo_data
    from zoo.verify.pipeline import VerifyRequest, run_verify

    policy = load_policy(tolerances)
    zoo = load_zoo_data(index.roots, index.digests, policy=policy)
    if first.judged_against is not None:
        zoo = replace(zoo, conventions=first.judged_against.conventions, pinned=True)
    progress.note(f"zoo fix: counting {len(cards)} model(s) again with their new config: {', '.join(c.name for c in cards)}")
    request = VerifyRequest(
        cards=cards, kinds=list(RECOUNT_KINDS), policy=policy, results=results, index_paths=index.roots,
        reference_tables=zoo.reference_tables, today=today or dt.date.today(), zoo=zoo, index_cards=index.models,
        options={"command": "fix (recount with the new config values)", "recount_of": first.run_id},
    )
    record, path = run_verify(request, say=progress.note)
    if path is not None:
        progress.note(f"run record: {path}")
    return record


def merge_recount(first: FixPlan, second: FixPlan, recounted: RunRecord) -> FixPlan:
    """``first`` with the params and FLOPs of the recounted models taken from ``second`` (see the
    module doc). Where the recounted verdict of a changed config claim is not ``pass``, every config change of that
    model (and of the models sharing one of them) is left alone, and its params and FLOPs stay
    those of ``first``, counted with the card's config as it is."""
    config = [c for c in first.changes if c.metric in CONFIG_METRICS]
    changed = {(name, c.metric) for c in config for name in c.models}
    why: dict[str, str] = {}
    for result in recounted.models:
        for verdict in result.verdicts:
            name = result.card.name
            if (name, verdict.metric) in changed and verdict.status != "pass" and name not in why:
                why[name] = f"{verdict.metric} is {verdict.status} on the new card ({verdict.explanation})"
    reverted = set(why)
    growing = True
    while growing:  # a shared (collection) value reverts every model that inherits it
        touched = {name for c in config if set(c.models) & reverted for name in c.models}
        growing = not touched <= reverted
        reverted |= touched
    moved = {result.card.name for result in recounted.models} - reverted
    changes: list[Change] = []
    left: list[LeftAlone] = []
    for change in first.changes:
        if change.metric in CONFIG_METRICS and set(change.models) & reverted:
            cause = next((why[n] for n in change.models if n in why), "a config value it shares is left alone")
            reason = f"with the new value {change.new!r}, {cause}; zoo leaves the card's config as it is"
            left += [LeftAlone(n, change.metric, change.field, str(change.source), "drift", "refused", reason) for n in change.models]
        elif change.metric in CONFIG_METRICS or not set(change.models) & moved:
            changes.append(change)
    changes += [c for c in second.changes if c.metric not in CONFIG_METRICS and set(c.models) <= moved]
    left += [item for item in first.left_alone if item.model not in moved or item.metric in CONFIG_METRICS]
    left += [item for item in second.left_alone if item.model in moved and item.metric not in CONFIG_METRICS]
    return FixPlan(changes=changes, left_alone=left, runs=first.runs + second.runs)
