"""Scoring: exact top-1/top-5 where the answer is known by construction, parity with a
reference built straight from timm and torchvision, independence from batch size and
workers, shared decoding, and what is recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TinyNet, card, accuracy_entry, fast_eval_options, transform_of
from accuracy_world import (
    GREY_IMAGES,
    GREY_TOP1,
    GREY_TOP5,
    SCORED,
    GreyModel,
    write_grey_class_folders,
    write_grey_flat,
    write_loc_solution,
    write_noise_folders,
)
from torchvision.datasets import ImageFolder

from zoo.measure.accuracy.data.base import FileImages
from zoo.errors import InputError
from zoo.runs.predictions import read_predictions
from zoo.measure.accuracy.measure import measure_accuracy
from zoo.records import Measurement


@pytest.fixture(scope="module")
def grey_folders(tmp_path_factory) -> Path:
    return write_grey_class_folders(tmp_path_factory.mktemp("grey") / "val")


@pytest.fixture(scope="module")
def grey_flat(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("flat")
    write_loc_solution(root / "LOC_val_solution.csv")
    return write_grey_flat(root / "val")


@pytest.fixture(scope="module")
def noise_folders(tmp_path_factory) -> Path:
    return write_noise_folders(tmp_path_factory.mktemp("noise") / "val", classes=5, per_class=6)


def by_metric(measurements: list[Measurement]) -> dict[str, Measurement]:
    return {m.metric: m for m in measurements}


@pytest.mark.parametrize("layout", ["class-folder", "flat"])
def test_top1_and_top5_are_exact_on_a_model_known_by_construction(layout, grey_folders, grey_flat, tmp_path):
    data = grey_folders if layout == "class-folder" else grey_flat
    outcome = measure_accuracy([accuracy_entry(card("grey", **SCORED), GreyModel())], fast_eval_options(data), tmp_path)
    top1, top5 = by_metric(outcome.measurements["grey"])["top1"], by_metric(outcome.measurements["grey"])["top5"]
    assert top1.status == top5.status == "ok"
    assert top1.value == 100 * GREY_TOP1 / GREY_IMAGES and top5.value == 100 * GREY_TOP5 / GREY_IMAGES
    assert top1.unit == "%" and top1.conditions["correct"] == GREY_TOP1 and top5.conditions["correct"] == GREY_TOP5
    assert top1.uncertainty.kind == "wilson-95" and top1.uncertainty.level == 0.95
    assert top1.uncertainty.low < top1.value < top1.uncertainty.high
    conditions = top1.conditions
    assert conditions["dataset_layout"] == layout and conditions["images"] == GREY_IMAGES
    assert conditions["dataset_fingerprint"] == outcome.dataset.fingerprint
    assert (
        conditions["transform"]
        == "resize 36 bicubic, center crop 32, normalize mean=(0.485, 0.456, 0.406) std=(0.229, 0.224, 0.225)"
    )
    for key in ("population", "classes", "unreadable", "device", "dtype", "channels_last", "batch_size", "limit"):
        assert key in conditions
    assert conditions["device"] == "cpu" and conditions["dtype"] == "float32" and conditions["classes"] == 1000
    assert "dataset has 40 images; the ImageNet validation set has 50,000" in top1.notes
    predictions = read_predictions(tmp_path / outcome.artifacts["predictions"])["grey"]
    assert int(predictions.correct_top1().sum()) == GREY_TOP1 and len(predictions.names) == GREY_IMAGES


def test_a_hub_style_parquet_dataset_scores_the_same_through_decoding_workers(tmp_path, monkeypatch):
    import datasets
    from accuracy_world import grey_image, grey_plan, grey_wnids, offline_hugging_face

    offline_hugging_face(monkeypatch, tmp_path)
    plan = grey_plan()
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=grey_wnids())})
    table = datasets.Dataset.from_dict(
        {"image": [grey_image(item.content_class) for item in plan], "label": [item.folder_class for item in plan]},
        features=features,
    )
    (tmp_path / "repo" / "data").mkdir(parents=True)
    table.to_parquet(str(tmp_path / "repo" / "data" / "validation-00000-of-00001.parquet"))
    outcome = measure_accuracy(
        [accuracy_entry(card("grey", **SCORED), GreyModel())], fast_eval_options(tmp_path / "repo", workers=2), None
    )
    top1, top5 = outcome.measurements["grey"]
    assert (top1.conditions["correct"], top5.conditions["correct"]) == (GREY_TOP1, GREY_TOP5)
    assert top1.conditions["dataset_layout"] == "parquet" and top1.conditions["workers"] == 2


def test_predictions_match_a_reference_built_from_timm_and_imagefolder(noise_folders, tmp_path):
    from timm.data import create_transform, resolve_data_config

    model = TinyNet(5, seed=3)
    outcome = measure_accuracy(
        [accuracy_entry(card("tiny", **SCORED | dict(image_size=24, crop_pct=0.9)), model)], fast_eval_options(noise_folders, batch_size=4), tmp_path
    )
    ours = read_predictions(tmp_path / outcome.artifacts["predictions"])["tiny"]

    config = resolve_data_config({"input_size": (3, 24, 24), "crop_pct": 0.9, "interpolation": "bicubic"}, model=model)
    reference = ImageFolder(str(noise_folders), transform=create_transform(**config))
    expected_names, expected_topk = [], []
    with torch.no_grad():
        for (path, _label), (image, _) in zip(reference.samples, reference):
            expected_names.append(Path(path).name)
            expected_topk.append(model(image[None]).topk(5, dim=1).indices[0].tolist())
    assert list(ours.names) == expected_names
    assert ours.topk.tolist() == expected_topk
    assert ours.labels.tolist() == [label for _, label in reference.samples]
    hits = sum(t[0] == label for t, (_, label) in zip(expected_topk, reference.samples))
    assert by_metric(outcome.measurements["tiny"])["top1"].value == pytest.approx(100 * hits / len(expected_topk))


def test_results_do_not_depend_on_batch_size_or_workers(noise_folders, tmp_path):
    runs = []
    for i, (batch, workers) in enumerate([(1, 0), (7, 0), (64, 0), (5, 2)]):
        folder = tmp_path / str(i)
        outcome = measure_accuracy(
            [accuracy_entry(card(**SCORED), TinyNet(5, seed=4))],
            fast_eval_options(noise_folders, batch_size=batch, workers=workers),
            folder,
        )
        runs.append((read_predictions(folder / "predictions.parquet")["tiny"], outcome.measurements["tiny"]))
    first, first_measurements = runs[0]
    for predictions, measurements in runs[1:]:
        assert predictions.names == first.names
        assert np.array_equal(predictions.topk, first.topk)
        assert [m.value for m in measurements] == [m.value for m in first_measurements]


def test_models_sharing_a_transform_decode_each_image_once(noise_folders, monkeypatch):
    calls: list[int] = []
    original = FileImages.load_image

    def counting(self, index):
        calls.append(index)
        return original(self, index)

    monkeypatch.setattr(FileImages, "load_image", counting)
    entries = [
        accuracy_entry(card("a", **SCORED), TinyNet(5, seed=1)),
        accuracy_entry(card("b", **SCORED), TinyNet(5, seed=2)),
        accuracy_entry(card("c", **SCORED | dict(image_size=28)), TinyNet(5, seed=3)),
    ]
    outcome = measure_accuracy(entries, fast_eval_options(noise_folders), None)
    assert sorted(calls) == sorted(list(range(30)) * 2)  # a and b share one pass; c has its own
    assert outcome.transforms["a"] == outcome.transforms["b"] != outcome.transforms["c"]
    assert outcome.artifacts == {}
    shared = measure_accuracy(entries[:1], fast_eval_options(noise_folders), None)
    assert [m.value for m in shared.measurements["a"]] == [m.value for m in outcome.measurements["a"]]


def test_no_data_configured_is_unavailable_with_the_documented_reason(monkeypatch):
    monkeypatch.delenv("ZOO_IMAGENET", raising=False)
    from zoo.measure.accuracy.options import EvalOptions

    outcome = measure_accuracy([accuracy_entry(card(**SCORED), TinyNet(5))], EvalOptions.from_env(progress=False), None)
    measurements = outcome.measurements["tiny"]
    assert [m.metric for m in measurements] == ["top1", "top5"]
    assert all(m.status == "unavailable" for m in measurements)
    assert measurements[0].reason == "no ImageNet data configured (--data or ZOO_IMAGENET)"


def test_unreadable_images_are_listed_and_not_counted(tmp_path):
    root = write_grey_class_folders(tmp_path / "val")
    broken = next((root).glob("*/ILSVRC2012_val_00000012.png"))
    broken.write_bytes(b"\x89PNG but not really")
    outcome = measure_accuracy([accuracy_entry(card("grey", **SCORED), GreyModel())], fast_eval_options(root), tmp_path / "run")
    top1 = by_metric(outcome.measurements["grey"])["top1"]
    assert top1.conditions["unreadable"] == 1 and top1.conditions["images"] == GREY_IMAGES - 1
    assert any(
        "1 unreadable image(s), not counted: ILSVRC2012_val_00000012.png (first: " in note for note in top1.notes
    )
    assert top1.conditions["correct"] == GREY_TOP1  # image 12 was a correct one; now it is simply not scored
    assert top1.value == pytest.approx(100 * GREY_TOP1 / (GREY_IMAGES - 1))
    predictions = read_predictions(tmp_path / "run" / "predictions.parquet")["grey"]
    assert predictions.topk[predictions.names.index("ILSVRC2012_val_00000012.png")].tolist() == [-1] * 5


def test_when_no_image_can_be_read_the_measurement_is_an_error(tmp_path):
    root = write_noise_folders(tmp_path / "val", classes=5, per_class=1)
    for path in root.rglob("img_*"):
        path.write_bytes(b"garbage")
    measurement = measure_accuracy([accuracy_entry(card(**SCORED), TinyNet(5))], fast_eval_options(root), None).measurements["tiny"][
        0
    ]
    assert measurement.status == "error"
    assert measurement.reason.startswith("none of the 5 images could be read; 5 unreadable image(s)")
    assert "UnidentifiedImageError" in measurement.reason


def test_a_class_count_mismatch_fails_only_that_model(noise_folders):
    entries = [accuracy_entry(card("right", **SCORED), TinyNet(5)), accuracy_entry(card("wrong", **SCORED), TinyNet(7))]
    outcome = measure_accuracy(entries, fast_eval_options(noise_folders), None)
    assert all(m.status == "ok" for m in outcome.measurements["right"])
    wrong = outcome.measurements["wrong"]
    assert all(m.status == "error" for m in wrong)
    assert "head has 7 classes" in wrong[0].reason and "has 5" in wrong[0].reason


def test_a_model_without_num_classes_is_checked_on_its_output(noise_folders):
    model = TinyNet(9)
    del model.num_classes
    outcome = measure_accuracy([accuracy_entry(card(**SCORED), model)], fast_eval_options(noise_folders), None)
    measurement = outcome.measurements["tiny"][0]
    assert measurement.status == "error" and "outputs shape (8, 9)" in measurement.reason


def test_limit_takes_a_stratified_subset_and_records_it(noise_folders, tmp_path):
    outcome = measure_accuracy(
        [accuracy_entry(card(**SCORED), TinyNet(5))], fast_eval_options(noise_folders, limit=10, seed=2), tmp_path
    )
    top1 = outcome.measurements["tiny"][0]
    assert top1.conditions["images"] == 10 and top1.conditions["limit"] == 10 and top1.conditions["subset_seed"] == 2
    assert top1.conditions["dataset_images"] == 30
    predictions = read_predictions(tmp_path / "predictions.parquet")["tiny"]
    assert np.bincount(predictions.labels).tolist() == [2, 2, 2, 2, 2]
    again = measure_accuracy(
        [accuracy_entry(card(**SCORED), TinyNet(5))], fast_eval_options(noise_folders, limit=10, seed=2), tmp_path / "again"
    )
    assert read_predictions(tmp_path / "again" / "predictions.parquet")["tiny"].names == predictions.names
    assert again.measurements["tiny"][0].value == top1.value


def test_population_correction_gives_zero_width_for_the_whole_population(grey_folders):
    full = measure_accuracy(
        [accuracy_entry(card("grey", **SCORED), GreyModel())], fast_eval_options(grey_folders, population=GREY_IMAGES), None
    )
    top1 = full.measurements["grey"][0]
    assert top1.uncertainty.low == top1.uncertainty.high == top1.value
    assert top1.uncertainty.kind == "wilson-95-fpc" and top1.conditions["population"] == GREY_IMAGES
    part = measure_accuracy(
        [accuracy_entry(card("grey", **SCORED), GreyModel())],
        fast_eval_options(grey_folders, population=GREY_IMAGES, limit=20, interval="clopper-pearson"),
        None,
    )
    interval = part.measurements["grey"][0].uncertainty
    assert interval.kind == "clopper-pearson-95-fpc" and interval.low < interval.high
    with pytest.raises(InputError, match="smaller than the 40 images scored"):
        measure_accuracy([accuracy_entry(card("grey", **SCORED), GreyModel())], fast_eval_options(grey_folders, population=10), None)


def test_bf16_autocast_and_channels_last_on_cpu_are_recorded_and_agree(noise_folders, tmp_path):
    model = TinyNet(5, seed=5)
    plain = measure_accuracy([accuracy_entry(card(**SCORED), model)], fast_eval_options(noise_folders), tmp_path / "fp32")
    nhwc = measure_accuracy(
        [accuracy_entry(card(**SCORED), model)], fast_eval_options(noise_folders, channels_last=True), tmp_path / "nhwc"
    )
    bf16 = measure_accuracy([accuracy_entry(card(**SCORED), model)], fast_eval_options(noise_folders, amp="bf16"), None)
    assert plain.measurements["tiny"][0].conditions["channels_last"] is False
    assert nhwc.measurements["tiny"][0].conditions["channels_last"] is True
    assert bf16.measurements["tiny"][0].conditions["dtype"] == "bf16 autocast"
    assert bf16.measurements["tiny"][0].status == "ok"
    a = read_predictions(tmp_path / "fp32" / "predictions.parquet")["tiny"]
    b = read_predictions(tmp_path / "nhwc" / "predictions.parquet")["tiny"]
    assert np.array_equal(a.topk[:, 0], b.topk[:, 0])
    assert next(model.parameters()).is_contiguous()  # the model is put back as it was
    assert model.training  # it came in training mode and goes back so


def test_device_rule_is_the_one_throughput_uses(noise_folders):
    """A misspelt device is bad usage (2); one not usable here makes accuracy unavailable (3)."""
    from zoo.measure.device import DeviceUnavailable

    with pytest.raises(InputError, match="--eval-device must be"):
        fast_eval_options("x", device="tpu")
    entry = [accuracy_entry(card(**SCORED), TinyNet(5))]
    fp16 = measure_accuracy(entry, fast_eval_options(noise_folders, amp="fp16"), None)
    assert fp16.measurements["tiny"][0].status == "ok"  # CPU autocast has fp16, as throughput allows
    assert fp16.measurements["tiny"][0].conditions["dtype"] == "fp16 autocast"
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailable, match="CUDA is not available"):
            fast_eval_options("x", device="cuda").resolved_device()
        outcome = measure_accuracy(entry, fast_eval_options(noise_folders, device="cuda"), None)
        top1 = outcome.measurements["tiny"][0]
        assert top1.status == "unavailable" and "CUDA is not available" in (top1.reason or "")


def test_transform_of_a_real_card_is_timms_and_reads_as_documented():
    import timm

    model = timm.create_model("mobilenetv2_050", pretrained=False)
    transform = transform_of(card("mobilenetv2_050", **SCORED | dict(image_size=224, crop_pct=0.875)), model)
    assert transform.description == (
        "resize 256 bicubic, center crop 224, normalize mean=(0.485, 0.456, 0.406) std=(0.229, 0.224, 0.225)"
    )
    assert transform.origin.startswith("card: input_size, crop_pct, interpolation")


def test_a_card_transform_timm_cannot_build_is_that_models_error(noise_folders):
    sideways = card(**SCORED | dict(interpolation="sideways"))
    outcome = measure_accuracy([accuracy_entry(sideways, TinyNet(5))], fast_eval_options(noise_folders), None)
    measurement = outcome.measurements["tiny"][0]
    assert measurement.status == "error"
    where = str(sideways.claim("interpolation").source)  # metadata/tiny.yml:<the Interpolation line>
    assert where in measurement.reason and "Interpolation" in measurement.reason


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_amp_and_channels_last_match_fp32_top1(noise_folders, tmp_path):
    model = TinyNet(5, seed=6)
    fp32 = measure_accuracy([accuracy_entry(card(**SCORED), model)], fast_eval_options(noise_folders, device="cuda"), tmp_path / "a")
    fp16 = measure_accuracy(
        [accuracy_entry(card(**SCORED), model)],
        fast_eval_options(noise_folders, device="cuda", amp="fp16", channels_last=True),
        tmp_path / "b",
    )
    assert fp16.measurements["tiny"][0].conditions["device"].startswith("cuda:0")
    a = read_predictions(tmp_path / "a" / "predictions.parquet")["tiny"]
    b = read_predictions(tmp_path / "b" / "predictions.parquet")["tiny"]
    assert (a.topk[:, 0] == b.topk[:, 0]).mean() >= 0.9
    assert fp32.measurements["tiny"][0].conditions["dtype"] == "float32"
    assert next(model.parameters()).device.type == "cpu"
