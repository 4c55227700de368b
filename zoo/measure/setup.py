"""A card's evaluation setup, resolved once and handed to every measurement.

timm derives a model's evaluation from one ``PretrainedCfg``; zoo does the same for every
library: the builder that builds a card's model (:mod:`zoo.verify.builders`) resolves one
:class:`EvalSetup` through its library's public API, and FLOPs (input and resize size),
throughput (input size), accuracy (the transform) and the config check all take it (it is
required: none of them resolves it again), each recording its conditions.

For timm (here): the pretrained config of the tag the card means (:mod:`zoo.verify.build`),
overridden by the card's Image Size, Crop Pct and Interpolation, goes through timm's
``resolve_data_config``. For torchvision: the weights' own ``transforms()``
(:mod:`zoo.verify.builders.torchvision`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from zoo.records import Metric, ModelCard, Scalar

if TYPE_CHECKING:
    import torch

TIMM_FIELDS = ("input_size", "test_input_size", "crop_pct", "test_crop_pct", "interpolation", "crop_mode", "fixed_input_size")
"""The pretrained-config keys the config check compares with the card."""

ConfigValue = Union[int, float, str, bool, None, tuple[int, ...]]
"""One setting of a library's own config (a size, a fraction, a word, a shape)."""


@dataclass(frozen=True)
class EvalSetup:
    """How one card's model is evaluated: its library's resolved settings, what was built, and where each part came from."""

    model: str
    pretrained: str
    """Whose settings were used: ``architecture.tag`` (timm's pretrained config), or torchvision's weights."""
    input_size: tuple[int, int, int]
    crop_pct: float
    interpolation: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_mode: str = "center"
    alias_path: tuple[str, ...] = ()
    """Names followed from the card's name to the one built, e.g. (card name, alias target)."""
    tag_reason: str = ""
    """Why this tag (or these weights) is the card's."""
    origin: tuple[tuple[str, str], ...] = ()
    """(setting, "card file:line" or "timm arch.tag") for input_size, crop_pct, interpolation."""
    library_config: tuple[tuple[str, ConfigValue], ...] = field(default_factory=tuple)
    """The library's own settings, before the card's overrides: what the config check compares
    (timm: :data:`TIMM_FIELDS` of the tag; torchvision: the weights' transform)."""
    library: str = "timm"
    built: str = ""
    """What the library built (``arch.tag``, ``resnet50.IMAGENET1K_V2``); "" when nothing was."""
    notes: tuple[str, ...] = ()
    """What a person should know about how the card's model was found (an alias that leads elsewhere)."""
    resize: int = 0
    """The short side before the centre crop, where the library states it (torchvision); 0: timm's
    floor(image size / crop pct)."""
    antialias: bool = True
    """Whether the resize antialiases (torchvision's weights say; timm's transforms always do)."""
    weights: str = ""
    """torchvision's weights enum member (``ResNet50_Weights.IMAGENET1K_V2``) whose transform this is."""

    @property
    def image_size(self) -> int:
        return int(self.input_size[-1])

    @property
    def resize_size(self) -> Optional[int]:
        """The short side before the centre crop (timm: floor(size / crop_pct)), if it differs."""
        if self.resize:
            return self.resize if self.resize != self.image_size else None
        if not self.crop_pct:
            return None
        resize = int(math.floor(self.image_size / self.crop_pct))
        return resize if resize != self.image_size else None

    def data_config(self) -> dict[str, Any]:
        """Keyword arguments for timm's ``create_transform``."""
        return {
            "input_size": self.input_size, "interpolation": self.interpolation, "mean": self.mean,
            "std": self.std, "crop_pct": self.crop_pct, "crop_mode": self.crop_mode,
        }

    def library_value(self, key: str) -> ConfigValue:
        """One setting of the library's own config (see :attr:`library_config`)."""
        return dict(self.library_config).get(key)

    def conditions(self) -> dict[str, Scalar]:
        """The setup as run-record conditions."""
        found: dict[str, Scalar] = {
            "pretrained": self.pretrained,
            "alias_path": " -> ".join(self.alias_path) if len(self.alias_path) > 1 else None,
            "input_size": "x".join(map(str, self.input_size)),
            "crop_pct": self.crop_pct,
            "interpolation": self.interpolation,
            "setup_from": "; ".join(f"{k}: {v}" for k, v in self.origin),
        }
        if self.library != "timm":  # what only another library states (timm's records stay as they were)
            found.update(library=self.library, resize_size=self.resize_size or self.image_size, antialias=self.antialias, weights=self.weights)
        return found

    def built_conditions(self) -> dict[str, Scalar]:
        """What was built for the card, for every measurement's conditions."""
        found: dict[str, Scalar] = {"built": self.built, "tag_reason": self.tag_reason}
        if len(self.alias_path) > 1:
            found["alias_path"] = " -> ".join(self.alias_path)
        return found


def card_data_args(card: ModelCard) -> dict[str, Any]:
    """The card's documented eval settings, as ``resolve_data_config`` arguments."""
    args: dict[str, Any] = {}
    size = card.number(Metric.IMAGE_SIZE)
    if size is not None:
        args["input_size"] = (3, int(size), int(size))
    crop_pct = card.number(Metric.CROP_PCT)
    if crop_pct is not None:
        args["crop_pct"] = float(crop_pct)
    interpolation = card.claim(Metric.INTERPOLATION)
    if interpolation is not None:
        args["interpolation"] = str(interpolation.value).strip().lower()
    return args


def resolve_setup(
    card: ModelCard, pretrained_cfg: Mapping[str, Any], *, alias_path: tuple[str, ...] = (), tag_reason: str = "",
    model: Optional["torch.nn.Module"] = None,
    built: str = "", notes: tuple[str, ...] = (),
) -> EvalSetup:
    """The card's setup over ``pretrained_cfg`` (a timm pretrained config as a dict), via ``resolve_data_config``.

    ``model`` stands in when neither the card nor the config says anything (timm's defaults then apply).
    """
    from timm.data import resolve_data_config

    cfg = dict(pretrained_cfg)
    args = card_data_args(card)
    config = resolve_data_config(args, pretrained_cfg=cfg or None, model=model if not (cfg or args) else None)
    pretrained = f"{cfg.get('architecture') or card.name}" + (f".{cfg['tag']}" if cfg.get("tag") else "")
    keys = {"input_size": Metric.IMAGE_SIZE, "crop_pct": Metric.CROP_PCT, "interpolation": Metric.INTERPOLATION}
    origin = []
    for key, metric in keys.items():
        claim = card.claim(metric)
        origin.append((key, f"card {claim.source}" if key in args and claim else f"timm {pretrained}"))
    return EvalSetup(
        model=card.name,
        pretrained=pretrained,
        input_size=tuple(int(v) for v in config["input_size"]),  # type: ignore[arg-type]
        crop_pct=float(config["crop_pct"]),
        interpolation=str(config["interpolation"]),
        mean=tuple(float(v) for v in config["mean"]),
        std=tuple(float(v) for v in config["std"]),
        crop_mode=str(config.get("crop_mode") or "center"),
        alias_path=alias_path,
        tag_reason=tag_reason,
        origin=tuple(origin),
        library_config=tuple((k, _plain(cfg.get(k))) for k in TIMM_FIELDS),
        built=built or pretrained,
        notes=notes,
    )


def setup_for_model(
    card: ModelCard, model: Optional["torch.nn.Module"], *, alias_path: tuple[str, ...] = (), tag_reason: str = "", built: str = "", notes: tuple[str, ...] = ()
) -> EvalSetup:
    """:func:`resolve_setup` with a timm model's own ``pretrained_cfg`` (timm's defaults for any other module)."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return resolve_setup(card, cfg, alias_path=alias_path, tag_reason=tag_reason, model=model, built=built, notes=notes)


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
