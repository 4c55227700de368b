"""ImageNet top-1 / top-5 of built models, with confidence intervals, as Measurements.

The lead's pipeline calls :func:`measure_accuracy` once with every model whose weights
loaded; models that share an eval transform are scored on the same decoded batches.

Which problems stop the run and which stay with one model:

- bad input that concerns the whole run (``--data`` names nothing usable, a flat folder
  without labels, a damaged labels file, a bad option) raises :class:`zoo.errors.InputError`
  (exit code 2) before anything is scored;
- a hub dataset that cannot be reached now makes every model's accuracy "unavailable";
- a model whose head does not match the dataset's classes, whose card gives a transform
  timm cannot build, or that fails while scoring gets "error" measurements; the other
  models are still scored (running out of memory is "unavailable").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from zoo import progress
from zoo.measure.accuracy.data import (
    DatasetReport,
    DataUnavailableError,
    EvalDataset,
    check_dataset,
    class_count_problem,
    model_num_classes,
    open_dataset,
    stratified_subset,
)
from zoo.measure.accuracy.data.checks import describe_unreadable
from zoo.errors import InputError
from zoo.measure.accuracy import distributed
from zoo.measure.accuracy.loop import LoopResult, LoopSettings, ModelFailure, score_images
from zoo.measure.accuracy.options import NO_DATA_REASON, EvalOptions
from zoo.runs.predictions import ARTIFACT_NAME, PREDICTIONS_FILE, ImagePredictions, write_predictions
from zoo.measure.accuracy.stats import proportion_interval
from zoo.measure.accuracy.transforms import EvalTransform, eval_transform
from zoo.measure.setup import EvalSetup
from zoo.measure import allocator
from zoo.measure.device import DeviceUnavailable, autocast_for
from zoo.measure.accuracy.paired import pair_predictions, refused as refused_baseline
from zoo.records import Measurement, Metric, ModelCard, PairedEstimate, Scalar, Uncertainty
from zoo.runs.baselines import Baseline, find_baseline, mismatch as baseline_mismatch

METRICS = (Metric.TOP1.value, Metric.TOP5.value)


@dataclass(frozen=True, eq=False)
class AccuracyEntry:
    """A model to score: its card, the model (built by its library, weights loaded) and its evaluation setup."""

    card: ModelCard
    model: torch.nn.Module
    setup: EvalSetup
    """The card's evaluation setup (its builder resolved it): the transform is built from it."""
    checkpoint_sha256: Optional[str] = None
    """The loaded checkpoint's SHA-256, to match a stored baseline."""


@dataclass(frozen=True)
class AccuracyOutcome:
    """Top-1 and top-5 measurements per model, and the files written beside the run record."""

    measurements: dict[str, list[Measurement]]
    """Model name -> [top1, top5]."""
    artifacts: dict[str, str] = field(default_factory=dict)
    """Artifact name -> file name inside ``artifacts_dir`` (``{"predictions": "predictions.parquet"}``)."""
    dataset: Optional[DatasetReport] = None
    transforms: dict[str, str] = field(default_factory=dict)
    """Model name -> the resolved eval transform, in words."""


def measure_accuracy(
    entries: Sequence[AccuracyEntry],
    options: EvalOptions,
    artifacts_dir: Optional[Path] = None,
) -> AccuracyOutcome:
    """Score every entry on ``options.data``; per-image predictions go to ``artifacts_dir``.

    Under ``torchrun`` each rank scores its shard and every rank returns the merged
    result; only rank 0 writes the predictions file.
    """
    names = [entry.card.name for entry in entries]
    if not entries:
        return AccuracyOutcome(measurements={})
    if not options.data:
        return AccuracyOutcome(measurements=_for_all(names, Measurement.unavailable, NO_DATA_REASON))
    try:
        device = options.resolved_device()
        autocast_for(device, options.amp)  # the rule throughput uses: unusable here is "unavailable"
    except DeviceUnavailable as exc:
        return AccuracyOutcome(measurements=_for_all(names, Measurement.unavailable, str(exc)))
    context = distributed.setup(device)
    say = _speaker(options.progress and context.is_main)
    try:
        dataset = open_dataset(options.data, options.labels, options.class_map)
    except DataUnavailableError as exc:
        return AccuracyOutcome(measurements=_for_all(names, Measurement.unavailable, str(exc)))
    report = check_dataset(dataset)
    say(f"accuracy data: {report.summary()}")
    for note in report.notes():
        say(f"accuracy data: {note}")

    prepared = {entry.card.name: _prepare_transform(entry) for entry in entries}
    pairing = _baselines(entries, prepared, report, options, dataset.names)
    positions = _positions(dataset, options, [b for b in pairing.values() if not isinstance(b, PairedEstimate)])
    population = _population(options, report, len(positions))
    settings = LoopSettings(
        batch_size=options.batch_size,
        workers=options.num_workers,
        device=device,
        amp_dtype=options.amp_dtype,
        channels_last=options.channels_last,
        progress=options.progress and context.is_main,
    )
    scored = _Scoring(dataset, report, positions, population, options, settings, context, pairing)

    measurements: dict[str, list[Measurement]] = {}
    transforms: dict[str, str] = {}
    groups: dict[tuple, list[tuple[AccuracyEntry, EvalTransform]]] = {}
    for entry in entries:
        name = entry.card.name
        transform = prepared[name]
        if isinstance(transform, InputError):
            measurements[name] = _both(Measurement.failed, str(transform))
            continue
        transforms[name] = transform.description
        problem = class_count_problem(report, model_num_classes(entry.model))
        if problem:
            measurements[name] = _both(Measurement.failed, problem, conditions=scored.conditions(transform))
            continue
        groups.setdefault(transform.config, []).append((entry, transform))

    predictions: list[ImagePredictions] = []
    for members in groups.values():
        transform = members[0][1]
        say(f"eval transform for {', '.join(e.card.name for e, _ in members)}: {transform.description}")
        topk, unreadable, failures = scored.run(transform, {e.card.name: e.model for e, _ in members})
        if unreadable:
            say(f"accuracy data: {_describe(unreadable)}")
        for entry, _ in members:
            name = entry.card.name
            failure = failures.get(name)
            if failure is not None:
                make = Measurement.unavailable if failure.status == "unavailable" else Measurement.failed
                measurements[name] = _both(make, failure.reason, conditions=scored.conditions(transform))
                continue
            prediction = ImagePredictions(name, scored.names, scored.labels, topk[name])
            predictions.append(prediction)
            measurements[name] = scored.measurements(prediction, transform, unreadable)

    artifacts: dict[str, str] = {}
    if artifacts_dir is not None and predictions:
        if context.is_main:
            write_predictions(Path(artifacts_dir) / PREDICTIONS_FILE, predictions)
        artifacts[ARTIFACT_NAME] = PREDICTIONS_FILE
    ordered = {name: measurements[name] for name in names if name in measurements}
    return AccuracyOutcome(measurements=ordered, artifacts=artifacts, dataset=report, transforms=transforms)


class _Scoring:
    """One dataset subset, scored group by group; turns predictions into Measurements."""

    def __init__(
        self,
        dataset: EvalDataset,
        report: DatasetReport,
        positions: np.ndarray,
        population: Optional[int],
        options: EvalOptions,
        settings: LoopSettings,
        context: distributed.DistContext,
        pairing: Optional[dict[str, "Baseline | PairedEstimate"]] = None,
    ) -> None:
        self.pairing = pairing or {}
        self.dataset = dataset
        self.report = report
        self.positions = positions
        self.population = population
        self.options = options
        self.settings = settings
        self.context = context
        self.names = tuple(dataset.names[p] for p in positions.tolist())
        self.allocator = allocator.label_for(options.allocator)
        """The allocator label the images are scored under."""
        self.labels = np.asarray(dataset.labels)[positions]

    def run(
        self, transform: EvalTransform, models: dict[str, torch.nn.Module]
    ) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, ModelFailure]]:
        """Merged top-k per model over all positions, unreadable images (name -> why), and failures."""
        local = distributed.shard(self.positions, self.context)
        with allocator.use_allocator(self.options.allocator):
            result = score_images(self.dataset, local, transform, models, self.settings)
        gathered: list[LoopResult] = distributed.all_gather(result, self.context)
        sizes = [len(block) for block in np.array_split(self.positions, self.context.world_size)]
        topk = {name: distributed.merge_blocks([r.topk[name] for r in gathered], sizes) for name in models}
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
        unreadable = {offset + row: why for offset, r in zip(offsets, gathered) for row, why in r.unreadable.items()}
        failures: dict[str, ModelFailure] = {}
        for r in gathered:
            for name, failure in r.failures.items():
                failures.setdefault(name, failure)
        return topk, {self.names[row]: unreadable[row] for row in sorted(unreadable)}, failures

    def conditions(self, transform: EvalTransform) -> dict[str, Scalar]:
        options, device = self.options, self.settings.device
        device_name = str(device)
        if device.type == "cuda":
            device_name += f" ({torch.cuda.get_device_name(device)})"
        return {
            "transform": transform.description,
            "transform_origin": transform.origin,
            "dataset": self.report.source,
            "dataset_layout": self.report.layout,
            "dataset_fingerprint": self.report.fingerprint,
            "dataset_images": self.report.images,
            "labels": self.report.label_source,
            "classes": self.report.classes,
            "population": self.population,
            "population_given": options.population,
            "imagenet_val": self.report.imagenet_val,
            "imagenet_val_evidence": self.report.imagenet_val_why,
            "limit": options.limit,
            "subset_seed": options.seed if options.limit else None,
            "device": device_name,
            "dtype": f"{options.amp} autocast" if options.amp else "float32",
            "channels_last": options.channels_last,
            "batch_size": options.batch_size,
            "workers": self.settings.workers,
            "allocator": self.allocator,
            "world_size": self.context.world_size,
        }

    def measurements(
        self, prediction: ImagePredictions, transform: EvalTransform, unreadable: dict[str, str]
    ) -> list[Measurement]:
        import timm

        scored = int(prediction.readable.sum())
        base = {**self.conditions(transform), "images": scored, "unreadable": len(unreadable)}
        notes = list(self.report.notes()[:1])  # the count difference; unreadable ones are listed below
        if self.options.limit and len(self.positions) < self.report.images:
            notes.append(
                f"class-stratified subset of {len(self.positions):,} of {self.report.images:,} images "
                f"(--limit {self.options.limit}, seed {self.options.seed})"
            )
        if unreadable:
            notes.append(_describe(unreadable))
        if scored == 0:
            return _both(
                Measurement.failed,
                f"none of the {len(self.positions):,} images could be read; {_describe(unreadable)}",
                conditions=base,
            )
        result = []
        for metric, correct in (
            (Metric.TOP1.value, prediction.correct_top1()),
            (Metric.TOP5.value, prediction.correct_topk()),
        ):
            hits = int(correct.sum())
            interval = proportion_interval(
                hits, scored, method=self.options.interval, level=self.options.level, population=self.population
            )
            result.append(
                Measurement(
                    metric=metric,
                    status="ok",
                    value=100.0 * hits / scored,
                    unit="%",
                    method=(
                        f"timm {timm.__version__} eval transform, torch {torch.__version__}; "
                        f"{hits:,} of {scored:,} images correct; {interval.describe()}"
                    ),
                    conditions={**base, "correct": hits},
                    uncertainty=Uncertainty(
                        kind=interval.kind, low=100.0 * interval.low, high=100.0 * interval.high, level=interval.level
                    ),
                    notes=list(notes),
                )
            )
        return self._paired(prediction, result)

    def _paired(self, prediction: ImagePredictions, result: list[Measurement]) -> list[Measurement]:
        """Attach the paired estimate (or why the baseline was refused) to top-1 and top-5."""
        found = self.pairing.get(prediction.model)
        if found is None:
            return result
        if isinstance(found, PairedEstimate):
            return [replace(m, paired=found) for m in result]
        top1, top5 = pair_predictions(prediction, found)
        return [replace(result[0], paired=top1), replace(result[1], paired=top5)]


def _prepare_transform(entry: AccuracyEntry) -> "EvalTransform | InputError":
    try:
        return eval_transform(entry.card, entry.model, entry.setup)
    except InputError as exc:
        return exc


def _baselines(
    entries: Sequence[AccuracyEntry],
    transforms: dict[str, "EvalTransform | InputError"],
    report: DatasetReport,
    options: EvalOptions,
    dataset_names: tuple[str, ...],
) -> dict[str, "Baseline | PairedEstimate"]:
    """Per model: the stored baseline that matches this run, or why the one found does not."""
    if not options.baselines:
        return {}
    folder = Path(options.baselines)
    found: dict[str, Baseline | PairedEstimate] = {}
    for entry in entries:
        name = entry.card.name
        try:
            baseline = find_baseline(folder, name)
        except InputError as exc:
            found[name] = refused_baseline(f"{name}.parquet", str(exc))
            continue
        transform = transforms.get(name)
        if baseline is None or not isinstance(transform, EvalTransform):
            continue
        why = baseline_mismatch(
            baseline.info, model=name, checkpoint=entry.checkpoint_sha256, transform=transform.description,
            fingerprint=report.fingerprint,
        )
        if why is None and isinstance(options.population, int) and options.population != baseline.info.population:
            why = f"population differs (baseline {baseline.info.population:,}, --population {options.population:,})"
        if why is None and baseline.predictions.names == dataset_names:
            # Share the dataset's names (a zoo holds hundreds of 50,000-name baselines).
            baseline = replace(baseline, predictions=replace(baseline.predictions, names=dataset_names))
        found[name] = baseline if why is None else refused_baseline(baseline.name, why)
    return found


def _positions(dataset: EvalDataset, options: EvalOptions, baselines: Sequence[Baseline]) -> np.ndarray:
    """The images to score: all, or the --limit stratified subset, drawn among the images every
    matching baseline holds (so each scored image is paired)."""
    candidates = np.arange(len(dataset))
    if baselines and any(b.predictions.names is not dataset.names for b in baselines):
        held = set.intersection(*(set(b.predictions.names) for b in baselines))
        candidates = np.asarray([i for i, name in enumerate(dataset.names) if name in held], dtype=np.int64)
    if not options.limit:
        return candidates
    names = [dataset.names[i] for i in candidates.tolist()]
    chosen = stratified_subset(names, np.asarray(dataset.labels)[candidates], options.limit, options.seed)
    return candidates[chosen]


def _population(options: EvalOptions, report: DatasetReport, scored: int) -> Optional[int]:
    if options.population == "all":
        return report.images
    if isinstance(options.population, int):
        if options.population < scored:
            raise InputError(
                f"population {options.population:,} is smaller than the {scored:,} images scored",
                hint="the population is the size of the image set the data samples (50,000 for ImageNet val)",
            )
        return options.population
    return report.images if report.is_complete_imagenet_val else None


def _describe(unreadable: dict[str, str]) -> str:
    return describe_unreadable(list(unreadable), next(iter(unreadable.values()), None))


MakeMeasurement = Callable[..., Measurement]
"""``Measurement.unavailable`` or ``Measurement.failed``."""


def _both(make: MakeMeasurement, reason: str, **kw: Any) -> list[Measurement]:
    return [make(metric, reason, **kw) for metric in METRICS]


def _for_all(names: list[str], make: MakeMeasurement, reason: str) -> dict[str, list[Measurement]]:
    return {name: _both(make, reason) for name in names}


def _speaker(enabled: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if enabled:
            progress.note(f"zoo: {text}")

    return say
