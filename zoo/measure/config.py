"""What timm's own pretrained config says about evaluation (image size, crop, interpolation).

Cards state the evaluation conditions; timm's config for the same model is the other source
users rely on, so a disagreement between the two is worth a verdict.
"""

from __future__ import annotations

import torch

from zoo.records import Measurement, Metric


def measure_config(model: torch.nn.Module) -> list[Measurement]:
    """Image size, crop pct and interpolation from ``model.pretrained_cfg``."""
    import timm

    cfg = getattr(model, "pretrained_cfg", None) or {}
    method = f"timm {timm.__version__} pretrained_cfg ({cfg.get('architecture', '?')}.{cfg.get('tag') or 'default'})"
    values = {
        Metric.IMAGE_SIZE: (cfg.get("input_size") or (None,))[-1],
        Metric.CROP_PCT: cfg.get("crop_pct"),
        Metric.INTERPOLATION: cfg.get("interpolation"),
    }
    return [
        Measurement(metric=m.value, status="ok", value=v, method=method)
        if v is not None
        else Measurement.unavailable(m.value, "timm's pretrained config does not say", method=method)
        for m, v in values.items()
    ]
