"""The dataset checks made before scoring, and the deterministic stratified subset."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_world import write_grey_class_folders, write_noise_folders

from zoo.measure.accuracy.data import check_dataset, class_count_problem, open_dataset, stratified_subset
from zoo.measure.accuracy.data.subset import class_quotas


def imagenet_like(per_class: dict[int, int]) -> tuple[tuple[str, ...], np.ndarray]:
    names, labels = [], []
    for c, n in per_class.items():
        for i in range(n):
            names.append(f"img_{c:04d}_{i:03d}.JPEG")
            labels.append(c)
    return tuple(names), np.asarray(labels)


def test_class_quotas_are_proportional_and_sum_to_the_limit():
    quotas = class_quotas({0: 50, 1: 30, 2: 20}, 10)
    assert quotas == {0: 5, 1: 3, 2: 2}
    uneven = class_quotas({0: 7, 1: 7, 2: 7}, 10)
    assert sum(uneven.values()) == 10 and uneven == {0: 4, 1: 3, 2: 3}  # tie goes to the lower class
    assert class_quotas({0: 3, 1: 2}, 99) == {0: 3, 1: 2}


def test_stratified_subset_of_imagenet_shape_takes_equal_shares():
    names, labels = imagenet_like({c: 50 for c in range(1000)})
    chosen = stratified_subset(names, labels, 5000)
    assert len(chosen) == 5000 and len(set(chosen.tolist())) == 5000
    assert np.all(np.diff(chosen) > 0)  # in dataset order
    assert np.all(np.bincount(labels[chosen], minlength=1000) == 5)


def test_stratified_subset_is_deterministic_and_independent_of_listing_order():
    names, labels = imagenet_like({0: 40, 1: 25, 2: 10, 3: 5})
    first = stratified_subset(names, labels, 16)
    assert np.array_equal(first, stratified_subset(names, labels, 16))
    order = np.random.default_rng(3).permutation(len(names))
    shuffled_names = tuple(names[i] for i in order)
    again = stratified_subset(shuffled_names, labels[order], 16)
    assert sorted(shuffled_names[i] for i in again) == sorted(names[i] for i in first)
    assert np.bincount(labels[first]).tolist() == [8, 5, 2, 1]
    other_seed = stratified_subset(names, labels, 16, seed=1)
    assert set(other_seed.tolist()) != set(first.tolist())
    assert np.bincount(labels[other_seed]).tolist() == [8, 5, 2, 1]


def test_limit_at_or_above_the_size_takes_everything():
    names, labels = imagenet_like({0: 3, 1: 4})
    assert stratified_subset(names, labels, 7).tolist() == list(range(7))
    assert stratified_subset(names, labels, 100).tolist() == list(range(7))


def test_check_reports_count_fingerprint_and_the_imagenet_shortfall(tmp_path):
    dataset = open_dataset(str(write_grey_class_folders(tmp_path / "val")))
    report = check_dataset(dataset)
    assert report.images == 40 and report.classes == 1000
    assert report.expected_images == 50_000 and not report.is_complete_imagenet_val
    assert report.fingerprint.startswith("40:") and len(report.fingerprint) == 3 + 16
    assert report.notes() == ["dataset has 40 images; the ImageNet validation set has 50,000"]
    assert "40 images, 1000 classes" in report.summary()


def test_check_lists_absent_and_empty_files(tmp_path):
    root = write_noise_folders(tmp_path / "val", classes=2, per_class=2)
    (root / "class_01" / "empty.jpg").write_bytes(b"")
    dataset = open_dataset(str(root))
    (root / "class_00" / "img_0_1.png").unlink()
    report = check_dataset(dataset)
    assert report.unreadable == ("img_0_1.png", "empty.jpg")
    assert report.expected_images is None
    assert report.notes() == ["2 unreadable image(s), not counted: img_0_1.png, empty.jpg"]


@pytest.mark.parametrize(("model_classes", "problem"), [(1000, False), (None, False), (10, True)])
def test_class_count_against_the_model_head(tmp_path, model_classes, problem):
    report = check_dataset(open_dataset(str(write_grey_class_folders(tmp_path / "val"))))
    message = class_count_problem(report, model_classes)
    assert (message is not None) == problem
    if problem:
        assert "head has 10 classes" in message and "has 1000" in message and "--data" in message


def test_imagenet_val_is_recognised_by_file_names_and_hub_dataset_names() -> None:
    import numpy as np

    from zoo.measure.accuracy.data.base import EvalDataset
    from zoo.measure.accuracy.data.hub import HubImages
    from zoo.measure.accuracy.data.imagenet_val import imagenet_val_evidence

    def files(*names: str, classes: int = 1000) -> EvalDataset:
        return EvalDataset("val", "flat", tuple(names), np.zeros(len(names), dtype=np.int64), classes, ())

    assert imagenet_val_evidence(files("ILSVRC2012_val_00000001.JPEG", "n01440764/ILSVRC2012_val_00050000.png")).is_val
    assert imagenet_val_evidence(files("ILSVRC2012_val_00000007_n01751748.JPEG")).is_val
    for names in (("ILSVRC2012_val_00000001.JPEG", "photo.jpg"), ("ILSVRC2012_val_00050001.JPEG",),
                  ("ILSVRC2012_val_00000001.JPEG", "a/ILSVRC2012_val_00000001.JPEG")):
        assert not imagenet_val_evidence(files(*names)).is_val, names
    assert "10 classes" in imagenet_val_evidence(files("ILSVRC2012_val_00000001.JPEG", classes=10)).why

    def hub(source: str, split: str) -> HubImages:
        return HubImages(source, "hub", ("validation/00000000",), np.zeros(1, dtype=np.int64), 1000, (), split=split)

    assert imagenet_val_evidence(hub("hf:ILSVRC/imagenet-1k", "validation")).is_val
    assert not imagenet_val_evidence(hub("hf:ILSVRC/imagenet-1k", "train")).is_val
    assert not imagenet_val_evidence(hub("hf:someone/photos", "validation")).is_val


def test_a_record_without_the_data_conditions_is_judged_as_before() -> None:
    from conftest import card

    from zoo.judge.scope import not_claim_data
    from zoo.records import Measurement, Uncertainty

    claim = card("m", top1="72.95%").claim("top1")
    old = Measurement("top1", "ok", 72.9, "%", uncertainty=Uncertainty("wilson-95", 72.5, 73.3, 0.95))
    assert not_claim_data(claim, old) is None
    own = Measurement("top1", "ok", 72.9, "%", conditions={"imagenet_val": False, "imagenet_val_evidence": "photos",
                                                           "population_given": None, "images": 50, "dataset": "mine"},
                      uncertainty=Uncertainty("wilson-95", 60.0, 82.5, 0.95))
    assert "measured 72.90% [60.00, 82.50] (wilson-95) on 50 images of mine" in not_claim_data(claim, own)
    declared = Measurement("top1", "ok", 72.9, "%", conditions={**own.conditions, "population_given": "all"})
    assert not_claim_data(claim, declared) is None
