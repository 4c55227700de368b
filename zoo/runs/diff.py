"""Which images changed prediction between two runs, per model (for ``zoo diff``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from zoo.errors import InputError
from zoo.runs.predictions import ARTIFACT_NAME, ImagePredictions, read_predictions


@dataclass(frozen=True)
class ChangedImage:
    """An image whose top-1 prediction differs between run A and run B."""

    name: str
    label: int
    before: int
    """Top-1 class in run A (-1: unreadable there)."""
    after: int

    @property
    def change(self) -> str:
        """ "fixed" (wrong -> right), "broken" (right -> wrong) or "wrong" (wrong -> other wrong)."""
        if self.after == self.label:
            return "fixed"
        if self.before == self.label:
            return "broken"
        return "wrong"


@dataclass(frozen=True)
class ModelDiff:
    """How one model's predictions moved between two runs."""

    model: str
    common: int
    """Images scored in both runs."""
    changed: list[ChangedImage] = field(default_factory=list)
    only_in_a: int = 0
    only_in_b: int = 0
    label_mismatches: int = 0
    """Images present in both with different labels (different label sources)."""

    def count(self, change: str) -> int:
        return sum(1 for c in self.changed if c.change == change)


@dataclass(frozen=True)
class RunDiff:
    models: list[ModelDiff]
    only_in_a: list[str]
    """Models with predictions in run A only."""
    only_in_b: list[str]


def diff_predictions(a: Mapping[str, ImagePredictions], b: Mapping[str, ImagePredictions]) -> RunDiff:
    """Compare two runs' per-image predictions model by model, joined on image name."""
    models = []
    for model in [m for m in a if m in b]:
        before = _by_name(a[model])
        after = _by_name(b[model])
        common = [name for name in before if name in after]
        changed, mismatches = [], 0
        for name in common:
            label_a, top_a = before[name]
            label_b, top_b = after[name]
            if label_a != label_b:
                mismatches += 1
            if top_a != top_b:
                changed.append(ChangedImage(name=name, label=label_b, before=top_a, after=top_b))
        models.append(
            ModelDiff(
                model=model,
                common=len(common),
                changed=changed,
                only_in_a=len(before) - len(common),
                only_in_b=sum(1 for name in after if name not in before),
                label_mismatches=mismatches,
            )
        )
    return RunDiff(
        models=models,
        only_in_a=[m for m in a if m not in b],
        only_in_b=[m for m in b if m not in a],
    )


def _by_name(predictions: ImagePredictions) -> dict[str, tuple[int, int]]:
    return {
        name: (int(label), int(top))
        for name, label, top in zip(predictions.names, predictions.labels.tolist(), predictions.topk[:, 0].tolist())
    }


def run_predictions(path: str | Path) -> dict[str, ImagePredictions]:
    """The per-image predictions stored beside a run record (folder or run.json), or a baseline file."""
    from zoo.runs.baselines import SUFFIX, load_baseline
    from zoo.runs.store import artifact_path, load_run, run_file

    if Path(path).is_file() and str(path).endswith(SUFFIX):
        baseline = load_baseline(Path(path))
        return {baseline.info.model: baseline.predictions}
    file = run_file(path)
    record = load_run(file)
    predictions = artifact_path(file, record, ARTIFACT_NAME)
    if predictions is None:
        raise InputError(
            f"{file}: run {record.run_id} stored no per-image predictions",
            hint="only runs that measured accuracy on data (zoo verify --data ...) have them",
        )
    if not predictions.is_file():
        raise InputError(
            f"{file}: its predictions file {predictions} is missing", hint="was the run folder copied without it?"
        )
    return read_predictions(predictions)
