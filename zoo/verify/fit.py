"""Fitting a zoo's FLOPs conventions over every card of its index.

The fit needs a FLOPs measurement of every card that claims FLOPs, not only of the models a run
checks (:mod:`zoo.judge.conventions`): this module measures the ones not measured yet (on the
meta device: shapes only, a fraction of a second each) and fits. ``zoo conventions fit`` pins the
result; ``zoo verify`` calls it when nothing is pinned, and says so.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence

from zoo import progress
from zoo.judge.conventions import fit_table, samples_of
from zoo.judge.policy import Policy
from zoo.records import ConventionTable, Measurement, ModelCard
from zoo.verify.models import MeasureOptions, measure_model

Say = Callable[[str], None]


def measure_flops(cards: Sequence[ModelCard], known: Optional[Mapping[str, Sequence[Measurement]]] = None) -> dict[str, list[Measurement]]:
    """Every card's measurements holding its FLOPs count: ``known`` where it has one, else measured."""
    known = known or {}
    found: dict[str, list[Measurement]] = {}
    todo = []
    for card in cards:
        have = list(known.get(card.name, ()))
        if any(m.metric == "flops" for m in have):
            found[card.name] = have
        elif card.number("flops"):
            todo.append(card)
    if todo:
        with progress.task("FLOPs of every card", total=len(todo), unit="models") as task:
            for card in todo:
                found[card.name] = measure_model(card, ["flops"], MeasureOptions(), say=lambda _: None).measurements
                task.update()
    return found


def fit_index(
    cards: Sequence[ModelCard], policy: Policy, index_label: str,
    known: Optional[Mapping[str, Sequence[Measurement]]] = None, source: Optional[str] = None,
) -> ConventionTable:
    """The FLOPs conventions of the zoo whose every card is ``cards`` (see the module doc)."""
    measured = measure_flops(cards, known)
    samples = samples_of((card, measured.get(card.name, ())) for card in cards)
    tolerance = policy.tolerance("flops").relative or 0.02
    text = source or f"fitted at run time over every card of {index_label} ({len(samples)} FLOPs claims)"
    return fit_table(samples, tolerance, policy.flops_conventions, source=text)
