"""The standard ImageNet-1k class index (sorted WordNet ids) and the devkit's own order.

Models index the 1000 classes by sorted WordNet id (``n01440764`` is 0); timm ships
that list. The ILSVRC2012 devkit numbers classes differently (``ILSVRC2012_ID`` 1..1000,
in ``data/meta.mat``), and ``ILSVRC2012_validation_ground_truth.txt`` uses those numbers.
"""

from __future__ import annotations

import functools
from pathlib import Path

from zoo.errors import InputError

IMAGENET_VAL_IMAGES = 50_000
"""Images in the ILSVRC2012 validation set, the population of every ImageNet top-1 claim."""
IMAGENET_CLASSES = 1000


@functools.lru_cache(maxsize=1)
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ImageNet-1k WordNet ids in the standard (sorted) class order, from timm."""
    from timm.data import ImageNetInfo

    return tuple(ImageNetInfo("imagenet-1k").label_names())


@functools.lru_cache(maxsize=1)
def imagenet_class_index() -> dict[str, int]:
    """WordNet id -> standard class index (0..999)."""
    return {wnid: i for i, wnid in enumerate(imagenet_wnids())}


def standard_index(wnid: str, *, where: str) -> int:
    """The standard class index of ``wnid``; ``where`` names the file/line for the error."""
    try:
        return imagenet_class_index()[wnid]
    except KeyError:
        raise InputError(
            f"{where}: {wnid!r} is not one of the 1000 ImageNet-1k WordNet ids",
            hint="labels must be ImageNet-1k synsets such as n01440764",
        ) from None


def devkit_id_to_wnid(meta_mat: Path) -> dict[int, str]:
    """``ILSVRC2012_ID`` (1..1000) -> WordNet id, read from the devkit's ``data/meta.mat``.

    The 1000 classes are the leaf synsets (``num_children == 0``) of the file.
    """
    import scipy.io

    try:
        synsets = scipy.io.loadmat(str(meta_mat), squeeze_me=True)["synsets"]
        mapping = {int(row["ILSVRC2012_ID"]): str(row["WNID"]) for row in synsets if int(row["num_children"]) == 0}
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"{meta_mat}: not a readable ILSVRC2012 devkit meta.mat ({exc})",
            hint="use data/meta.mat from ILSVRC2012_devkit_t12.tar.gz",
        ) from exc
    if len(mapping) != IMAGENET_CLASSES:
        raise InputError(
            f"{meta_mat}: has {len(mapping)} leaf synsets, the ILSVRC2012 devkit has {IMAGENET_CLASSES}",
            hint="use data/meta.mat from ILSVRC2012_devkit_t12.tar.gz",
        )
    return mapping
