"""The eval transform of a card, built by its library exactly as the library's own evaluation does.

- timm: Image Size, Crop Pct and Interpolation come from the card (the documented evaluation);
  mean/std, and anything the card leaves out, from the model's timm ``pretrained_cfg``.
  ``resolve_data_config`` + ``create_transform`` do the rest: nothing is re-implemented.
- torchvision: the weights' own preset (``torchvision.transforms._presets.ImageClassification``,
  what ``weights.transforms()`` returns) with the setup's crop, resize and interpolation (the
  weights', unless the card states its own); its decoding form is the same resize and centre
  crop ending in a uint8 tensor, finished (scaled, normalized) a batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from zoo.errors import InputError
from zoo.measure.setup import EvalSetup, card_data_args
from zoo.records import Metric, ModelCard

__all__ = ["EvalTransform", "card_data_args", "describe_transform", "eval_transform"]


@dataclass(frozen=True)
class EvalTransform:
    """A resolved eval transform: timm's data config, the transform, and how to say it."""

    config: tuple[tuple[str, Any], ...]
    """timm's resolved data config as sorted items; equal configs mean identical transforms."""
    transform: Callable[[Any], torch.Tensor]
    description: str
    """e.g. "resize 256 bicubic, center crop 224, normalize mean=(0.485, 0.456, 0.406) std=(...)"."""
    origin: str
    """Which settings came from the card and which from timm."""
    decode: Callable[[Any], torch.Tensor] | None = None
    """The same steps up to a uint8 CHW tensor (timm's prefetcher form of the transform), for
    decoding workers; :meth:`finish` then scales and normalizes whole batches on the device.
    None when the transform does not end in to-tensor + normalize (``transform`` is used whole)."""
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    _on_device: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def data_config(self) -> dict[str, Any]:
        return dict(self.config)

    @property
    def input_size(self) -> tuple[int, int, int]:
        return tuple(self.data_config["input_size"])  # type: ignore[return-value]

    def finish(self, batch: torch.Tensor) -> torch.Tensor:
        """A batch from :attr:`decode` as ``transform`` would have made it, image by image.

        The same float32 operations in the same order as torchvision's ``to_tensor`` then
        ``normalize`` (divide by 255, subtract the mean, divide by the std), so the values
        are bit for bit those of the per-image path; a batch from ``transform`` passes through.
        The 255 is a tensor on the batch's device, not a Python number: CUDA turns division
        by a host scalar into multiplication by its reciprocal, which differs in the last bit.
        """
        if self.decode is None or batch.dtype != torch.uint8:
            return batch
        divisor, mean, std = self._constants(batch.device)
        return batch.to(torch.float32).div_(divisor).sub_(mean).div_(std)

    def _constants(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """255, the mean and the std as (1, C, 1, 1) float32 tensors on ``device``, made once per device."""
        key = str(device)
        if key not in self._on_device:
            shape = (1, -1, 1, 1)
            self._on_device[key] = (
                torch.full((1, 1, 1, 1), 255.0, dtype=torch.float32, device=device),
                torch.tensor(self.mean, dtype=torch.float32, device=device).view(shape),
                torch.tensor(self.std, dtype=torch.float32, device=device).view(shape),
            )
        return self._on_device[key]


def eval_transform(card: ModelCard, model: torch.nn.Module, setup: EvalSetup) -> EvalTransform:
    """The card's eval transform for ``model``, from the card's resolved :class:`~zoo.measure.setup.EvalSetup`."""
    if setup.library == "torchvision":
        return _torchvision_transform(setup)
    from timm.data import create_transform

    args = card_data_args(card)
    config = setup.data_config()
    try:
        transform = create_transform(**config, is_training=False)
    except (KeyError, ValueError, AssertionError) as exc:
        claim = card.claim(Metric.INTERPOLATION) or card.claim(Metric.CROP_PCT) or card.claim(Metric.IMAGE_SIZE)
        raise InputError(
            f"timm cannot build an eval transform from {args} ({type(exc).__name__}: {exc})",
            source=claim.source if claim else card.source,
            model=card.name,
            field=claim.field if claim else None,
            hint="use an Interpolation such as bicubic or bilinear, a Crop Pct in (0, 1], an integer Image Size",
        ) from exc
    from_timm = [k for k in ("input_size", "crop_pct", "interpolation", "mean", "std", "crop_mode") if k not in args]
    origin = f"card: {', '.join(args) or 'nothing'}; timm pretrained_cfg: {', '.join(from_timm)}"
    items = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items()))
    decode, mean, std = _split(transform, create_transform(**config, is_training=False, use_prefetcher=True))
    return EvalTransform(
        config=items, transform=transform, description=describe_transform(transform), origin=origin,
        decode=decode, mean=mean, std=std,
    )


def _torchvision_transform(setup: EvalSetup) -> EvalTransform:
    """torchvision's preset for the setup, and its uint8 decoding form (see the module doc)."""
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, PILToTensor, Resize
    from torchvision.transforms._presets import ImageClassification

    try:
        interpolation = InterpolationMode(setup.interpolation)
    except ValueError as exc:
        raise InputError(
            f"torchvision has no interpolation {setup.interpolation!r}", model=setup.model, field="Interpolation",
            hint="use bilinear, bicubic or nearest",
        ) from exc
    resize = setup.resize_size or setup.image_size
    whole = ImageClassification(
        crop_size=setup.image_size, resize_size=resize, mean=setup.mean, std=setup.std, interpolation=interpolation,
        antialias=setup.antialias,
    )
    decode = Compose([Resize(resize, interpolation=interpolation, antialias=setup.antialias), CenterCrop(setup.image_size), PILToTensor()])
    config = (
        ("library", "torchvision"), ("input_size", tuple(setup.input_size)), ("crop_size", setup.image_size), ("resize_size", resize), ("interpolation", setup.interpolation),
        ("antialias", setup.antialias), ("mean", setup.mean), ("std", setup.std),
    )
    described = (
        f"resize {resize} {setup.interpolation}{' antialias' if setup.antialias else ''}, center crop {setup.image_size}, "
        f"normalize mean={tuple(round(v, 4) for v in setup.mean)} std={tuple(round(v, 4) for v in setup.std)}"
    )
    origin = "; ".join(f"{k}: {v}" for k, v in setup.origin)
    return EvalTransform(
        config=config, transform=whole, description=described, origin=origin, decode=decode,
        mean=tuple(float(v) for v in setup.mean), std=tuple(float(v) for v in setup.std),
    )


def _split(whole: Any, prefetch: Any) -> tuple[Any, tuple[float, ...], tuple[float, ...]]:
    """timm's prefetcher transform and the Normalize constants, when ``whole`` is exactly its
    image steps followed by to-tensor and normalize; else ``(None, (), ())``."""
    steps, head = getattr(whole, "transforms", None), getattr(prefetch, "transforms", None)
    if not steps or not head or len(steps) != len(head) + 1:
        return None, (), ()
    to_tensor, normalize, to_uint8 = steps[-2], steps[-1], head[-1]
    if (
        type(to_tensor).__name__ not in ("MaybeToTensor", "ToTensor")
        or type(normalize).__name__ != "Normalize"
        or type(to_uint8).__name__ not in ("MaybePILToTensor", "PILToTensor")
        or [repr(step) for step in steps[:-2]] != [repr(step) for step in head[:-1]]
    ):
        return None, (), ()
    mean = tuple(float(v) for v in torch.as_tensor(normalize.mean, dtype=torch.float32).flatten())
    std = tuple(float(v) for v in torch.as_tensor(normalize.std, dtype=torch.float32).flatten())
    return prefetch, mean, std


def describe_transform(transform: Any) -> str:
    """A one-line account of a torchvision ``Compose`` as built by timm."""
    steps = getattr(transform, "transforms", [transform])
    parts = [text for text in (_describe_step(step) for step in steps) if text]
    return ", ".join(parts)


def _describe_step(step: Any) -> str:
    name = type(step).__name__
    interpolation = getattr(step, "interpolation", None)
    interp = getattr(interpolation, "value", interpolation)
    if name == "Resize":
        size = step.size
        return f"resize {size if isinstance(size, int) else 'x'.join(map(str, size))} {interp}".strip()
    if name == "ResizeKeepRatio":
        return f"resize keeping ratio to {'x'.join(map(str, step.size))} {interp}".strip()
    if name in ("CenterCrop", "CenterCropOrPad"):
        size = tuple(step.size) if not isinstance(step.size, int) else (step.size, step.size)
        label = "center crop" if name == "CenterCrop" else "center crop or pad"
        return f"{label} {size[0] if size[0] == size[1] else 'x'.join(map(str, size))}"
    if name == "Normalize":
        mean = tuple(round(float(v), 4) for v in torch.as_tensor(step.mean).flatten())
        std = tuple(round(float(v), 4) for v in torch.as_tensor(step.std).flatten())
        return f"normalize mean={mean} std={std}"
    if name in ("MaybeToTensor", "ToTensor", "PILToTensor", "MaybePILToTensor"):
        return ""
    return name
