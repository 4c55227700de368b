"""Building the model a card means: its architecture, its pretrained tag, and how they were found.

A card names a model (``resnet50``, or an old name timm keeps as a deprecation alias such as
``tf_efficientnet_b0_ap``) and usually its weights file. timm registers several pretrained
tags per architecture (``resnet50.a1_in1k``, ``resnet50.tv_in1k``, ...) whose configs differ
(image size, crop, interpolation), and its default tag moves between releases. So the card's
model is resolved in steps, each recorded in :class:`BuildTarget`:

1. the name: a registered architecture, or a deprecation alias followed to its target;
2. the card's Weights file name: a tag whose URL or file has that very name is the card's
   (timm's pretrained configs are the only registry of which file belongs to which tag);
   else a tag whose name shares a word with the file name (``densenet121_ra-50efcf5c.pth`` ->
   ``ra_in1k``); else the alias's tag; else, when the file names none, the one tag whose config
   has every Image Size, Crop Pct and Interpolation the card claims; else timm's default tag;
3. an alias that leads to another architecture than the card's name says (timm maps
   ``ig_resnext101_32x16d`` to ``resnext101_32x8d``) is not followed: the architecture the
   name says is built where timm has it, otherwise the card is not judged (``mismatch``).

The model is built without weights, on the meta device when no measurement needs real
tensors (params, FLOPs and the config check do not).
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlparse

import torch

from zoo.errors import ZooError
from zoo.records import Metric, ModelCard


class BuildError(ZooError):
    """timm cannot build the model a card names."""


@dataclass(frozen=True)
class BuildTarget:
    """What will be built for a card, and why."""

    card_name: str
    architecture: str
    tag: str = ""
    alias_path: tuple[str, ...] = ()
    """Names followed from the card's name to the one built, e.g. (card name, alias target)."""
    tag_reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    mismatch: Optional[str] = None
    """Set when the card's name leads only to another architecture: the card is not judged."""

    @property
    def pretrained_name(self) -> str:
        return f"{self.architecture}.{self.tag}" if self.tag else self.architecture

    def describe(self) -> str:
        path = " -> ".join(self.alias_path) if len(self.alias_path) > 1 else self.card_name
        return f"{path}: built {self.pretrained_name} ({self.tag_reason})" if self.tag_reason else f"{path}: built {self.pretrained_name}"


_HASH_SUFFIX = re.compile(r"-[0-9a-f]{6,}$")


def weights_file_name(card: ModelCard) -> Optional[str]:
    """The base name of the card's Weights URL (``tf_efficientnet_b0_ap-f262efe1.pth``), if any."""
    claim = card.claim(Metric.WEIGHTS)
    if claim is None or not isinstance(claim.value, str):
        return None
    name = os.path.basename(urlparse(claim.value).path)
    return name or None


@functools.lru_cache(maxsize=1)
def _files_to_tags() -> dict[str, tuple[str, ...]]:
    """Base name of every pretrained config's URL / file -> the ``arch.tag`` names that use it.

    Each file is also filed under its name without the hash (``resnet18-f37072fd.pth`` as
    ``resnet18.pth``): a re-released file keeps its name and gets a new hash.
    """
    from timm.models import get_arch_pretrained_cfgs

    found: dict[str, list[str]] = {}
    # Each architecture's tags in timm's own order (its default tag first), which picks between tags sharing a file.
    for name, cfg in ((n, c) for arch in sorted(architectures()) for n, c in get_arch_pretrained_cfgs(arch).items()):
        if "." not in name:
            continue
        for location in (cfg.url, cfg.file, cfg.hf_hub_filename):
            if isinstance(location, str) and location:
                base = os.path.basename(urlparse(location).path)
                found.setdefault(base, []).append(name)
                found.setdefault(_unhashed(base), []).append(name)
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items()}


@functools.lru_cache(maxsize=1)
def architectures() -> frozenset[str]:
    """Every architecture timm registers (deprecated names excluded), from its public ``list_models``."""
    import timm

    return frozenset(timm.list_models())


def _unhashed(file_name: str) -> str:
    stem, suffix = os.path.splitext(file_name)
    return "~" + _HASH_SUFFIX.sub("", stem) + suffix


def _known_file(pretrained_name: str) -> bool:
    """Whether timm's config for ``arch.tag`` names its file (URL or file path)."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(pretrained_name, allow_unregistered=False)
    return bool(cfg is not None and (cfg.url or cfg.file))


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[_.\-]+", text.lower()) if t}


def _tag_from_file_words(architecture: str, tags: list[str], file_name: str) -> Optional[str]:
    """The one tag sharing the most words with the file name, once the architecture's words are dropped."""
    stem = _HASH_SUFFIX.sub("", os.path.splitext(file_name)[0])
    words = _tokens(stem) - _tokens(architecture) - {"in1k", "imagenet", "pth", "bin"}
    if not words:
        return None
    scored = sorted(((len(words & _tokens(tag)), tag) for tag in tags), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def _name_says(card_name: str, target_arch: str, known: set[str]) -> tuple[Optional[str], bool]:
    """(architecture the card's name says, whether it conflicts with the alias target).

    Card names put a source word before or after the architecture (``ig_``, ``tv_``, ``_ap``).
    The name conflicts with the target when, with such a word dropped, it is another
    registered architecture, or has the target's words but another size in one place
    (``resnext101_32x48d`` vs ``resnext101_32x8d``).
    """
    words = card_name.split("_")
    target_words = target_arch.split("_")
    cuts = [cut for cut in (words[1:], words[:-1], words) if cut]
    if any("_".join(cut) == target_arch for cut in cuts):
        return target_arch, False
    for cut in cuts:
        candidate = "_".join(cut)
        if candidate in known and candidate != target_arch:
            return candidate, True
        if len(cut) == len(target_words):
            differ = [(a, b) for a, b in zip(cut, target_words) if a != b]
            if len(differ) == 1 and re.findall(r"\d+", differ[0][0]) != re.findall(r"\d+", differ[0][1]):
                return candidate, True
    return None, False


def resolve_target(card: ModelCard) -> BuildTarget:
    """The architecture and pretrained tag the card means (see the module doc).

    Raises :class:`BuildError` when timm has no model of the card's name at all.
    """
    import timm
    from timm.models import get_deprecated_models, split_model_name_tag

    name = card.name
    deprecated = get_deprecated_models()
    file_name = weights_file_name(card)
    files = _files_to_tags()
    by_file = (files.get(file_name) or files.get(_unhashed(file_name), ())) if file_name else ()
    notes: list[str] = []
    alias_path: tuple[str, ...] = (name,)
    alias_tag = ""
    if name in deprecated:
        current = deprecated[name]
        if not current:
            raise BuildError(f"{card.source}: model {name!r}: timm {timm.__version__} removed it with no replacement")
        alias_path = (name, current)
        architecture, alias_tag = split_model_name_tag(current)
        known = set(architectures())
        said, conflict = _name_says(name, architecture, known)
        if conflict:
            from_file = [n for n in by_file if split_model_name_tag(n)[0] != architecture]
            if said in known or from_file:
                right = said if said in known else split_model_name_tag(from_file[0])[0]
                notes.append(f"timm's alias table maps {name} to {current}, another architecture than the name says; built {right} instead")
                alias_path = (name, right)
                architecture, alias_tag = right, ""
            else:
                reason = (
                    f"timm {timm.__version__} maps the deprecated name {name} to {current}, another architecture "
                    f"(the name says {said}, which timm does not have): not judged against it"
                )
                return BuildTarget(name, architecture, alias_tag, alias_path, "alias target", tuple(notes), mismatch=reason)
    elif timm.is_model(name):
        architecture, alias_tag = split_model_name_tag(name)
    else:
        if by_file:  # the card's own weights file identifies the model (up to its hash: the architecture only)
            architecture, tag = split_model_name_tag(by_file[0])
            if file_name in files:
                reason = f"timm has no model named {name}; its Weights file {file_name} is {by_file[0]}'s"
                return BuildTarget(name, architecture, tag, (name, by_file[0]), reason, (reason,))
            tag, why = _choose_tag(architecture, "", file_name, by_file, card)
            reason = f"timm has no model named {name}; its Weights file {file_name} is named as {architecture}'s files are"
            return BuildTarget(name, architecture, tag, (name, architecture), f"{reason}; {why}", (reason,))
        close = difflib.get_close_matches(name, timm.list_models(), n=3, cutoff=0.75)
        hint = f"did you mean {', '.join(close)}?" if close else "check the Name against `timm.list_models()`"
        raise BuildError(f"{card.source}: model {name!r}: timm {timm.__version__} has no model of that name ({hint})")

    tag, reason = _choose_tag(architecture, alias_tag, file_name, by_file, card)
    others = [n for n in by_file if split_model_name_tag(n)[0] != architecture]
    if others and not any(split_model_name_tag(n)[0] == architecture for n in by_file):
        notes.append(f"the card's Weights file {file_name} is timm's file for {others[0]}, not for {architecture}")
    return BuildTarget(name, architecture, tag, alias_path, reason, tuple(notes))


def _choose_tag(
    architecture: str, alias_tag: str, file_name: Optional[str], by_file: tuple[str, ...], card: Optional[ModelCard] = None
) -> tuple[str, str]:
    from timm.models import get_arch_pretrained_cfgs, split_model_name_tag

    tags = [n.split(".", 1)[1] for n in get_arch_pretrained_cfgs(architecture) if "." in n] if architecture in architectures() else []
    same = [split_model_name_tag(n)[1] for n in by_file if split_model_name_tag(n)[0] == architecture]
    exact = file_name in _files_to_tags()
    if same and exact:
        if alias_tag in same and len(same) > 1:  # one file shared by several tags: the alias decides
            return alias_tag, f"the tag timm's alias names; the card's Weights file {file_name} is its file"
        return same[0], f"the card's Weights file {file_name} is this tag's file"
    # A file matched only up to its hash is another file of the same name: the same checkpoint saved
    # again (torchvision re-saved its weights under new hashes) or another training run (timm's and
    # DeiT's regnety_160-*.pth). The name alone does not say which; the tag is the card's only when
    # its config also has every Image Size, Crop Pct and Interpolation the card claims.
    if same and card is not None:
        agreeing = [t for t in same if _config_fits(architecture, t, card)]
        chosen = agreeing[0] if len(agreeing) == 1 else (alias_tag if alias_tag in agreeing else None)
        if chosen:
            return chosen, (
                f"the card's Weights file {file_name} has the name of this tag's file with another hash "
                "(the same checkpoint saved again, or another one), and the tag's config has the card's settings"
            )
    other = (
        f"; the card's Weights file {file_name} has the name of {architecture}.{same[0]}'s file with another hash, "
        "and that tag's config differs from the card's settings (another checkpoint)"
    ) if same else ""
    if alias_tag:
        return alias_tag, "the tag timm's alias names" + other
    tag, reason = _tag_without_file_match(architecture, tags, file_name, card)
    return tag, reason + other


def _tag_without_file_match(
    architecture: str, tags: list[str], file_name: Optional[str], card: Optional[ModelCard]
) -> tuple[str, str]:
    """The tag a card means when no tag's file is the card's Weights file."""
    if file_name:
        worded = _tag_from_file_words(architecture, tags, file_name)
        if worded:
            return worded, f"the tag sharing a word with the card's Weights file {file_name}"
        unknown = [t for t in tags if not _known_file(f"{architecture}.{t}")]
        if 0 < len(unknown) < len(tags) and len(unknown) == 1:
            return unknown[0], f"the only tag not known to use another file than {file_name}"
    default = tags[0] if tags else ""
    configured = _tag_with_card_config(architecture, tags, card) if card is not None and len(tags) > 1 else None
    if configured and configured != default:
        return configured, "the only tag whose config has the card's Image Size, Crop Pct and Interpolation" + (
            f" (the Weights file {file_name} names no tag)" if file_name else ""
        )
    return default, "timm's default tag" + (f" (the Weights file {file_name} names none of {len(tags)})" if file_name and len(tags) > 1 else "")


def _config_fits(architecture: str, tag: str, card: ModelCard) -> bool:
    """Whether the tag's config (or test config) has every config value the card claims (and it claims one)."""
    from timm.models import get_pretrained_cfg

    size, crop = card.number(Metric.IMAGE_SIZE), card.number(Metric.CROP_PCT)
    interpolation = card.claim(Metric.INTERPOLATION)
    if size is None and crop is None and interpolation is None:
        return False
    cfg = get_pretrained_cfg(f"{architecture}.{tag}", allow_unregistered=False)
    if cfg is None:
        return False
    sizes = {s[-1] for s in (cfg.input_size, cfg.test_input_size) if s}
    crops = {c for c in (cfg.crop_pct, cfg.test_crop_pct) if c is not None}
    return (
        (size is None or size in sizes)
        and (crop is None or any(abs(crop - c) < 1e-9 for c in crops))
        and (interpolation is None or str(interpolation.value).strip().lower() == str(cfg.interpolation).lower())
    )


def _tag_with_card_config(architecture: str, tags: list[str], card: ModelCard) -> Optional[str]:
    """The one tag whose config (or test config) has every config value the card claims; None if not one."""
    fitting = [tag for tag in tags if _config_fits(architecture, tag, card)]
    return fitting[0] if len(fitting) == 1 else None


def build_model(card: ModelCard, target: Optional[BuildTarget] = None, *, meta: bool = False) -> torch.nn.Module:
    """``timm.create_model(target.pretrained_name, pretrained=False)`` in eval mode.

    ``meta=True`` builds on the meta device: shapes without storage or initialisation, for
    measurements that never run real tensors. Raises :class:`BuildError` naming the card's
    place and timm's closest names.
    """
    import warnings

    import timm

    target = target or resolve_target(card)
    if target.mismatch:
        raise BuildError(target.mismatch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if meta:
                with torch.device("meta"):
                    model = timm.create_model(target.pretrained_name, pretrained=False)
            else:
                model = timm.create_model(target.pretrained_name, pretrained=False)
    except Exception as exc:  # timm raises many kinds; all mean "this card's model cannot be built"
        raise BuildError(f"{card.source}: model {card.name!r}: timm could not build {target.pretrained_name}: {exc}") from exc
    return model.eval()
