"""torchvision's weights metadata as model-index cards (``zoo import torchvision``).

Every classification builder of ``torchvision.models`` (``list_models(module=torchvision.models)``)
becomes one card, ``cards/<builder>.yml``, and every member of its weights enum one model,
``<builder>.<WEIGHTS>`` (``resnet50.IMAGENET1K_V2``), with ``Library: torchvision``. The claims
stay YAML a zoo can review, diff and pin like any other card; nothing is downloaded.

What each weights' ``meta`` and ``transforms`` become:

==========================  ================================  =====================================
torchvision                 card field                        read as
==========================  ================================  =====================================
``num_params``              ``Parameters``                    exact (a whole count, no rounding)
``_ops`` (GFLOPS)           ``FLOPs: 4.089G``                 to half its last digit (0.0005 G)
``_file_size`` ("MB")       ``File Size: 97.781 MiB``         to half its last digit, in bytes
``_metrics`` acc@1, acc@5   ``Top 1/5 Accuracy: 80.858%``     to its last digit (0.25 pp tolerance)
``url``                     ``Weights``                       the checkpoint file
``transforms()`` crop       ``Image Size``                    exact
``transforms()`` resize     ``Resize Size``                   exact
``transforms()`` interp.    ``Interpolation``                 as a word
==========================  ================================  =====================================

Each figure is written as torchvision's source writes it (the float's shortest text: ``4.089``,
``0.04``), so a claim holds at the precision torchvision wrote. ``_file_size`` is documented as
MB but is MiB (2**20 bytes): densenet121's file, 32,342,954 bytes, is 30.845 MiB, the figure
torchvision gives, and 32.343 MB. A metric torchvision leaves as NaN (vgg16's feature weights)
is written empty: not claimed.

torchvision's ``_ops`` count multiply-accumulates of convolutions, linear layers and matrix
products (attention's too) at the crop size, nothing else: zoo's ``macs @image`` convention
(measured: resnet50 4.089, vit_b_16 17.564, mobilenet_v2 0.301 GMACs, each torchvision's figure
to the digit). The import pins it beside the cards (``flops-conventions.yml``), so every FLOPs
claim is judged against that one named convention, never a fitted ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from zoo.atomic import write_atomic

CARDS_FOLDER = "cards"
ROOT_FILE = "model-index.yml"
CONVENTIONS_FILE = "flops-conventions.yml"
CONVENTION = "macs @image"
"""torchvision's FLOPs counting convention, in zoo's names (see the module doc)."""


@dataclass(frozen=True)
class ImportedCards:
    """What ``zoo import torchvision`` wrote."""

    folder: Path
    files: list[Path]
    builders: int
    models: int
    version: str


def _number(value: Any) -> Optional[str]:
    """A metadata figure as torchvision wrote it (its shortest text); None for a missing or NaN one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return repr(float(value)) if isinstance(value, float) else str(value)


def model_entry(builder: str, weights: Any) -> dict[str, Any]:
    """One weights' model entry (see the module doc for each field)."""
    meta = weights.meta
    preset = weights.transforms()
    metadata: dict[str, Any] = {"Parameters": int(meta["num_params"])}
    ops, size = _number(meta.get("_ops")), _number(meta.get("_file_size"))
    metadata["FLOPs"] = f"{ops}G" if ops is not None else None
    metadata["File Size"] = f"{size} MiB" if size is not None else None
    metadata["Image Size"] = int(preset.crop_size[0])
    metadata["Resize Size"] = int(preset.resize_size[0])
    metadata["Interpolation"] = str(getattr(preset.interpolation, "value", preset.interpolation)).lower()
    metadata["Min Size"] = "x".join(str(v) for v in meta.get("min_size", ()))
    entry: dict[str, Any] = {
        "Name": f"{builder}.{weights.name}",
        "In Collection": builder,
        "Library": "torchvision",
        "Weights Enum": str(weights),
        "Weights": weights.url,
        "Metadata": metadata,
    }
    results = []
    for dataset, figures in (meta.get("_metrics") or {}).items():
        top1, top5 = _number(figures.get("acc@1")), _number(figures.get("acc@5"))
        results.append({
            "Task": "Image Classification", "Dataset": "ImageNet" if dataset == "ImageNet-1K" else dataset,
            "Metrics": {"Top 1 Accuracy": f"{top1}%" if top1 else None, "Top 5 Accuracy": f"{top5}%" if top5 else None},
        })
    if results:
        entry["Results"] = results
    if meta.get("recipe"):
        entry["Recipe"] = meta["recipe"]
    return entry


def builder_card(builder: str, version: str) -> str:
    """The YAML of one builder's card: its collection and one model per weights."""
    from torchvision.models import get_model_weights

    enum = get_model_weights(builder)
    data = {
        "Collections": [{"Name": builder, "Library": "torchvision", "Metadata": {"Weights Enum": enum.__name__}}],
        "Models": [model_entry(builder, weights) for weights in enum],
    }
    header = (
        f"# torchvision {version}: the weights of torchvision.models.{builder} ({enum.__name__}) as claims.\n"
        "# Written by `zoo import torchvision` from the installed metadata; run it again rather than editing.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def conventions_text(version: str) -> str:
    """The pinned FLOPs convention of the imported cards (see the module doc)."""
    return (
        f"# FLOPs counting convention of torchvision {version}'s weights metadata (written by `zoo import torchvision`).\n"
        "# torchvision's _ops (GFLOPS) count the multiply-accumulates of convolutions, linear layers and matrix\n"
        "# products (attention's included) at the crop size, and nothing else: zoo's `macs @image`.\n"
        "# verify, gate and report judge every FLOPs claim of these cards against it and never fit.\n"
        + yaml.safe_dump(
            {"index": [ROOT_FILE], "tolerance": 0.02, "zoo": CONVENTION, "collections": {}},
            sort_keys=False,
        )
    )


def import_torchvision(folder: Path) -> ImportedCards:
    """Write every classification weights' card, the root ``model-index.yml`` and the pinned convention into ``folder``."""
    import torchvision
    from torchvision.models import get_model_weights, list_models

    builders = sorted(list_models(module=torchvision.models))
    version = torchvision.__version__
    written = []
    models = 0
    for builder in builders:
        models += len(list(get_model_weights(builder)))
        written.append(write_atomic(folder / CARDS_FOLDER / f"{builder}.yml", builder_card(builder, version)))
    root = (
        f"# torchvision {version}: every classification weights' claims, one card per builder (zoo import torchvision).\n"
        f"Import:\n- {CARDS_FOLDER}/*.yml\n"
    )
    written.append(write_atomic(folder / ROOT_FILE, root))
    written.append(write_atomic(folder / CONVENTIONS_FILE, conventions_text(version)))
    return ImportedCards(folder, written, len(builders), models, version)
