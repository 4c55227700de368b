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
