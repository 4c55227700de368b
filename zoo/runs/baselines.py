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
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from pydantic import ValidationError

from zoo.atomic import atomic_path
from zoo.errors import InputError
from zoo.file_lock import updating
from zoo.inert import inert_text, shortened
from zoo.json_input import JSONInputError, read_json
from zoo.records import Measurement, Metric, RunRecord, from_json_dict
from zoo.runs.parquet_input import ParquetInputError, duplicate, read_checked, text_column
from zoo.runs.predictions import TOP_K, UNREADABLE, ImagePredictions

DEFAULT_DIR = Path("metadata/baselines")
SUFFIX = ".parquet"
METADATA_KEY = b"zoo.baseline"
FORMAT_VERSION = 2
"""2: page checksums and ``zoo.baseline.sha256``, the digest of the content; 1 is still read."""
READ_VERSIONS = (1, 2)
DIGEST_KEY = b"zoo.baseline.sha256"
MAX_ROWS = 5_000_000
"""Most images a baseline holds (ImageNet val is 50,000); a file announcing more is refused unread."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
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
    """Write ``baseline`` as ``folder/<model>.parquet``, atomically (:func:`zoo.atomic.atomic_path`) and
    under the file's lock (:func:`zoo.file_lock.updating`), with page checksums and the digest of its content."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = baseline_path(folder, baseline.info.model)
    p = baseline.predictions
    k = min(TOP_K, p.topk.shape[1]) if p.topk.ndim == 2 else 0
    largest = max([int(p.labels.max(initial=0)), int(p.topk[:, :k].max(initial=0)) if k else 0])
    dtype, arrow_type = (np.int16, pa.int16()) if largest < 2**15 else (np.int32, pa.int32())  # int16 for <= 32,767 classes
    padded = np.full((len(p.names), TOP_K), UNREADABLE, dtype=dtype)
    padded[:, :k] = p.topk[:, :k]
    labels = p.labels.astype(dtype)
    columns = {"image": pa.array(list(p.names), pa.string()), "label": pa.array(labels, arrow_type)}
    columns.update({f"pred{i + 1}": pa.array(padded[:, i], arrow_type) for i in range(TOP_K)})
    described = json.dumps(asdict(baseline.info)).encode()
    digest = content_digest(described, list(p.names), [labels, *(padded[:, i] for i in range(TOP_K))])
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: described, DIGEST_KEY: digest.encode()})
    with updating(path), atomic_path(path) as temp:
        pq.write_table(table, temp, compression="zstd", compression_level=19, write_page_checksum=True)
    return path


def content_digest(described: bytes, names: Sequence[str], ids: Sequence[np.ndarray]) -> str:
    """SHA-256 of everything a baseline's reader uses: its description as stored, its image names
    and its class-id columns (as little-endian int32), so a changed byte anywhere in them shows."""
    digest = hashlib.sha256(described)
    digest.update(json.dumps(list(names), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    for column in ids:
        digest.update(np.ascontiguousarray(column, dtype="<i4").tobytes())
    return digest.hexdigest()


def load_baseline(path: Path) -> Baseline:
    """Read one baseline file through the one checked reader; a damaged, crafted or foreign file is
    an InputError naming it and the reason.

    Checked, before anything uses it: the file (regular, bounded size, rows and decompressed bytes,
    :mod:`zoo.runs.parquet_input`), its description (the bounded JSON reader: nesting, finite numbers;
    every field typed), its columns (exact types, no nulls), the image names (unique), the class ids
    (labels >= 0, predictions >= -1), the content digest (format 2), the model it names (the file's own
    name) and the accuracy it states (what its predictions give).
    """
    path = Path(path)

    def refused(reason: str) -> InputError:
        return InputError(f"{path}: {inert_text(reason)}", hint="re-create it with `zoo baseline save`")

    columns = ["label"] + [f"pred{i + 1}" for i in range(TOP_K)]
    try:
        table, metadata = read_checked(path, text_columns=("image",), id_columns=columns, max_rows=MAX_ROWS)
    except ParquetInputError as exc:
        reason = str(exc).replace("not a readable parquet file", "not a readable baseline file")
        raise refused(reason if reason.startswith("not a readable") else f"not a usable baseline file: {reason}") from None
    except OSError as exc:
        raise refused(f"not a readable baseline file ({exc.strerror or exc})") from None
    raw = metadata.get(METADATA_KEY)
    try:
        data = read_json(raw, max_bytes=1 << 20) if raw else None
    except JSONInputError as exc:
        raise refused(f"its {METADATA_KEY.decode()} metadata is unusable: {exc}") from None
    try:
        if not isinstance(data, dict):
            raise ValueError("no zoo.baseline metadata")
        if data.get("format_version") not in READ_VERSIONS:
            raise ValueError(f"format version {data.get('format_version')!r}, this zoo reads {', '.join(map(str, READ_VERSIONS))}")
        info = from_json_dict(BaselineInfo, data)  # pydantic: every field of the right type
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: baseline field {where}: {first['msg']}", hint="re-create it with `zoo baseline save`") from None
    except ValueError as exc:
        raise refused(f"not a zoo baseline ({exc})") from None
    problem = _bad_description(info, path)
    if problem:
        raise refused(problem)
    names = text_column(table, "image")
    ids = [table.column(name).to_numpy().astype(np.int32) for name in columns]
    if info.format_version >= 2:
        stored = metadata.get(DIGEST_KEY, b"").decode("ascii", "replace")
        if stored != content_digest(raw, names, ids):
            raise refused("its content does not match the digest stored with it (the file was damaged or edited)")
    twice = duplicate(names)
    if twice is not None:
        raise refused(f"the image {inert_text(shortened(twice[0]))!r} appears {twice[1]} times (each image is one row)")
    labels, topk = ids[0], np.stack(ids[1:], axis=1)
    if labels.size and int(labels.min()) < 0:
        raise refused(f"column label holds {int(labels.min())}, not a class id (class ids are >= 0)")
    if topk.size and int(topk.min()) < UNREADABLE:
        raise refused(f"a prediction column holds {int(topk.min())}, below {UNREADABLE} (an unreadable image)")
    predictions = ImagePredictions(info.model, tuple(names), labels, topk)
    problem = _unsupported(info, predictions)
    if problem:
        raise refused(problem)
    return Baseline(info, predictions, path)


def _bad_description(info: BaselineInfo, path: Path) -> Optional[str]:
    """What is wrong with a description on its own (before its predictions are read against it)."""
    try:
        expected = baseline_path(path.parent, info.model).name
    except InputError:
        return f"it names the model {shortened(info.model)!r}, which cannot name a baseline file"
    if expected != path.name:
        return f"it holds a baseline of {shortened(info.model)!r}, which must be named {expected}, not {path.name}"
    if not _SHA256.fullmatch(info.checkpoint_sha256):
        return f"its checkpoint_sha256 {shortened(info.checkpoint_sha256)!r} is not 64 hex digits"
    for name in ("images", "population", "dataset_images"):
        if getattr(info, name) < 0:
            return f"its {name} is {getattr(info, name)}, below 0"
    for name in ("top1", "top5"):
        if not 0 <= getattr(info, name) <= 100:
            return f"its {name} {getattr(info, name)} is not a percentage"
    return None


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
