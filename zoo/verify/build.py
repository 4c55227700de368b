"""Building a card's model with timm, by its name, without weights."""

from __future__ import annotations

import difflib

import torch

from zoo.errors import ZooError
from zoo.records import ModelCard


class BuildError(ZooError):
    """timm cannot build the model a card names."""


def build_model(card: ModelCard) -> torch.nn.Module:
    """``timm.create_model(card.name, pretrained=False)`` in eval mode.

    Raises :class:`BuildError` naming the card's place and timm's closest names.
    """
    import timm

    if not timm.is_model(card.name):
        close = difflib.get_close_matches(card.name, timm.list_models(), n=3, cutoff=0.75)
        hint = f"did you mean {', '.join(close)}?" if close else "check the Name against `timm.list_models()`"
        raise BuildError(f"{card.source}: model {card.name!r}: timm {timm.__version__} has no model of that name ({hint})")
    try:
        model = timm.create_model(card.name, pretrained=False)
    except Exception as exc:  # timm raises many kinds; all mean "this card's model cannot be built"
        raise BuildError(f"{card.source}: model {card.name!r}: timm could not build it: {exc}") from exc
    return model.eval()
