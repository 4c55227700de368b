"""What the library says about a model's evaluation (image size, crop, resize, interpolation).

Cards state the evaluation conditions; the library's config for the same weights is the other
source users rely on, so a disagreement between the two is worth a verdict.

- timm: the pretrained config of the tag the card means (:mod:`zoo.verify.build`), not timm's
  default tag; a tag's ``test_input_size`` / ``test_crop_pct`` (timm evaluates some weights
  larger than they were trained) are offered as alternatives, so a card that documents the test
  setting matches it;
- torchvision: the weights' ``transforms()`` (crop size, resize size, interpolation; the crop
  pct is crop / resize).
"""

from __future__ import annotations

from typing import Any

from zoo.measure.setup import EvalSetup
from zoo.records import Alternative, Measurement, Metric


def measure_config(setup: EvalSetup) -> list[Measurement]:
    """Image size, crop pct and interpolation (and resize size, where the library states it) from the library's config in ``setup``."""
    if setup.library == "torchvision":
        return _torchvision_config(setup)
    import timm

    method = f"timm {timm.__version__} pretrained_cfg of {setup.pretrained}"
    conditions = {**setup.conditions(), "tag_reason": setup.tag_reason or None}
    size = setup.library_value("input_size")
    test_size = setup.library_value("test_input_size")
    crop = setup.library_value("crop_pct")
    test_crop = setup.library_value("test_crop_pct")
    values: dict[Metric, tuple[Any, list[Alternative]]] = {
        Metric.IMAGE_SIZE: (
            size[-1] if size else None,
            _alternatives("input_size", size[-1] if size else None, "test_input_size", test_size[-1] if test_size else None, setup.pretrained),
        ),
        Metric.CROP_PCT: (crop, _alternatives("crop_pct", crop, "test_crop_pct", test_crop, setup.pretrained)),
        Metric.INTERPOLATION: (setup.library_value("interpolation"), []),
    }
    return [
        Measurement(metric=m.value, status="ok", value=v, method=method, conditions=dict(conditions), alternatives=alts)
        if v is not None
        else Measurement.unavailable(m.value, f"timm's pretrained config of {setup.pretrained} does not say", method=method, conditions=dict(conditions))
        for m, (v, alts) in values.items()
    ]


def _alternatives(key: str, value: Any, test_key: str, test_value: Any, pretrained: str) -> list[Alternative]:
    """Both settings as alternatives when the tag has a distinct test setting, else none."""
    if value is None or test_value is None or test_value == value:
        return []
    return [
        Alternative(f"{key} of {pretrained}", float(value), "the tag's training/eval setting"),
        Alternative(f"{test_key} of {pretrained}", float(test_value), "the tag's test-time setting (timm validates at it)"),
    ]


def _torchvision_config(setup: EvalSetup) -> list[Measurement]:
    method = f"torchvision {setup.weights}.transforms()"
    conditions = {**setup.conditions(), "tag_reason": setup.tag_reason or None}
    crop, resize = setup.library_value("crop_size"), setup.library_value("resize_size")
    values: dict[Metric, Any] = {
        Metric.IMAGE_SIZE: crop,
        Metric.CROP_PCT: float(crop) / float(resize) if isinstance(crop, int) and isinstance(resize, int) and resize else None,
        Metric.INTERPOLATION: setup.library_value("interpolation"),
        Metric.RESIZE_SIZE: resize,
    }
    return [
        Measurement(metric=m.value, status="ok", value=v, method=method, conditions=dict(conditions))
        if v is not None
        else Measurement.unavailable(m.value, f"{method} does not say", method=method, conditions=dict(conditions))
        for m, v in values.items()
    ]
