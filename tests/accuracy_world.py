"""The accuracy tests' world: small generated image datasets in every layout, models
whose predictions are known by construction, the claims its cards make, and a torchrun
entry point (the tiny model, cards and fast options are shared: ``conftest.py``).

The grey world
--------------
Ten ImageNet classes (every hundredth WordNet id, so standard indices 0, 100, ..., 900),
each image a solid grey of its class's level. :class:`GreyModel` scores a class by how
close the image's grey is to the class's level, so its top-k are the k nearest levels.
Four images per class; three are placed in the folder of a neighbouring class (top-1
wrong, top-5 right) and two six classes away (both wrong): top-1 35/40, top-5 38/40.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from conftest import TinyNet, card, accuracy_entry, fast_eval_options

GREY_CLASSES = 10
GREY_PER_CLASS = 4
GREY_TOP1 = 35
GREY_TOP5 = 38
GREY_IMAGES = GREY_CLASSES * GREY_PER_CLASS


def grey_wnids() -> list[str]:
    from zoo.measure.accuracy.data.synsets import imagenet_wnids

    return list(imagenet_wnids()[::100])


def level(k: int) -> int:
    return 15 + 25 * k


@dataclass(frozen=True)
class GreyImage:
    name: str
    folder_class: int  # 0..9, the label
    content_class: int  # 0..9, the grey it shows


def grey_plan() -> list[GreyImage]:
    """40 images; image number n (1-based) is ILSVRC2012_val_%08d n."""
    plan, n = [], 0
    off_by_one = {(0, 0), (4, 1), (9, 2)}  # (class, image): content of a neighbour
    far = {(2, 3), (7, 3)}  # content six classes away
    for c in range(GREY_CLASSES):
        for i in range(GREY_PER_CLASS):
            n += 1
            content = c
            if (c, i) in off_by_one:
                content = c + 1 if c < GREY_CLASSES - 1 else c - 1
            elif (c, i) in far:
                content = (c + 6) % GREY_CLASSES if c < 4 else c - 6
            plan.append(GreyImage(f"ILSVRC2012_val_{n:08d}", c, content))
    return plan


def grey_image(k: int, size: tuple[int, int] = (44, 36)) -> Image.Image:
    return Image.new("RGB", size, (level(k),) * 3)


def write_grey_class_folders(root: Path, ext: str = "png") -> Path:
    wnids = grey_wnids()
    for item in grey_plan():
        folder = root / wnids[item.folder_class]
        folder.mkdir(parents=True, exist_ok=True)
        grey_image(item.content_class).save(folder / f"{item.name}.{ext}")
    return root


def write_grey_flat(root: Path, ext: str = "JPEG") -> Path:
    """The flat layout: images in ``root``, no labels file (tests add one)."""
    root.mkdir(parents=True, exist_ok=True)
    for item in grey_plan():
        grey_image(item.content_class).save(root / f"{item.name}.{ext}", quality=95)
    return root


def write_loc_solution(path: Path, plan: list[GreyImage] | None = None) -> Path:
    wnids = grey_wnids()
    lines = ["ImageId,PredictionString"]
    for item in plan or grey_plan():
        w = wnids[item.folder_class]
        lines.append(f"{item.name},{w} 10 12 30 33 {w} 1 2 3 4")
    path.write_text("\n".join(lines) + "\n")
    return path


def devkit_order() -> list[str]:
    """A stand-in devkit order: the 1000 wnids, permuted (the real devkit's is not sorted either)."""
    from zoo.measure.accuracy.data.synsets import imagenet_wnids

    wnids = list(imagenet_wnids())
    order = np.random.default_rng(7).permutation(len(wnids))
    return [wnids[i] for i in order]


def write_devkit(folder: Path) -> Path:
    """``folder/meta.mat`` (leaf synsets plus one non-leaf, like the devkit) and the ground truth."""
    import scipy.io

    folder.mkdir(parents=True, exist_ok=True)
    order = devkit_order()
    dtype = [("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("gloss", "O"), ("num_children", "O")]
    rows = [(i + 1, w, f"class {w}", "", 0) for i, w in enumerate(order)]
    rows.append((1001, "n00001740", "entity", "", 3))
    scipy.io.savemat(folder / "meta.mat", {"synsets": np.array(rows, dtype=dtype)})
    devkit_id = {w: i + 1 for i, w in enumerate(order)}
    wnids = grey_wnids()
    lines = [str(devkit_id[wnids[item.folder_class]]) for item in grey_plan()]
    (folder / "ILSVRC2012_validation_ground_truth.txt").write_text("\n".join(lines) + "\n")
    return folder / "ILSVRC2012_validation_ground_truth.txt"


class GreyModel(nn.Module):
    """Scores class k by minus the squared distance between the image's normalised red
    channel mean and level k; classes outside the grey world score -1e4."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

        self.num_classes = num_classes
        prototypes = torch.full((num_classes,), 1e3)
        for k, index in enumerate(range(0, 100 * GREY_CLASSES, 100)):
            prototypes[index] = (level(k) / 255 - IMAGENET_DEFAULT_MEAN[0]) / IMAGENET_DEFAULT_STD[0]
        self.register_buffer("prototypes", prototypes)
        self.scale = nn.Parameter(torch.ones(()))  # a parameter, so device moves are observable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        red = x[:, 0].mean(dim=(1, 2))
        return -self.scale * (red[:, None] - self.prototypes[None, :]) ** 2


def write_noise_folders(root: Path, classes: int = 5, per_class: int = 6, seed: int = 0) -> Path:
    """Class folders of random-noise images of varied sizes (arbitrary names, not WordNet ids)."""
    rng = np.random.default_rng(seed)
    for c in range(classes):
        folder = root / f"class_{c:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = int(rng.integers(30, 60)), int(rng.integers(30, 60))
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            ext = "png" if i % 2 else "jpg"
            Image.fromarray(pixels).save(folder / f"img_{c}_{i}.{ext}")
    return root


SCORED = {"image_size": 32, "crop_pct": 0.875, "interpolation": "bicubic", "top1": "87.5%"}
"""What an accuracy test's card claims (``card(name, **SCORED)``): the eval transform's inputs and a top-1."""


def offline_hugging_face(monkeypatch, tmp_path: Path) -> None:
    """HF_HUB_OFFLINE / HF_DATASETS_OFFLINE for this test, whatever was imported before
    (both libraries read them at import), and a dataset cache inside the test's folder."""
    import datasets
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)


TORCHRUN_CASES = {"full": (4, None), "limited": (3, 17)}
"""Case name -> (batch size, --limit) that :func:`torchrun_main` scores."""


def torchrun_models():  # type: ignore[no-untyped-def]
    return [accuracy_entry(card("a", **SCORED), TinyNet(5, seed=1)), accuracy_entry(card("b", **SCORED), TinyNet(5, seed=2))]


def torchrun_main(data: str, out: str) -> None:
    """Entry point under torchrun: score two TinyNets (one transform) on ``data`` for each
    of :data:`TORCHRUN_CASES`; rank 0 writes predictions, every rank its measurements."""
    import torch.distributed as dist

    from zoo.measure.accuracy.measure import measure_accuracy
    from zoo.records import to_json_dict

    for case, (batch_size, limit) in TORCHRUN_CASES.items():
        folder = Path(out) / case
        folder.mkdir(parents=True, exist_ok=True)
        options = fast_eval_options(data, batch_size=batch_size, limit=limit, device="cpu")
        outcome = measure_accuracy(torchrun_models(), options, folder)
        payload = {
            "world_size": dist.get_world_size(),
            "backend": str(dist.get_backend()),
            "artifacts": outcome.artifacts,
            "measurements": {k: [to_json_dict(m) for m in v] for k, v in outcome.measurements.items()},
        }
        (folder / f"rank{dist.get_rank()}.json").write_text(json.dumps(payload))


if __name__ == "__main__":
    torchrun_main(*sys.argv[1:3])
