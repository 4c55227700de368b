"""The worlds every test shares: one tiny model, one card builder, fast options per measurement.

Test modules import these by name (``from conftest import TinyNet, card``); the worlds of one
measurement (generated datasets, the fault-injecting server, fake clocks) stay in
``accuracy_world.py``, ``weights_world.py`` and ``bench_world.py`` beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

import pytest
import torch
from torch import nn

from zoo.index.claims import METADATA_FIELDS, RESULT_FIELDS, ClaimReader, collect_claims
from zoo.metrics import METRICS
from zoo.yaml_input import load_located
from zoo.records import ModelCard, SourceRef

CARD_PATH = "metadata/tiny.yml"
"""Where :func:`card`'s claims say they were written."""

CLAIM_FIELDS = {spec.name: spec.field for spec in METRICS if spec.card_fields}
"""Metric -> the card field :func:`card` writes it under."""


@pytest.fixture(autouse=True)
def _own_history_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own history cache (zoo.runs.cache), never the user's ~/.cache."""
    monkeypatch.setenv("ZOO_HISTORY_CACHE", str(tmp_path_factory.mktemp("history-cache") / "history.sqlite"))


# --------------------------------------------------------------------------- the model


class SharedLog(list):  # type: ignore[type-arg]
    """A list that a model copy shares with its original (``copy.deepcopy`` keeps it as is),
    so a test can see calls made on the benchmark's copy."""

    def __deepcopy__(self, memo: dict[int, object]) -> "SharedLog":
        return self


class TinyNet(nn.Module):
    """conv 3->width (3x3) -> BN -> ReLU -> 2x2 average pool -> linear -> num_classes.

    Every layer kind a memory-format change or a checkpoint touches; a few kilobytes of
    weights, seeded (``seed``) so predictions are arbitrary but fixed. Each forward call
    records its conditions (batch, memory format, threads, autocast, grad, mode, device)
    in :attr:`seen`.
    """

    def __init__(self, num_classes: int = 2, seed: int = 0, width: int = 4) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width * 4, num_classes)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
        self.seen: list[dict[str, object]] = SharedLog()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(
            {
                "batch": x.shape[0],
                "channels_last_input": x.dim() == 4
                and x.is_contiguous(memory_format=torch.channels_last)
                and not x.is_contiguous(),
                "channels_last_weight": self.conv.weight.is_contiguous(memory_format=torch.channels_last)
                and not self.conv.weight.is_contiguous(),
                "threads": torch.get_num_threads(),
                "autocast": torch.is_autocast_enabled(x.device.type),
                "autocast_dtype": torch.get_autocast_dtype(x.device.type),
                "grad": torch.is_grad_enabled(),
                "training": self.training,
                "device": x.device.type,
            }
        )
        features = torch.relu(self.bn(self.conv(x)))
        return self.fc(nn.functional.adaptive_avg_pool2d(features, 2).flatten(1))


# --------------------------------------------------------------------------- cards


def card(name: str = "tiny", *, collection: Optional[str] = None, **fields: Any) -> ModelCard:
    """A card as the index builds it: its claims are read from model-index YAML by zoo's own
    claim reader (values, units, precision, ``file:line``).

    Claims are keyword arguments named by metric, valued as a card writes them:
    ``card("m", image_size=32, crop_pct=0.875, top1="87.5%", weights=url, file_size=len(data))``.
    ``None`` leaves a claim out. Other keyword arguments (card keys such as ``"FPS (RTX 4090)"``
    or ``"Training Data"``) are kept as the card's metadata.
    """
    claimed = {key: value for key, value in fields.items() if key in CLAIM_FIELDS and value is not None}
    metadata = {key: value for key, value in fields.items() if key not in CLAIM_FIELDS}
    lines = [f"Name: {name}"]
    if "weights" in claimed:
        lines.append(f"Weights: {claimed['weights']}")
    lines.append("Metadata:")
    lines += [f"  {CLAIM_FIELDS[k]}: {v}" for k, v in claimed.items() if CLAIM_FIELDS[k] in METADATA_FIELDS]
    results = [f"      {CLAIM_FIELDS[k]}: {v}" for k, v in claimed.items() if CLAIM_FIELDS[k] in RESULT_FIELDS]
    if results:
        lines += ["Results:", "- Task: Image Classification", "  Dataset: ImageNet", "  Metrics:", *results]
    entry = load_located("\n".join(lines) + "\n")
    claims = collect_claims(entry, entry.get("Metadata") or {}, ClaimReader(CARD_PATH, name))
    return ModelCard(name=name, source=SourceRef(CARD_PATH, 1), collection=collection, claims=claims, metadata=metadata)


# --------------------------------------------------------------------------- fast options


def fast_bench_options(**changes: object):  # type: ignore[no-untyped-def]
    """BenchOptions that finish in well under a second on a tiny model: 2 warm-up calls, 3 rounds of 1."""
    from zoo.measure.throughput.options import BenchOptions

    base: dict[str, object] = dict(
        device="cpu",
        batch_size=4,
        warmup_iters=2,
        warmup_seconds=0.0,
        rounds=3,
        round_seconds=0.0,
        latency_min_iters=3,
        progress=False,
    )
    base.update(changes)
    return BenchOptions(**base)  # type: ignore[arg-type]


def fast_eval_options(data: Union[Path, str, None], **kw: object):  # type: ignore[no-untyped-def]
    """EvalOptions scoring ``data`` in the main process, 8 images a batch, no bars."""
    from zoo.measure.accuracy.options import EvalOptions

    values: dict[str, object] = {"data": str(data) if data is not None else None, "workers": 0, "progress": False, "batch_size": 8}
    values.update(kw)
    return EvalOptions(**values)  # type: ignore[arg-type]


def fast_fetch_options(tmp: Path, **overrides: Any):  # type: ignore[no-untyped-def]
    """FetchOptions for tests: a private cache and lock path, tiny timeouts and backoff, no bars."""
    from zoo.weights.options import FetchOptions

    values: dict[str, Any] = dict(
        cache_dir=tmp / "cache",
        lock_path=tmp / "weights.lock",
        progress=False,
        connect_timeout=2.0,
        read_timeout=2.0,
        retries=2,
        backoff=0.01,
        max_backoff=0.05,
        chunk_size=4096,
    )
    values.update(overrides)
    return FetchOptions(**values)


# --------------------------------------------------------------------------- measuring a test model


def setup_of(card: ModelCard, model: Optional[nn.Module] = None):  # type: ignore[no-untyped-def]
    """The evaluation setup timm's builder gives a test model: the card's settings, timm's defaults elsewhere."""
    from zoo.measure.setup import setup_for_model

    return setup_for_model(card, model)


def measured_throughput(card: ModelCard, model: nn.Module, options, **kw: Any):  # type: ignore[no-untyped-def]
    """``measure_throughput`` of a test model with its setup."""
    from zoo.measure.throughput.measure import measure_throughput

    return measure_throughput(card, model, options, setup_of(card, model), **kw)


def measured_flops(card: ModelCard, model: nn.Module):  # type: ignore[no-untyped-def]
    """``measure_flops`` of a test model with its setup."""
    from zoo.measure.flops import measure_flops

    return measure_flops(card, model, setup_of(card, model))


def transform_of(card: ModelCard, model: Optional[nn.Module]):  # type: ignore[no-untyped-def]
    """``eval_transform`` of a test model with its setup."""
    from zoo.measure.accuracy.transforms import eval_transform

    return eval_transform(card, model, setup_of(card, model))  # type: ignore[arg-type]


def accuracy_entry(card: ModelCard, model: nn.Module, **kw: Any):  # type: ignore[no-untyped-def]
    """An ``AccuracyEntry`` for a test model with its setup."""
    from zoo.measure.accuracy.measure import AccuracyEntry

    return AccuracyEntry(card, model, setup_of(card, model), **kw)


class StandInBuilder:
    """A builder (zoo.verify.builders) that builds ``model`` for every card, with timm's setup for it:
    ``monkeypatch.setitem(builders.BUILDERS, "timm", StandInBuilder(TinyNet()))``."""

    library = "timm"

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def target(self, card: ModelCard):  # type: ignore[no-untyped-def]
        from zoo.verify.build import BuildTarget

        return BuildTarget(card.name, type(self.model).__name__, "", (card.name,), "a test's stand-in model")

    def build(self, card: ModelCard, target, *, meta: bool) -> nn.Module:  # type: ignore[no-untyped-def]
        return self.model

    def setup(self, card: ModelCard, target, model: nn.Module):  # type: ignore[no-untyped-def]
        return setup_of(card, model)


@pytest.fixture()
def hub(tmp_path, monkeypatch):
    """A loopback stand-in for the Hugging Face Hub (tests/hub_world.py), with HF_ENDPOINT and the
    Hub's cache folders pointed at it and at ``tmp_path``."""
    from hub_world import HubStandIn, hub_env

    with HubStandIn() as stand_in:
        for key, value in hub_env(stand_in, tmp_path).items():
            monkeypatch.setenv(key, value)
        yield stand_in
