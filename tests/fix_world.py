"""A small world for ``zoo fix`` tests: crafted cards on disk, measurements as records, and run
records judged by the real judge against those cards, as ``zoo verify`` would judge them.

Measured values are test inputs chosen to make each verdict; their shapes (units, condition
names, FLOPs alternatives named as :func:`zoo.measure.flops.alternatives_of` names them, a
SHA-256 that starts with the card's file-name prefix) are the pipeline's own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Mapping, Optional, Sequence

import pytest
from click.testing import CliRunner, Result

from zoo.cli.main import cli
from zoo.index import load_index
from zoo.judge.verdicts import judge_models
from zoo.judge.zoo_data import load_zoo_data
from zoo.records import Alternative, Environment, Measurement, PairedEstimate, RunRecord, Uncertainty
from zoo.runs.store import save_run

TODAY = dt.date(2025, 6, 1)
RUN_ID = "20250601T120000Z-f1x001"
CONVENTION = "1.25x macs+norm+pool @image"
"""The zoo's FLOPs convention in this world (declared in its tolerances file)."""

CARD = """\
# Tiny nets

Prose about the models. <!-- an ordinary comment: not model-index data -->

<!--
Type: model-index
Collections:
- Name: Tiny
  Metadata:
    Image Size: '224'   # every Tiny model is evaluated at 224
  Paper:
    Title: 'Tiny: a paper'
Models:
- Name: test_efficientnet
  In Collection: Tiny
  Metadata:
    FLOPs: 401920448  # the author's counter
    Parameters: 3500000
    File Size: 14202571
    Crop Pct: '0.875'
    Interpolation: bilinear
    Training Data:
    - ImageNet
  Weights: https://example.invalid/test_efficientnet-0123abcd.pth
  Results:
  - Task: Image Classification
    Dataset: ImageNet
    Metrics:
      Top 1 Accuracy: 72.95%
      Top 5 Accuracy: "91.0%"
- Name: test_resnet
  In Collection: Tiny
  Metadata:
    Parameters: 4520000
    Crop Pct: 0.9
  Weights: https://example.invalid/test_resnet-4567cdef.pth
-->

More prose after the data.
"""

TOLERANCES = """\
tolerances:
  parameters: {relative: 0.0}
  flops: {relative: 0.02}
  top1: {absolute: 0.25}
  top5: {absolute: 0.25}
gate: [top1, top5]
flops_conventions: {"*": "%s"}
waivers:%s
"""


def write_world(root: Path, card: str = CARD, *, name: str = "tiny.mdx", crlf: bool = False, waivers: str = " []") -> Path:
    """``root/cards/NAME`` holding ``card`` and ``root/metadata/tolerances.yml``; returns the card's path."""
    folder = root / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    text = card.replace("\n", "\r\n") if crlf else card
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    (root / "metadata").mkdir(exist_ok=True)
    (root / "metadata" / "tolerances.yml").write_text(TOLERANCES % (CONVENTION, waivers), encoding="utf-8")
    return path


def environment() -> Environment:
    return Environment(
        python="3.11.9", platform="Linux-6.8-x86_64", hostname="ci-runner-1", cpu="Test CPU @ 2.0GHz", cpu_threads=2,
        torch="2.4.1", packages={"timm": "1.0.9"}, git_commit="0123456789abcdef0123456789abcdef01234567", git_dirty=False,
    )


def params(value: int) -> Measurement:
    return Measurement("parameters", "ok", value, "parameters", "sum of numel over model.parameters(); buffers excluded")


def flops(reference: float) -> Measurement:
    """FLOPs whose reference counter at the image size is ``reference`` (the zoo's convention is 1.25x that)."""
    return Measurement(
        "flops", "ok", int(reference), "MACs", "torch FlopCounterMode on the meta device, macs+norm+pool",
        conditions={"input": "1x3x224x224"},
        alternatives=[
            Alternative("macs+norm+pool @224px", float(reference), "matrix + norm + pool MACs"),
            Alternative("2x macs+norm+pool @224px", float(2 * reference), "doubled"),
        ],
    )


def config(image_size: int = 224, crop_pct: float = 0.875, interpolation: str = "bilinear") -> list[Measurement]:
    cfg = "timm 1.0.9 pretrained_cfg (tiny.in1k)"
    return [
        Measurement("image_size", "ok", image_size, "", cfg),
        Measurement("crop_pct", "ok", crop_pct, "", cfg),
        Measurement("interpolation", "ok", interpolation, "", cfg),
    ]


def weights(model: str, url: Optional[str] = None, size: int = 14202571, source: str = "url") -> list[Measurement]:
    """The checkpoint fetched for ``url`` (default: the card's), its SHA-256 matching the card's prefix."""
    prefix = {"test_efficientnet": "0123abcd", "test_resnet": "4567cdef"}[model]
    url = url or f"https://example.invalid/{model}-{prefix}.pth"
    sha = prefix + hashlib.sha256(model.encode()).hexdigest()[8:]
    name = url.rsplit("/", 1)[1]
    conditions = {"url": url, "file_name": name, "source": source, "sha256": sha}
    return [
        Measurement("weights", "ok", sha, "sha256", "fetched, verified by sha256 prefix, loaded", conditions=conditions),
        Measurement("file_size", "ok", size, "bytes", "byte size of the fetched file", conditions=conditions),
    ]


def accuracy(metric: str, value: float, images: int = 50000, population: Optional[int] = 50000, half_width: float = 0.0,
             paired: Optional[PairedEstimate] = None, limit: Optional[int] = None) -> Measurement:
    return Measurement(
        metric, "ok", value, "%", "timm 1.0.9 eval transform",
        conditions={"dataset": "imagenet-1k val", "dataset_fingerprint": "sha256:4f2e1a", "images": images,
                    "population": population, "limit": limit, "unreadable": 0, "transform": "Resize(256, bicubic) CenterCrop(224)",
                    "device": "cpu", "dtype": "float32", "batch_size": 64},
        uncertainty=Uncertainty("wilson-95", value - half_width, value + half_width, 0.95),
        paired=paired,
    )


def make_run(root: Path, measured: Mapping[str, Sequence[Measurement]], *, index: str = "cards/",
             kinds: Sequence[str] = ("config", "params", "flops"), run_id: str = RUN_ID) -> Path:
    """Judge ``measured`` (model -> measurements) against the index under ``root`` and save the run;
    returns its folder. The working folder must be ``root`` (paths are kept as a user types them)."""
    loaded = load_index([index])
    zoo = load_zoo_data(loaded.roots, loaded.digests, tolerances=root / "metadata" / "tolerances.yml")
    cards = {card.name: card for card in loaded.models}
    results = judge_models([(cards[name], list(ms)) for name, ms in measured.items()], zoo, TODAY)
    record = RunRecord(
        run_id=run_id, started="2025-06-01T12:00:00+00:00", finished="2025-06-01T12:01:00+00:00",
        environment=environment(), index=loaded.roots, measurements_requested=list(kinds), models=results,
        judged_against=zoo.judged_against(),
    )
    return save_run(record, root / "runs").parent


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ZOO_INDEX", "ZOO_RESULTS", "ZOO_CONVENTIONS", "ZOO_LOCK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fix(*args: str) -> Result:
    return CliRunner().invoke(cli, ["fix", "--today", TODAY.isoformat(), *args], catch_exceptions=False)
