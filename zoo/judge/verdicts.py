"""The one judge: cards and their measurements, judged against a zoo's data, become verdicts.

A verdict is a function of the claim, the measurement and the zoo's data (tolerances, gating
metrics and waivers, the pinned FLOPs conventions, the weights lock, the published benchmark
tables) and the date, and of nothing else: ``zoo verify``, ``zoo gate`` and ``zoo report`` all
judge through :func:`judge_models`, one model at a time, so a model gets the same verdict alone,
in a shard or in the whole zoo. Published figures for the measuring device become claims here
(:func:`zoo.index.reference.attach_reference`), before any claim is judged.

Example::

    zoo = load_zoo_data(index.roots, index.digests)
    results = judge_models([(card, measurements)], zoo, dt.date.today())
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from zoo.judge.compare import judge
from zoo.judge.policy import Policy
from zoo.judge.zoo_data import ZooData
from zoo.metrics import Metric
from zoo.records import Claim, Measurement, ModelCard, ModelResult, Verdict

if TYPE_CHECKING:
    from zoo.index.reference import ReferenceTable


def with_references(card: ModelCard, measurements: Sequence[Measurement], tables: Sequence["ReferenceTable"] = ()) -> ModelCard:
    """``card`` with a throughput claim from a published figure for the device the throughput
    was measured on (the card's own ``FPS (<device>)`` key first, else a table's row)."""
    from zoo.index.reference import attach_reference

    throughput = next((m for m in measurements if m.metric == Metric.THROUGHPUT.value and m.status == "ok"), None)
    return attach_reference(card, throughput, tables) if throughput is not None else card


def judge_model(card: ModelCard, measurements: Sequence[Measurement], zoo: ZooData, today: dt.date) -> ModelResult:
    """One model's verdicts (see the module doc)."""
    card = with_references(card, measurements, zoo.reference_tables)
    convention = zoo.conventions.for_collection(card.collection)
    verdicts = judge(card, measurements, zoo.policy, today, lock=zoo.lock, convention=convention)
    return ModelResult(card=card, measurements=list(measurements), verdicts=verdicts + problem_verdicts(card, zoo.policy))


CARD_METRIC = "card"
"""The metric of an ``error`` verdict about a model's entry itself (an undefined collection)."""


def problem_verdicts(card: ModelCard, policy: Policy) -> list[Verdict]:
    """One ``error`` verdict per problem of the card's own entry (a claim that cannot be read, an
    undefined collection): the model's error, named with ``file:line`` and what to do."""
    found = []
    for problem in card.problems:
        metric = problem.metric or CARD_METRIC
        written = Claim(metric, problem.field, "", "", problem.source)
        tolerance = policy.tolerance(metric) if problem.metric else None
        found.append(Verdict(
            model=card.name, metric=metric, status="error", explanation=f"bad input in the card: {problem.message}",
            claim=written, tolerance=tolerance, gating=bool(tolerance and tolerance.gate),
        ))
    return found


def judge_models(
    pairs: Iterable[tuple[ModelCard, Sequence[Measurement]]], zoo: ZooData, today: Optional[dt.date] = None
) -> list[ModelResult]:
    """Every model's verdicts, each judged on its own against ``zoo``."""
    today = today or dt.date.today()
    return [judge_model(card, measurements, zoo, today) for card, measurements in pairs]


def with_policy(zoo: ZooData, policy: Policy) -> ZooData:
    return replace(zoo, policy=policy)
