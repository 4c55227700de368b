"""timm's builder: the tag a card means (:mod:`zoo.verify.build`), built with ``timm.create_model``.

A card may name what to build apart from its own name (``builds``): a Hugging Face card read
from the repo ``timm/mobilenetv2_100.ra_in1k`` builds ``hf-hub:timm/mobilenetv2_100.ra_in1k``.
A Hub repo that one of timm's pretrained configs names (its ``hf_hub_id``) is that config's
``arch.tag``, found in timm's registry without any download; another repo is built by timm
itself from the repo's ``config.json`` (``timm.create_model("hf-hub:ORG/NAME")``).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING

from zoo.records import ModelCard
from zoo.verify.build import BuildTarget, build_model, resolve_target

if TYPE_CHECKING:
    import torch

    from zoo.measure.setup import EvalSetup

HUB_PREFIX = "hf-hub:"


@functools.lru_cache(maxsize=1)
def _tags_by_hub_repo() -> dict[str, str]:
    """Hub repo id -> the ``arch.tag`` whose pretrained config names it (timm's public registry)."""
    from timm.models import get_pretrained_cfg, list_pretrained

    found: dict[str, str] = {}
    for name in list_pretrained():
        cfg = get_pretrained_cfg(name, allow_unregistered=False)
        hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
        if hub_id and "." in name:
            found.setdefault(str(hub_id).split("@", 1)[0], name)
    return found


def hub_target(card: ModelCard, repo: str) -> BuildTarget:
    """What timm builds for ``hf-hub:REPO`` (see the module doc)."""
    from timm.models import split_model_name_tag

    repo_id = repo.split("@", 1)[0]
    named = f"{HUB_PREFIX}{repo}"
    registered = _tags_by_hub_repo().get(repo_id)
    if registered is not None:
        architecture, tag = split_model_name_tag(registered)
        return BuildTarget(card.name, architecture, tag, (card.name, named, registered),
                           f"timm's pretrained config of {registered} names the Hub repo {repo_id}")
    return BuildTarget(card.name, named, "", (card.name, named), "timm reads its config.json from the Hub repo")


class TimmBuilder:
    """:class:`~zoo.verify.builders.Builder` for timm."""

    library = "timm"

    def target(self, card: ModelCard) -> BuildTarget:
        if card.builds.startswith(HUB_PREFIX):
            return hub_target(card, card.builds[len(HUB_PREFIX):])
        if card.builds and card.builds != card.name:
            found = resolve_target(replace(card, name=card.builds))
            return replace(found, card_name=card.name, alias_path=(card.name, *found.alias_path))
        return resolve_target(card)

    def build(self, card: ModelCard, target: BuildTarget, *, meta: bool) -> "torch.nn.Module":
        return build_model(card, target, meta=meta)

    def setup(self, card: ModelCard, target: BuildTarget, model: "torch.nn.Module") -> "EvalSetup":
        from zoo.measure.setup import setup_for_model

        return setup_for_model(
            card, model, alias_path=target.alias_path, tag_reason=target.tag_reason, built=target.pretrained_name, notes=target.notes
        )


