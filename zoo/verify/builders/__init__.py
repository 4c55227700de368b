"""The builders: which library builds the model a card means, and how it is evaluated.

A card names its library (``Library:`` in model-index YAML, ``library_name`` on a Hugging Face
card; timm when it says nothing). Each library's :class:`Builder` resolves what the card means
(:class:`~zoo.verify.build.BuildTarget`: architecture, weights tag, how they were found), builds
it without weights (on the meta device when only shapes are needed), and resolves its
:class:`~zoo.measure.setup.EvalSetup` through the library's public API. A library zoo has no
builder for (mmpretrain, transformers, ...) is named: its models are listed with their claims
and judged ``unverified``, never dropped.

Adding a library: one module here with a :class:`Builder`, and its entry in :data:`BUILDERS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol

from zoo.records import ModelCard
from zoo.verify.build import BuildError, BuildTarget

if TYPE_CHECKING:
    import torch

    from zoo.measure.setup import EvalSetup

DEFAULT_LIBRARY = "timm"


class Builder(Protocol):
    """One library's way from a card to a built model and its evaluation setup."""

    library: str

    def target(self, card: ModelCard) -> BuildTarget:
        """What the card means in this library; :class:`BuildError` when the library has no such model."""
        ...

    def build(self, card: ModelCard, target: BuildTarget, *, meta: bool) -> "torch.nn.Module":
        """The model, without weights, in eval mode (on the meta device with ``meta``); :class:`BuildError` on failure."""
        ...

    def setup(self, card: ModelCard, target: BuildTarget, model: "torch.nn.Module") -> "EvalSetup":
        """How the model is evaluated: the library's settings for the target, the card's where it states them."""
        ...


def _registry() -> dict[str, Builder]:
    from zoo.verify.builders.timm import TimmBuilder
    from zoo.verify.builders.torchvision import TorchvisionBuilder

    return {builder.library: builder for builder in (TimmBuilder(), TorchvisionBuilder())}


BUILDERS: dict[str, Builder] = _registry()
"""Library name (as cards write it, lower case) -> its builder."""


def library_of(card: ModelCard) -> str:
    """The card's library: the one it states, timm for a model-index card (and one made in code) that
    states none, "" for another source's card that states none."""
    if card.library:
        return card.library.lower()
    return DEFAULT_LIBRARY if card.origin == "model-index" else ""


def builder_for(card: ModelCard) -> Optional[Builder]:
    """The builder of the card's library, or None when zoo has none for it."""
    return BUILDERS.get(library_of(card))


def no_builder_reason(card: ModelCard) -> str:
    """Why a card's model is not built (its library has no builder in zoo), for its ``unverified`` verdicts."""
    library = library_of(card)
    known = " and ".join(sorted(BUILDERS))
    if not library:
        return f"the card names no library (library_name), and zoo builds {known} models: its claims are listed, not measured"
    if card.origin == "hf-model-card":
        said = "its library_name"
    elif "Library" in card.metadata:
        said = "its Library key"
    elif library == "mmpretrain":
        said = "its Config (an OpenMMLab config file)"
    else:
        said = "its card"
    return f"no builder for {library} models: {said} names {library}, and zoo builds {known} models; its claims are listed, not measured"


__all__ = ["BUILDERS", "Builder", "BuildError", "BuildTarget", "builder_for", "library_of", "no_builder_reason"]
