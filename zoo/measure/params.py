"""Parameter count: the exact number of learnable parameters."""

from __future__ import annotations

import torch

from zoo.records import Measurement, Metric


def measure_params(model: torch.nn.Module) -> Measurement:
    """Sum of ``numel`` over ``model.parameters()`` (buffers such as BN statistics excluded)."""
    count = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    return Measurement(
        metric=Metric.PARAMETERS.value,
        status="ok",
        value=count,
        unit="parameters",
        method="sum of numel over model.parameters(); buffers excluded",
        conditions={"buffers": buffers, "num_classes": int(getattr(model, "num_classes", 0) or 0)},
    )
