"""torchvision's builder: a card names a builder and its weights (``resnet50.IMAGENET1K_V2``).

The card's ``Builds`` (else its Name) is ``BUILDER.WEIGHTS``: a builder of
``torchvision.models.list_models()`` and a member of its weights enum
(``get_model_weights(BUILDER)``); a name without ``.WEIGHTS`` means the builder's ``DEFAULT``.

torchvision's builders shape the model by its weights in code that runs only when weights are
passed: the class count, ViT's and MaxViT's image size, GoogLeNet's and Inception's input
transform and auxiliary heads. So the builder is called *with* the weights, and only their
download and load are left out (:func:`_without_loading`), rather than copying those rules here.
Models whose construction needs real tensors (RegNet computes its widths from them) cannot be
built on the meta device; :func:`zoo.verify.models.measure_model` then builds them on the CPU.

The evaluation setup is the weights' own transform (``weights.transforms()``: resize, centre
crop, interpolation, antialias, mean and std), with the card's Image Size, Resize Size and
Interpolation in place of the transform's where the card states them.
"""

from __future__ import annotations

import contextlib
import difflib
import threading
import warnings
from typing import TYPE_CHECKING, Any, Iterator

from zoo.records import Metric, ModelCard
from zoo.verify.build import BuildError, BuildTarget

if TYPE_CHECKING:
    import torch

    from zoo.measure.setup import EvalSetup

DEFAULT_WEIGHTS = "DEFAULT"


def weights_of(target: BuildTarget) -> Any:
    """The weights enum member a target names (``ResNet50_Weights.IMAGENET1K_V2``)."""
    from torchvision.models import get_model_weights

    return get_model_weights(target.architecture)[target.tag]


class TorchvisionBuilder:
    """:class:`~zoo.verify.builders.Builder` for torchvision."""

    library = "torchvision"

    def target(self, card: ModelCard) -> BuildTarget:
        import torchvision
        from torchvision.models import get_model_weights, list_models

        named = card.builds or card.name
        builder, _, weights_name = named.partition(".")
        builders = list_models()
        if builder not in builders:
            close = difflib.get_close_matches(builder, builders, n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else "see torchvision.models.list_models()"
            raise BuildError(f"{card.source}: model {card.name!r}: torchvision {torchvision.__version__} has no builder {builder!r} ({hint})")
        members = {member.name: member for member in get_model_weights(builder)}
        if not weights_name or weights_name == DEFAULT_WEIGHTS:
            default = get_model_weights(builder).DEFAULT
            return BuildTarget(card.name, builder, default.name, (card.name, f"{builder}.{default.name}"),
                               f"torchvision's DEFAULT weights of {builder}")
        if weights_name not in members:
            raise BuildError(
                f"{card.source}: model {card.name!r}: torchvision {torchvision.__version__} has no weights {weights_name!r} "
                f"for {builder} (it has {', '.join(members) or 'none'})"
            )
        weights = members[weights_name]
        notes = _url_notes(card, weights)
        return BuildTarget(card.name, builder, weights_name, (card.name,), f"the card names torchvision's {weights}", notes)

    def build(self, card: ModelCard, target: BuildTarget, *, meta: bool) -> "torch.nn.Module":
        import torch
        import torchvision
        from torchvision.models import get_model

        weights = weights_of(target)
        try:
            with warnings.catch_warnings(), _without_loading(weights):
                warnings.simplefilter("ignore")
                if meta:
                    with torch.device("meta"):
                        model = get_model(target.architecture, weights=weights)
                else:
                    model = get_model(target.architecture, weights=weights)
        except Exception as exc:  # torchvision raises many kinds; all mean "this card's model cannot be built"
            raise BuildError(
                f"{card.source}: model {card.name!r}: torchvision {torchvision.__version__} could not build "
                f"{target.architecture} for {weights}{' on the meta device' if meta else ''}: {type(exc).__name__}: {exc}"
            ) from exc
        return model.eval()

    def setup(self, card: ModelCard, target: BuildTarget, model: "torch.nn.Module") -> "EvalSetup":
        return torchvision_setup(card, target)


def torchvision_setup(card: ModelCard, target: BuildTarget) -> "EvalSetup":
    """The weights' transform as an :class:`~zoo.measure.setup.EvalSetup` (see the module doc)."""
    from zoo.measure.setup import EvalSetup

    weights = weights_of(target)
    preset = weights.transforms()
    crop, resize = int(preset.crop_size[0]), int(preset.resize_size[0])
    interpolation = str(getattr(preset.interpolation, "value", preset.interpolation)).lower()
    own = {"crop_size": crop, "resize_size": resize, "interpolation": interpolation, "antialias": bool(preset.antialias)}
    stated = f"torchvision {weights}.transforms()"
    origin = []
    values: dict[str, Any] = {"input_size": crop, "resize_size": resize, "interpolation": interpolation}
    for key, metric in (("input_size", Metric.IMAGE_SIZE), ("resize_size", Metric.RESIZE_SIZE), ("interpolation", Metric.INTERPOLATION)):
        claim = card.claim(metric)
        if claim is not None:
            values[key] = str(claim.value).strip().lower() if key == "interpolation" else int(float(claim.value))
        origin.append((key, f"card {claim.source}" if claim is not None else stated))
    size, resize = int(values["input_size"]), int(values["resize_size"])
    return EvalSetup(
        model=card.name,
        pretrained=f"{target.architecture}.{target.tag}",
        input_size=(3, size, size),
        crop_pct=size / resize,
        interpolation=str(values["interpolation"]),
        mean=tuple(float(v) for v in preset.mean),
        std=tuple(float(v) for v in preset.std),
        alias_path=target.alias_path,
        tag_reason=target.tag_reason,
        origin=tuple(origin),
        library_config=tuple(own.items()),
        library="torchvision",
        built=target.pretrained_name,
        notes=target.notes,
        resize=resize,
        antialias=bool(preset.antialias),
        weights=str(weights),
    )


def _url_notes(card: ModelCard, weights: Any) -> tuple[str, ...]:
    """A note when the card's Weights URL is not the file torchvision's weights load."""
    claim = card.claim(Metric.WEIGHTS)
    if claim is None or str(claim.value).strip() == weights.url:
        return ()
    return (f"the card's Weights ({claim.source}) is {claim.value}, torchvision's {weights} loads {weights.url}",)


_PATCH_LOCK = threading.Lock()


class _Unloaded(dict):  # type: ignore[type-arg]
    """What the weights "give" while a model is built without them: nothing to load."""


@contextlib.contextmanager
def _without_loading(weights: Any) -> Iterator[None]:
    """Build with ``weights`` but neither download nor load them.

    The weights' ``get_state_dict`` (torchvision's public way to their file) gives an empty
    :class:`_Unloaded`, and ``load_state_dict`` of that is skipped: everything else the builder
    does for these weights happens as it would. Hand-written: torchvision offers no way to build
    a model shaped by its weights without fetching them. Both patches are undone on exit and
    held under a lock, so no other build sees them.
    """
    import torch

    kind = type(weights)
    original_load = torch.nn.Module.load_state_dict

    def get_state_dict(self: Any, *args: Any, **kwargs: Any) -> _Unloaded:
        return _Unloaded()

    def load_state_dict(module: Any, state_dict: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(state_dict, _Unloaded):
            return None
        return original_load(module, state_dict, *args, **kwargs)

    with _PATCH_LOCK:
        had_own = "get_state_dict" in kind.__dict__
        previous = kind.__dict__.get("get_state_dict")
        kind.get_state_dict = get_state_dict  # type: ignore[method-assign]
        torch.nn.Module.load_state_dict = load_state_dict  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            torch.nn.Module.load_state_dict = original_load  # type: ignore[method-assign]
            if had_own:
                kind.get_state_dict = previous  # type: ignore[method-assign]
            else:
                del kind.get_state_dict
