"""The fast evaluation path (decoding workers, tuned allocator) predicts exactly what the plain
path does, and per-image predictions do not depend on the batch size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from accuracy_world import write_noise_folders
from conftest import card, accuracy_entry, fast_eval_options, transform_of
from zoo.measure.accuracy.measure import measure_accuracy
from zoo.runs.predictions import read_predictions


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return write_noise_folders(tmp_path_factory.mktemp("speed") / "val", classes=6, per_class=4, seed=3)


@pytest.fixture(scope="module")
def mobilenet() -> torch.nn.Module:
    """A real timm network (random weights, seeded) with a 6-class head: many close logits."""
    import timm

    torch.manual_seed(0)
    return timm.create_model("mobilenetv2_050", num_classes=6).eval()


def topk_of(model: torch.nn.Module, data: Path, folder: Path, **options) -> np.ndarray:  # type: ignore[no-untyped-def]
    outcome = measure_accuracy([accuracy_entry(card("m", image_size=64, crop_pct=0.875, interpolation="bicubic"), model)], fast_eval_options(data, **options), folder)
    assert outcome.measurements["m"][0].status == "ok", outcome.measurements["m"][0].reason
    return read_predictions(folder / "predictions.parquet")["m"].topk


def test_workers_and_tuned_allocator_give_the_same_top5_per_image(images, mobilenet, tmp_path) -> None:
    plain = topk_of(mobilenet, images, tmp_path / "plain", workers=0, allocator="default", batch_size=16)
    fast = topk_of(mobilenet, images, tmp_path / "fast", workers=2, allocator="tuned", batch_size=16)
    assert plain.shape == (24, 5)
    assert np.array_equal(plain, fast)  # same classes, same order, every image


def test_top1_and_top5_membership_do_not_depend_on_the_batch_size(images, mobilenet, tmp_path) -> None:
    runs = {bs: topk_of(mobilenet, images, tmp_path / f"b{bs}", batch_size=bs) for bs in (1, 8, 64)}
    reference = runs[1]
    for bs, topk in runs.items():
        assert np.array_equal(topk[:, 0], reference[:, 0]), f"top-1 differs at batch {bs}"
        assert [set(row) for row in topk.tolist()] == [set(row) for row in reference.tolist()], bs


def test_the_batch_size_and_allocator_are_recorded(images, mobilenet, tmp_path) -> None:
    outcome = measure_accuracy(
        [accuracy_entry(card("m", image_size=64, crop_pct=0.875, interpolation="bicubic"), mobilenet)], fast_eval_options(images, batch_size=8, allocator="tuned"), None
    )
    conditions = outcome.measurements["m"][0].conditions
    assert conditions["batch_size"] == 8
    assert conditions["allocator"] in ("glibc-tuned", "jemalloc", "tcmalloc", "mimalloc", "system")



def small_model(crop_mode: str | None = None) -> torch.nn.Module:
    """A fresh mobilenetv2_050 whose timm pretrained_cfg names ``crop_mode`` (when given)."""
    import timm

    model = timm.create_model("mobilenetv2_050", num_classes=6).eval()
    if crop_mode:
        model.pretrained_cfg = {**model.pretrained_cfg, "crop_mode": crop_mode}
    return model


@pytest.mark.parametrize(
    "claims, crop_mode",
    [
        (dict(image_size=64, crop_pct=0.875, interpolation="bicubic"), None),
        (dict(image_size=56, crop_pct=1.0, interpolation="bilinear"), None),
        (dict(image_size=48, crop_pct=0.95, interpolation="bicubic"), "squash"),
        (dict(image_size=64, crop_pct=0.875, interpolation="bicubic"), "border"),
    ],
    ids=["bicubic", "bilinear-full-crop", "squash", "border"],
)
def test_uint8_decode_then_batch_finish_equals_the_per_image_transform_bit_for_bit(images, claims, crop_mode) -> None:
    from PIL import Image

    transform = transform_of(card("m", **claims), small_model(crop_mode))
    assert transform.decode is not None, transform.description
    assert (crop_mode == "squash") == transform.description.startswith("resize 50x50"), transform.description
    assert (crop_mode == "border") == ("center crop or pad" in transform.description), transform.description
    pictures = [Image.open(path).convert("RGB") for path in sorted(p for p in images.rglob("*") if p.is_file())[:8]]
    assert len(pictures) == 8
    split = transform.finish(torch.stack([transform.decode(p) for p in pictures]))
    whole = torch.stack([transform.transform(p) for p in pictures])
    assert split.dtype == whole.dtype == torch.float32
    assert torch.equal(split, whole)


def test_scoring_with_uint8_batches_predicts_what_the_float_path_does(images, mobilenet, tmp_path, monkeypatch) -> None:
    from zoo.measure.accuracy import loop

    dtypes: list[torch.dtype] = []
    finish = loop.EvalTransform.finish
    monkeypatch.setattr(loop.EvalTransform, "finish", lambda self, batch: dtypes.append(batch.dtype) or finish(self, batch))
    split = topk_of(mobilenet, images, tmp_path / "split", workers=2, batch_size=8)
    assert dtypes and set(dtypes) == {torch.uint8}  # the workers sent uint8 batches
    monkeypatch.setattr("zoo.measure.accuracy.transforms._split", lambda whole, prefetch: (None, (), ()))
    dtypes.clear()
    whole = topk_of(mobilenet, images, tmp_path / "whole", workers=2, batch_size=8)
    assert dtypes and set(dtypes) == {torch.float32}  # and here float batches, the per-image path
    assert np.array_equal(split, whole)


def test_a_transform_that_does_not_split_is_used_whole() -> None:
    from torchvision import transforms as T

    from zoo.measure.accuracy.transforms import EvalTransform, _split

    built = transform_of(card("m", image_size=64, crop_pct=0.875, interpolation="bicubic"), small_model())
    steps = built.transform.transforms
    odd = T.Compose([*steps[:-2], T.Grayscale(3), *steps[-2:]])  # a step the prefetcher form lacks
    assert _split(odd, built.decode) == (None, (), ())
    assert _split(T.Compose([*steps[:-1]]), built.decode) == (None, (), ())  # no Normalize at the end
    whole = EvalTransform(built.config, odd, built.description, built.origin)
    batch = torch.rand(2, 3, 64, 64)
    assert whole.decode is None and whole.finish(batch) is batch


def test_every_eval_config_of_timms_pretrained_tags_splits_bit_for_bit() -> None:
    """The 170-odd distinct eval transforms of timm's own pretrained configs (every tag it ships):
    each splits, and the uint8 batch path gives exactly the per-image tensors."""
    import timm
    from PIL import Image

    from zoo.measure.accuracy.transforms import eval_transform
    from zoo.measure.setup import resolve_setup

    rng = np.random.default_rng(0)
    pictures = [
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in ((375, 500), (90, 61))
    ]
    seen: set[tuple] = set()
    for name in timm.list_pretrained():
        pretrained = timm.models.get_pretrained_cfg(name)
        if pretrained is None:
            continue
        transform = eval_transform(card("m"), None, resolve_setup(card("m"), pretrained.to_dict()))  # type: ignore[arg-type]
        if transform.config in seen:
            continue
        seen.add(transform.config)
        assert transform.decode is not None, (name, transform.description)
        split = transform.finish(torch.stack([transform.decode(p) for p in pictures]))
        whole = torch.stack([transform.transform(p) for p in pictures])
        assert torch.equal(split, whole), (name, transform.description)
    assert len(seen) > 100  # timm 1.0.x ships 170-odd distinct eval configs


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_finishing_on_cuda_equals_the_per_image_transform_on_cpu_bit_for_bit(images) -> None:
    """CUDA divides by a host scalar as a multiply by its reciprocal; finish must not."""
    from PIL import Image

    transform = transform_of(card("m", image_size=64, crop_pct=0.875, interpolation="bicubic"), small_model())
    pictures = [Image.open(path).convert("RGB") for path in sorted(p for p in images.rglob("*") if p.is_file())[:8]]
    batch = torch.stack([transform.decode(p) for p in pictures]).pin_memory().to("cuda", non_blocking=True)
    whole = torch.stack([transform.transform(p) for p in pictures])
    assert torch.equal(transform.finish(batch).cpu(), whole)
    every_value = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).expand(1, 3, 16, 16).contiguous()
    assert torch.equal(transform.finish(every_value.cuda()).cpu(), transform.finish(every_value))
