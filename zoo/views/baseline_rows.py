"""What the reports show of paired verdicts: per model, the baseline and the changed images."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from zoo.records import ChangedPrediction, Metric, RunRecord

MAX_LISTED = 200
"""Changed images listed per model in a report (the run record keeps them all)."""


@dataclass(frozen=True)
class BaselineChanges:
    """One model's pairing with its baseline, as a report shows it."""

    model: str
    baseline: str
    used: bool
    reason: Optional[str] = None
    images: int = 0
    gained: int = 0
    lost: int = 0
    changed_count: int = 0
    changed: list[ChangedPrediction] = field(default_factory=list)
    """At most :data:`MAX_LISTED` of them."""

    @property
    def more(self) -> int:
        return self.changed_count - len(self.changed)


def baseline_changes(run: RunRecord) -> list[BaselineChanges]:
    """Every model whose top-1 was paired with (or refused) a baseline, in run order."""
    rows = []
    for result in run.models:
        top1 = result.measurement(Metric.TOP1.value)
        paired = top1.paired if top1 is not None else None
        if paired is None:
            continue
        rows.append(
            BaselineChanges(
                model=result.card.name, baseline=paired.baseline, used=paired.used, reason=paired.reason,
                images=paired.images, gained=paired.gained, lost=paired.lost, changed_count=paired.changed_count,
                changed=list(paired.changed[:MAX_LISTED]),
            )
        )
    return rows
