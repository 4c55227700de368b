"""Baselines: one full evaluation of a model kept as data, so later subset runs can be paired.

A baseline is one parquet file per model, ``metadata/baselines/<model>.parquet``:

- columns ``image`` (the image's name), ``label``, ``pred1`` .. ``pred5`` (class ids, int16
  up to 32,767 classes, else int32; best first; -1 for an image that could not be read),
  zstd-compressed: about 450 KB for the 50,000 ImageNet validation images;
- the file's key-value metadata ``zoo.baseline`` holds :class:`BaselineInfo` as JSON: the
  model, the run it came from, the checkpoint's SHA-256, the eval transform, the dataset's
  fingerprint and size, the population, top-1/top-5 and the environment.

It is readable with pandas (``pd.read_parquet``) or pyarrow as is. A baseline is used only
where the checkpoint hash, the transform and the dataset fingerprint equal the run's
(:func:`mismatch`); it must cover its whole population, since the paired verdict adds the
run's change to the baseline's full-set accuracy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from zoo.atomic import atomic_path
from zoo.errors import InputError
from pydantic import ValidationError

from zoo.records import Measurement, Metric, RunRecord, from_json_dict
from zoo.runs.predictions import TOP_K, UNREADABLE, ImagePredictions

DEFAULT_DIR = Path("metadata/baselines")
SUFFIX = ".parquet"
METADATA_KEY = b"zoo.baseline"
FORMAT_VERSION = 1
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")


@dataclass(frozen=True)
class BaselineInfo:
    """What a baseline was measured from and what it measured."""

    model: str
    run_id: str
    created: str
    checkpoint_sha256: str
    transform: str
    dataset_fingerprint: str
    dataset: str
    dataset_images: int
    population: int
    images: int
    """Images scored (readable)."""
    top1: float
    top5: float
    environment: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


@dataclass(frozen=True, eq=False)
class Baseline:
    """A baseline file read back: its description and its per-image predictions."""

    info: BaselineInfo
    predictions: ImagePredictions
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def baseline_path(folder: Path, model: str) -> Path:
    """``folder/<model>.parquet``; a model name that is not a plain file name is refused."""
    if not _SAFE_NAME.fullmatch(model) or ".." in model:
        raise InputError(
            f"model name {model!r} cannot name a baseline file",
            hint="baseline files are named after the model: letters, digits and . _ + - only",
        )
    return Path(folder) / f"{model}{SUFFIX}"


def loaded_checkpoint(measurements: Sequence[Measurement]) -> Optional[str]:
    """The verified SHA-256 of the checkpoint the model was scored with, or None.

    The ``weights`` measurement judges the card's own file. When the Hugging Face Hub file was
    loaded instead (zoo.measure.weights), that file is the one the predictions come from: its
    hash is ``hub_sha256`` where the card's file was also checked, else the measurement's value.
    """
    weights = next((m for m in measurements if m.metric == Metric.WEIGHTS.value), None)
    if weights is None:
        return None
    hub = weights.conditions.get("hub_sha256")
    if isinstance(hub, str):
        return hub
    hub_file = bool(weights.conditions.get("hub_commit"))
    if isinstance(weights.value, str) and (weights.status == "ok" or (hub_file and weights.status == "unavailable")):
        return weights.value
    return None


def baselines_from_run(record: RunRecord, predictions: dict[str, ImagePredictions], models: Sequence[str] = ()) -> list[Baseline]:
    """One baseline per model of ``record`` (or of ``models``); errors say why a model cannot be one."""
    chosen = list(models) or [m.card.name for m in record.models if m.card.name in predictions]
    if not chosen:
        raise InputError(
            f"run {record.run_id} has no per-image predictions to keep",
            hint="save a baseline from a run that measured accuracy on data (zoo verify --data ...)",
        )
    results = {m.card.name: m for m in record.models}
    baselines = []
    for model in chosen:
        result = results.get(model)
        if result is None or model not in predictions:
            raise InputError(f"run {record.run_id} has no accuracy predictions for {model}", model=model)
        top1, top5 = (result.measurement(m.value) for m in (Metric.TOP1, Metric.TOP5))
        if top1 is None or top1.status != "ok" or top5 is None or top5.status != "ok":
            reason = top1.reason if top1 is not None else "not measured"
            raise InputError(f"run {record.run_id}: top-1 of {model} was not measured ({reason})", model=model)
        checkpoint = loaded_checkpoint(result.measurements)
        if checkpoint is None:
            raise InputError(
                f"run {record.run_id}: the checkpoint of {model} was not verified, so a baseline could not be matched to it",
                model=model, hint="save baselines from a run that measured weights and accuracy (the default)",
            )
        c = top1.conditions
        population, images = c.get("population"), int(c.get("images") or 0)
        covered = images + int(c.get("unreadable") or 0) == int(c.get("dataset_images") or 0)
        if not isinstance(population, int) or int(c.get("dataset_images") or 0) != population or not covered:
            raise InputError(
                f"run {record.run_id} scored {model} on {images:,} images of "
                + (f"a population of {population:,}" if isinstance(population, int) else "an unstated population"),
                model=model,
                hint="a baseline must cover its whole population: run without --limit on the whole set "
                "(for data that is not ImageNet val, add --population all)",
            )
        unreadable = int(c.get("unreadable") or 0)
        if unreadable:
            raise InputError(
                f"run {record.run_id}: {unreadable:,} of its images could not be read for {model}, so it did not score "
                f"its whole population of {population:,}",
                model=model,
                hint="the run's notes name the unreadable images: fix or remove them, then run the whole set again",
            )
        info = BaselineInfo(
            model=model,
            run_id=record.run_id,
            created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            checkpoint_sha256=checkpoint,
            transform=str(c.get("transform", "")),
            dataset_fingerprint=str(c.get("dataset_fingerprint", "")),
            dataset=str(c.get("dataset", "")),
            dataset_images=int(c.get("dataset_images") or 0),
            population=population,
            images=images,
            top1=float(top1.value or 0.0),
            top5=float(top5.value or 0.0),
            environment=_environment(record),
        )
        baselines.append(Baseline(info, predictions[model], Path(f"{model}{SUFFIX}")))
    return baselines


def save_baseline(folder: Path, baseline: Baseline) -> Path:
    """Write ``baseline`` as ``folder/<model>.parquet``, atomically (:func:`zoo.atomic.atomic_path`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = baseline_path(folder, baseline.info.model)
    p = baseline.predictions
    k = min(TOP_K, p.topk.shape[1]) if p.topk.ndim == 2 else 0
    largest = max([int(p.labels.max(initial=0)), int(p.topk[:, :k].max(initial=0)) if k else 0])
    dtype, arrow_type = (np.int16, pa.int16()) if largest < 2**15 else (np.int32, pa.int32())  # int16 for <= 32,767 classes
    padded = np.full((len(p.names), TOP_K), UNREADABLE, dtype=dtype)
    padded[:, :k] = p.topk[:, :k]
    columns = {"image": pa.array(list(p.names), pa.string()), "label": pa.array(p.labels.astype(dtype), arrow_type)}
    columns.update({f"pred{i + 1}": pa.array(padded[:, i], arrow_type) for i in range(TOP_K)})
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(asdict(baseline.info)).encode()})
    with atomic_path(path) as temp:
        pq.write_table(table, temp, compression="zstd", compression_level=19)
    return path


def load_baseline(path: Path) -> Baseline:
    """Read one baseline file; a damaged or foreign file is an InputError naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable baseline file ({exc})", hint="re-create it with `zoo baseline save`") from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    try:
        data = json.loads(raw) if raw else None
        if not isinstance(data, dict):
            raise ValueError("no zoo.baseline metadata")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {data.get('format_version')!r}, this zoo reads {FORMAT_VERSION}")
        info = from_json_dict(BaselineInfo, data)  # pydantic: every field of the right type
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: baseline field {where}: {first['msg']}", hint="re-create it with `zoo baseline save`") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a zoo baseline ({exc})", hint="re-create it with `zoo baseline save`") from None
    expected = ["image", "label"] + [f"pred{i + 1}" for i in range(TOP_K)]
    missing = [c for c in expected if c not in table.column_names]
    if missing:
        raise InputError(f"{path}: baseline lacks column(s) {', '.join(missing)}", hint="re-create it with `zoo baseline save`")
    names = tuple(str(n) for n in table.column("image").to_pylist())
    try:
        labels = table.column("label").to_numpy().astype(np.int32)
        topk = np.stack([table.column(f"pred{i + 1}").to_numpy() for i in range(TOP_K)], axis=1).astype(np.int32)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: baseline columns are not class ids ({exc})", hint="re-create it with `zoo baseline save`") from None
    predictions = ImagePredictions(info.model, names, labels, topk)
    problem = _unsupported(info, predictions)
    if problem:
        raise InputError(f"{path}: {problem}", hint="re-create it with `zoo baseline save`")
    return Baseline(info, predictions, path)


def _unsupported(info: BaselineInfo, predictions: ImagePredictions) -> Optional[str]:
    """Where the description disagrees with the per-image predictions it came with.

    The paired verdict adds a run's change to ``info.top1``/``info.top5``, so those must be
    what the stored predictions give, not numbers written into the metadata by hand.
    """
    scored = int(predictions.readable.sum())
    if scored != info.images:
        return f"the metadata says {info.images:,} images were scored, its predictions hold {scored:,} readable ones"
    for name, stated, correct in (("top-1", info.top1, predictions.correct_top1()), ("top-5", info.top5, predictions.correct_topk())):
        actual = 100.0 * int(correct.sum()) / scored if scored else 0.0
        if abs(actual - stated) > 1e-6:
            return f"the metadata gives {name} {stated:.4f}%, its predictions give {actual:.4f}%"
    return None


def find_baseline(folder: Optional[Path], model: str) -> Optional[Baseline]:
    """The baseline of ``model`` in ``folder``, or None when there is none."""
    if folder is None:
        return None
    try:
        path = baseline_path(folder, model)
    except InputError:
        return None
    return load_baseline(path) if path.is_file() else None


def list_baselines(folder: Path) -> list[Baseline]:
    """Every baseline in ``folder``, by model name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [load_baseline(p) for p in sorted(folder.glob(f"*{SUFFIX}")) if not p.name.startswith(".")]


def mismatch(info: BaselineInfo, *, model: str, checkpoint: Optional[str], transform: str, fingerprint: str) -> Optional[str]:
    """Why a baseline does not describe this run's pipeline, or None when it does."""
    if info.model != model:
        return f"the file holds a baseline of {info.model!r}, not of {model!r}"
    if not checkpoint:
        return "this run did not verify the checkpoint's SHA-256, so the baseline cannot be matched to it"
    if checkpoint != info.checkpoint_sha256:
        return f"checkpoint differs (baseline sha256 {info.checkpoint_sha256[:12]}, this run {checkpoint[:12]})"
    if transform != info.transform:
        return f"transform differs (baseline: {info.transform}; this run: {transform})"
    if fingerprint != info.dataset_fingerprint:
        return f"dataset differs (baseline fingerprint {info.dataset_fingerprint}, this run {fingerprint})"
    if info.images != info.population:
        return f"the baseline scored {info.images:,} of its population of {info.population:,} images"
    return None


def _environment(record: RunRecord) -> dict[str, str]:
    env = record.environment
    values = {"python": env.python, "torch": env.torch, "platform": env.platform, "cpu": env.cpu, "hostname": env.hostname}
    values.update({k: v for k, v in env.packages.items() if v})
    if env.cuda:
        values["cuda"] = env.cuda
    if env.gpus:
        values["gpus"] = ", ".join(env.gpus)
    return values
