"""A year of nightly zoo runs on disk, for the history benchmarks (``bench_report.py --runs``).

:func:`write_world` writes, under a folder:

- ``metadata/``: an index of ``collections x per_collection`` models in timm's card layout
  (one model-index YAML file per collection, imported from ``model-index.yml``), read back
  with zoo's own loader, and ``tolerances.yml`` (the shipped figures);
- ``runs/<run id>/run.json``: for each night, one run group of ``shards`` shard records,
  saved as ``zoo verify --all --shard K/N`` saves them.

A model carries every measurement a full run makes, with the conditions the pipeline records
(their names and shapes are those of a real ``zoo verify`` record): the three config values,
parameters, FLOPs with its twelve counting conventions, the weights' SHA-256 and file size,
throughput and p50/p90 latency with IQR spreads, top-1 and top-5 with Wilson intervals. The
figures are test inputs: throughput wanders a few percent from night to night and some
models step down 10% on a night; one model in twenty claims a top-1 the measurement misses;
on one night in twelve a shard has no ImageNet data (accuracy unavailable). The git commit
moves weekly. Verdicts come from zoo's judge with the world's policy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import random
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from zoo.index import load_index
from zoo.judge.conventions import fit_table, samples_of
from zoo.judge.policy import load_policy
from zoo.judge.verdicts import judge_models
from zoo.judge.zoo_data import load_zoo_data
from zoo.records import Alternative, Environment, Measurement, ModelCard, RunRecord, Uncertainty, to_json_dict
from zoo.verify.shard import select_shard

FAMILIES = (
    "resnet", "resnetv2", "efficientnet", "mobilenetv3", "regnety", "convnext", "vit", "deit", "swin",
    "beit", "cait", "coat", "dpn", "densenet", "dla", "ghostnet", "hrnet_w18", "inception_v4", "mixnet",
    "nfnet", "rexnet", "res2net50", "tresnet", "xception", "levit",
)
VARIANTS = (
    "tiny_patch16_224.augreg_in21k_ft_in1k", "small_patch16_224.augreg_in1k", "base_patch16_224.augreg2_in21k_ft_in1k",
    "050.ra_in1k", "100.ra2_in1k", "b0.ra_in1k", "b3.ra2_in1k", "large_100.miil_in21k_ft_in1k",
    "26d.bt_in1k", "101.a1h_in1k",
)
ARCHITECTURE = ["1x1 Convolution", "Batch Normalization", "Convolution", "Depthwise Separable Convolution",
                "Dropout", "Global Average Pooling", "Residual Connection", "ReLU", "Softmax", "Squeeze-and-Excitation Block"]
TOLERANCES = """\
tolerances:
  parameters:    {relative: 0.0}
  flops:         {relative: 0.02}
  file_size:     {absolute: 0}
  top1:          {absolute: 0.25}
  top5:          {absolute: 0.25}
  throughput:    {relative: 0.10}
  image_size:    {absolute: 0}
  crop_pct:      {absolute: 0}
gate: [top1, top5]
waivers: []
"""
FLOPS_CONVENTIONS = (("macs", 1.0, "matrix + attention MACs"), ("macs+norm+pool", 1.045, "matrix + attention + norm + pool MACs"),
                     ("all-ops", 1.066, "matrix + attention + norm + pool + elementwise MACs"))
START = dt.datetime(2025, 1, 1, 2, 0, tzinfo=dt.timezone.utc)
NO_DATA = "no ImageNet data configured (set ZOO_IMAGENET or pass --data): accuracy needs a validation set"


@dataclass(frozen=True)
class Model:
    """What the world's cards claim about one model, and what it measures as."""

    name: str
    collection: str
    params: int
    macs: int
    size: int
    top1: float
    top5: float
    image: int
    crop: float
    throughput: float
    top1_miss: float
    step_night: int
    """The night its throughput steps down 10% (beyond the year: never)."""


def _models(collections: int, per_collection: int, nights: int, rng: random.Random) -> list[Model]:
    models = []
    for c in range(collections):
        family = FAMILIES[c % len(FAMILIES)] + (f"{c // len(FAMILIES)}" if c >= len(FAMILIES) else "")
        for v in range(per_collection):
            params = rng.randint(2_000_000, 90_000_000)
            top1 = round(rng.uniform(65, 86), 2)
            models.append(Model(
                name=f"{family}_{VARIANTS[v % len(VARIANTS)]}".replace(".", "_") + (f"_{v // len(VARIANTS)}" if v >= len(VARIANTS) else ""),
                collection=family.replace("_", " ").title(), params=params, macs=params * rng.randint(8, 70),
                size=params * 4 + rng.randint(40_000, 400_000), top1=top1, top5=round(min(top1 + rng.uniform(8, 14), 99.4), 2),
                image=rng.choice((224, 224, 256, 288, 384)), crop=rng.choice((0.875, 0.9, 0.95, 1.0)),
                throughput=rng.uniform(8, 400), top1_miss=rng.choice((-1.2, 0.9)) if rng.random() < 0.05 else 0.0,
                step_night=rng.randrange(nights) if rng.random() < 0.1 else nights + 1,
            ))
    return models


def _weights_file(model: Model) -> str:
    return f"{model.name}-{hashlib.sha256(model.name.encode()).hexdigest()[:8]}.pth"


def _card_yaml(model: Model, collection_file: str) -> str:
    weights = f"https://github.com/huggingface/pytorch-image-models/releases/download/v0.1-weights/{_weights_file(model)}"
    architecture = "".join(f"    - {a}\n" for a in ARCHITECTURE)
    return (
        f"- Name: {model.name}\n"
        f"  In Collection: {model.collection}\n"
        f"  Metadata:\n"
        f"    FLOPs: {model.macs * 2}\n"
        f"    Parameters: {round(model.params, -4)}\n"
        f"    File Size: {model.size}\n"
        f"    Architecture:\n{architecture}"
        f"    Tasks:\n    - Image Classification\n"
        f"    Training Techniques:\n    - RMSProp\n    - Weight Decay\n    - AutoAugment\n"
        f"    Training Data:\n    - ImageNet\n"
        f"    Training Resources: 8x NVIDIA V100 GPUs\n"
        f"    ID: {model.name}\n"
        f"    LR: 0.048\n"
        f"    Crop Pct: '{model.crop}'\n"
        f"    Momentum: 0.9\n"
        f"    Batch Size: 1024\n"
        f"    Image Size: '{model.image}'\n"
        f"    Weight Decay: 1.0e-05\n"
        f"    Interpolation: bicubic\n"
        f"  Code: https://github.com/huggingface/pytorch-image-models/blob/9a25fdf3ad0414b4d66da443fe60ae0aa14edc84/timm/models/{collection_file}.py#L955\n"
        f"  Weights: {weights}\n"
        f"  Results:\n"
        f"  - Task: Image Classification\n"
        f"    Dataset: ImageNet\n"
        f"    Metrics:\n"
        f"      Top 1 Accuracy: {model.top1}%\n"
        f"      Top 5 Accuracy: {model.top5}%\n"
    )


def write_index(root: Path, models: Sequence[Model]) -> Path:
    folder = root / "metadata"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Model]] = {}
    for model in models:
        files.setdefault(model.collection.lower().replace(" ", "-"), []).append(model)
    for stem, members in files.items():
        text = (f"Type: model-index\nCollections:\n- Name: {members[0].collection}\n  Paper:\n    Title: '{members[0].collection}'\n"
                f"    URL: https://paperswithcode.com/paper/{stem}\nModels:\n")
        text += "".join(_card_yaml(m, stem) for m in members)
        (folder / f"{stem}.yml").write_text(text, encoding="utf-8")
    (folder / "model-index.yml").write_text("Import:\n" + "".join(f"- {stem}.yml\n" for stem in files), encoding="utf-8")
    (folder / "tolerances.yml").write_text(TOLERANCES, encoding="utf-8")
    return folder


def _built(model: Model) -> dict[str, Any]:
    tag = model.name
    return {"built": tag, "tag_reason": f"the card's Weights file {_weights_file(model)} is this tag's file"}


def _fixed_measurements(model: Model, timm: str) -> list[Measurement]:
    """The measurements that stay the same from night to night (timm version aside)."""
    cfg = f"timm {timm} pretrained_cfg ({model.name})"
    built = _built(model)
    flops_conditions = {**built, "input": f"1x3x{model.image}x{model.image}", "resize_size": int(model.image / model.crop),
                        "counter": "torch 2.4.1 FlopCounterMode + zoo formulas", "device": "cpu", "skipped_ops": "none",
                        "macs_elementwise": model.macs // 47, "macs_matrix": model.macs, "macs_norm": model.macs // 23,
                        "macs_pool": model.macs // 5000, "pretrained": model.name, "alias_path": None}
    alternatives = []
    for at, scale, where in (("image", 1.0, f"@{model.image}px"), ("resize", (1 / model.crop) ** 2, f"@{int(model.image / model.crop)}px (resize before crop)")):
        for counter, factor, description in FLOPS_CONVENTIONS:
            value = float(int(model.macs * factor * scale))
            alternatives.append(Alternative(f"{counter} {where}", value, description))
            alternatives.append(Alternative(f"2x {counter} {where}", value * 2, description + ", doubled (1 MAC = 2 FLOPs)"))
    digest = hashlib.sha256(model.name.encode()).hexdigest()
    fetched = {"file_name": _weights_file(model), "lock": "no lock file", "path": f"/home/runner/.cache/torch/hub/checkpoints/{_weights_file(model)}",
               "sha256": digest, "source": "url", "torch": "2.4.1", "verified_by": "sha256 prefix in the file name"}
    return [
        Measurement("image_size", "ok", model.image, "", cfg, dict(built)),
        Measurement("crop_pct", "ok", model.crop, "", cfg, dict(built)),
        Measurement("interpolation", "ok", "bicubic", "", cfg, dict(built)),
        Measurement("parameters", "ok", model.params, "parameters", "sum of numel over model.parameters(); buffers excluded",
                    {**built, "buffers": model.params // 100, "num_classes": 1000}),
        Measurement("flops", "ok", int(model.macs * 1.045), "MACs",
                    "torch FlopCounterMode, macs+norm+pool (fvcore's rules; 1 flop = 1 multiply-accumulate)", flops_conditions,
                    alternatives=alternatives, notes=["operators no group counts: none"]),
        Measurement("weights", "ok", digest, "sha256", f"sha256 {digest[:12]}… proven by its file name; torch.load(weights_only=True), strict",
                    {**fetched, "checkpoint": "state_dict"}),
        Measurement("file_size", "ok", model.size, "bytes", "byte size of the fetched file after its SHA-256 was verified", fetched),
    ]


def _accuracy(model: Model, data: bool) -> list[Measurement]:
    if not data:
        return [Measurement.unavailable("top1", NO_DATA), Measurement.unavailable("top5", NO_DATA)]
    conditions = {"transform": f"Resize({int(model.image / model.crop)}, bicubic) CenterCrop({model.image}) Normalize(imagenet)",
                  "transform_origin": "timm resolve_data_config + create_transform", "dataset": "/data/imagenet/val",
                  "dataset_layout": "class folders", "dataset_fingerprint": "sha256:4f2e1a9c0b7d", "dataset_images": 50000,
                  "labels": "folder names (WordNet ids, sorted)", "classes": 1000, "population": 50000, "limit": None,
                  "subset_seed": None, "device": "cpu", "dtype": "float32", "channels_last": False, "batch_size": 64,
                  "workers": 2, "allocator": "glibc-tuned", "world_size": 1, "images": 50000, "unreadable": 0}
    result = []
    for metric, value in (("top1", model.top1 + model.top1_miss), ("top5", model.top5 - 0.01)):
        hits = round(value * 500)
        value = hits / 500
        # every image of the population scored: the finite-population interval has no width
        result.append(Measurement(metric, "ok", value, "%",
                                  f"timm 1.0.9 eval transform, torch 2.4.1; {hits:,} of 50,000 images correct; wilson 95% interval, "
                                  "finite population 50,000", {**conditions, "correct": hits},
                                  Uncertainty("wilson", value, value, 0.95)))
    return result


def _timing(model: Model, night: int, rng: random.Random) -> list[dict[str, Any]]:
    """Throughput and p50/p90 latency of one night, as JSON (the part of a record that changes nightly)."""
    wander = 1 + 0.03 * math.sin(night / 9 + len(model.name)) + rng.gauss(0, 0.015)
    value = model.throughput * wander * (0.9 if night >= model.step_night else 1.0)
    base = {**_built(model), "device_requested": "auto", "dtype": "fp32", "amp": False, "channels_last": False, "compile": False,
            "threads_requested": None, "allocator_requested": "default", "device": "cpu", "device_name": "AMD EPYC 7763 64-Core Processor",
            "input_size": f"3x{model.image}x{model.image}", "input_size_source": "card Image Size", "allocator": "glibc-default", "threads": 2}
    p50 = 1000.0 / (value / 6)

    def figure(metric: str, v: float, unit: str, extra: dict[str, Any], note: str) -> dict[str, Any]:
        return {"metric": metric, "status": "ok", "value": v, "unit": unit,
                "method": "median of 5 timed rounds after 3 warm-up calls (excluded); perf_counter; torch 2.4.1 inference_mode",
                "conditions": {**base, **extra}, "uncertainty": {"kind": "iqr", "low": v * 0.97, "high": v * 1.025, "level": None},
                "alternatives": [], "reason": None, "notes": [note], "paired": None}

    return [
        figure("throughput", value, "images/s", {"batch_size_requested": 32, "batch_size": 32, "oom_halvings": 0, "rounds": 5,
               "iters_per_round": 1, "warmup_iters": 3, "warmup_seconds": 2.1, "timer": "perf_counter",
               "throughput_min": value * 0.95, "throughput_max": value * 1.04, "minor_faults_per_call": 61234.5},
               "median of 5 rounds of 1 x batch 32"),
        figure("latency_p50", p50, "ms", {"batch_size": 1, "rounds": 5, "iters_per_round": 10, "samples": 50, "warmup_iters": 8,
               "warmup_seconds": 0.4, "timer": "perf_counter", "latency_min_ms": p50 * 0.9, "latency_max_ms": p50 * 1.6},
               "p50 per round over 5 rounds of 10 calls at batch 1"),
        figure("latency_p90", p50 * 1.21, "ms", {"batch_size": 1, "rounds": 5, "iters_per_round": 10, "samples": 50, "warmup_iters": 8,
               "warmup_seconds": 0.4, "timer": "perf_counter", "latency_min_ms": p50 * 0.9, "latency_max_ms": p50 * 1.6},
               "p90 per round over 5 rounds of 10 calls at batch 1"),
    ]


OPTIONS = {
    "results": "runs", "quiet": True, "models": None, "all_models": True, "index_paths": None, "tolerances": None,
    "gate_metrics": None, "no_record": False, "reference_tables": "metadata/benchmarks", "fmt": "table", "verbose": False,
    "color": None, "cache_dir": None, "mirrors": None, "offline": None, "local_weights": None, "lock_file": None,
    "weights_source": None, "hub_repos": None, "min_rate": None, "stall_seconds": None, "data": "/data/imagenet/val",
    "data_labels": None, "limit": None, "subset_seed": None, "eval_batch_size": None, "workers": None, "eval_device": None,
    "amp": None, "eval_channels_last": None, "interval": None, "population": None, "eval_allocator": None, "baselines": None,
    "device": None, "dtype": None, "channels_last": None, "compile": None, "compile_mode": None, "threads": None,
    "batch_size": None, "rounds": None, "allocator": None,
}


class _Writer:
    """Writes the nights it is given; built once before the worker processes fork."""

    def __init__(self, root: Path, nights: int, shards: int, collections: int, per_collection: int, seed: int) -> None:
        self.root, self.nights, self.shards, self.seed = root, nights, shards, seed
        rng = random.Random(seed)
        self.models = {m.name: m for m in _models(collections, per_collection, nights, rng)}
        write_index(root, list(self.models.values()))
        here = os.getcwd()
        os.chdir(root)  # cards name their files relative to the working directory, as `zoo verify` run there does
        try:
            index = load_index(["metadata"])
            policy = load_policy("metadata/tolerances.yml")
            zoo = load_zoo_data(index.roots, index.digests, policy=policy)
        finally:
            os.chdir(here)
        self.cards: list[ModelCard] = list(index.models)
        self.shard_cards = [select_shard(self.cards, k, shards) for k in range(1, shards + 1)]
        # A model's fixed measurements and verdicts, judged once per timm version and data state:
        # JSON dicts keyed by (name, timm, data). Timing has no claims here, so it is not judged.
        # The FLOPs conventions are fitted over the whole index's FLOPs measurements (as `zoo verify`
        # does when none is pinned) and the record names the zoo data it was judged against.
        self.templates: dict[tuple[str, str, bool], dict[str, Any]] = {}
        self.judged_against: dict[str, Any] = {}
        for timm in ("1.0.9", "1.0.11"):
            fixed = [(card, _fixed_measurements(self.models[card.name], timm)) for card in self.cards]
            source = f"fitted over the {len(fixed)} FLOPs claims of metadata (no pinned conventions)"
            table = fit_table(samples_of(fixed), policy.tolerance("flops").relative or 0.02, policy.flops_conventions, source=source)
            judged = replace(zoo, conventions=table)
            self.judged_against[timm] = to_json_dict(judged.judged_against())
            for data in (True, False):
                pairs = [(card, found + _accuracy(self.models[card.name], data)) for card, found in fixed]
                for result in judge_models(pairs, judged, dt.date(2025, 6, 1)):
                    self.templates[(result.card.name, timm, data)] = to_json_dict(result)

    def night(self, night: int) -> list[Path]:
        rng = random.Random(self.seed * 100_003 + night)
        day = START + dt.timedelta(days=night)
        commit = hashlib.sha1(f"week {night // 7}".encode()).hexdigest()
        timm = "1.0.9" if night < self.nights // 2 else "1.0.11"
        written = []
        for k in range(1, self.shards + 1):
            started = day + dt.timedelta(minutes=k)
            finished = started + dt.timedelta(minutes=38 + rng.randint(0, 9))
            run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
            data = not (night % 12 == 5 and k == 2)
            env = Environment(python="3.11.9", platform="Linux-6.8.0-1017-azure-x86_64-with-glibc2.39", hostname=f"fv-az{k}12-{night % 97}",
                              cpu="AMD EPYC 7763 64-Core Processor", cpu_threads=2, torch="2.4.1",
                              packages={"zoo": "0.1.0", "timm": timm, "torchvision": "0.19.1", "fvcore": "", "datasets": "3.0.1",
                                        "numpy": "2.1.1", "pillow": "10.4.0", "huggingface_hub": "0.25.1", "pandas": "2.2.3"},
                              git_commit=commit, git_dirty=False, allocator="glibc 2.39 malloc as it comes")
            options = {**OPTIONS, "shard": f"{k}/{self.shards}", "run_group": f"github-{10_000 + night}-1"}
            header = to_json_dict(RunRecord(run_id=run_id, started=started.isoformat(), finished=finished.isoformat(), environment=env,
                                            index=["metadata"], measurements_requested=["config", "params", "flops", "weights", "throughput", "accuracy"],
                                            options=options, models=[], shard=f"{k}/{self.shards}"))
            models = []
            for card in self.shard_cards[k - 1]:
                template = self.templates[(card.name, timm, data)]
                timing = _timing(self.models[card.name], night, rng)
                models.append({**template, "measurements": template["measurements"] + timing})
            header["models"] = models
            header["judged_against"] = self.judged_against[timm]
            folder = self.root / "runs" / run_id
            folder.mkdir(parents=True)
            (folder / "run.json").write_text(json.dumps(header, indent=2) + "\n", encoding="utf-8")
            written.append(folder / "run.json")
        return written


_WRITER: _Writer | None = None


def _write_night(night: int) -> list[Path]:
    assert _WRITER is not None
    return _WRITER.night(night)


def write_world(root: Path, *, nights: int, shards: int = 5, collections: int = 25, per_collection: int = 10,
                seed: int = 0, processes: int = 2) -> list[Path]:
    """Write the index and ``nights x shards`` run records under ``root``; their run.json paths, oldest first."""
    global _WRITER
    _WRITER = _Writer(root, nights, shards, collections, per_collection, seed)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        paths = [p for night in pool.map(_write_night, range(nights), chunksize=4) for p in night]
    _WRITER = None
    return paths


def world_records(root: Path) -> list[Path]:
    """The run.json files of a world written earlier, oldest first (run ids sort by time)."""
    return sorted((root / "runs").glob("*/run.json"))
