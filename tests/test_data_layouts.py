"""Every dataset source gives the same images the same standard labels: class folders,
the flat layout with either ground-truth file, and datasets read through `datasets`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from accuracy_world import (
    GREY_IMAGES,
    devkit_order,
    grey_plan,
    grey_wnids,
    offline_hugging_face,
    write_devkit,
    write_grey_class_folders,
    write_grey_flat,
    write_loc_solution,
    write_noise_folders,
)
from torchvision.datasets import ImageFolder

from zoo.measure.accuracy.data import DataUnavailableError, open_dataset
from zoo.measure.accuracy.data.synsets import devkit_id_to_wnid, imagenet_class_index
from zoo.errors import InputError


@pytest.fixture(autouse=True)
def offline_hub(tmp_path, monkeypatch):
    """No test here may reach the network; dataset caches go to the test's folder."""
    offline_hugging_face(monkeypatch, tmp_path)


def expected_grey_labels() -> dict[str, int]:
    index, wnids = imagenet_class_index(), grey_wnids()
    return {item.name: index[wnids[item.folder_class]] for item in grey_plan()}


def labels_by_id(dataset) -> dict[str, int]:
    return {name.rsplit(".", 1)[0]: int(label) for name, label in zip(dataset.names, dataset.labels)}


def test_wnid_class_folders_keep_the_standard_index_with_only_some_classes(tmp_path):
    dataset = open_dataset(str(write_grey_class_folders(tmp_path / "val")))
    assert dataset.layout == "class-folder"
    assert dataset.num_classes == 1000
    assert labels_by_id(dataset) == expected_grey_labels()
    assert sorted(set(dataset.labels.tolist())) == list(range(0, 1000, 100))


def test_other_class_folders_follow_imagefolder_exactly(tmp_path):
    root = write_noise_folders(tmp_path / "val", classes=4, per_class=3)
    (root / "class_01" / "notes.txt").write_text("not an image")
    dataset = open_dataset(str(root))
    reference = ImageFolder(str(root))
    assert [Path(p).name for p, _ in reference.samples] == list(dataset.names)
    assert [label for _, label in reference.samples] == dataset.labels.tolist()
    assert dataset.num_classes == 4
    assert dataset.class_names == tuple(reference.classes)


def test_flat_folder_with_loc_solution_found_in_a_parent(tmp_path):
    images = write_grey_flat(tmp_path / "ILSVRC" / "Data" / "CLS-LOC" / "val")
    write_loc_solution(tmp_path / "LOC_val_solution.csv")
    dataset = open_dataset(str(images))
    assert dataset.layout == "flat"
    assert dataset.label_source.endswith("LOC_val_solution.csv")
    assert labels_by_id(dataset) == expected_grey_labels()
    assert len(dataset) == GREY_IMAGES


def test_flat_folder_with_devkit_ground_truth_maps_the_devkit_order(tmp_path):
    images = write_grey_flat(tmp_path / "val")
    write_devkit(tmp_path / "ILSVRC2012_devkit_t12" / "data")
    dataset = open_dataset(str(images))
    assert dataset.label_source.endswith("ILSVRC2012_validation_ground_truth.txt")
    assert labels_by_id(dataset) == expected_grey_labels()


def test_devkit_meta_mat_is_read_by_field_and_keeps_only_leaf_synsets(tmp_path):
    write_devkit(tmp_path)
    mapping = devkit_id_to_wnid(tmp_path / "meta.mat")
    assert len(mapping) == 1000
    assert [mapping[i + 1] for i in range(1000)] == devkit_order()


def test_devkit_ground_truth_without_meta_mat_says_how_to_fix_it(tmp_path):
    images = write_grey_flat(tmp_path / "val")
    write_devkit(tmp_path / "gt")
    (tmp_path / "gt" / "meta.mat").unlink()
    with pytest.raises(InputError) as error:
        open_dataset(str(images), labels=str(tmp_path / "gt" / "ILSVRC2012_validation_ground_truth.txt"))
    message = str(error.value)
    assert "meta.mat" in message and "ILSVRC2012_devkit_t12.tar.gz" in message


def test_flat_folder_without_labels_is_an_error_that_says_how_to_fix_it(tmp_path):
    images = write_grey_flat(tmp_path / "val")
    with pytest.raises(InputError) as error:
        open_dataset(str(images))
    message = str(error.value)
    assert str(images) in message and "40 images" in message
    for fix in ("LOC_val_solution.csv", "ILSVRC2012_validation_ground_truth.txt", "--data-labels", "class folders"):
        assert fix in message


def test_labels_file_that_misses_images_names_them(tmp_path):
    images = write_grey_flat(tmp_path / "val")
    labels = write_loc_solution(tmp_path / "labels.csv", grey_plan()[:-2])
    with pytest.raises(InputError, match=r"no label for 2 of the 40 images .*ILSVRC2012_val_00000039\.JPEG"):
        open_dataset(str(images), labels=str(labels))


def test_name_label_lines_with_wnids_or_indices(tmp_path):
    images = write_grey_flat(tmp_path / "val")
    expected = expected_grey_labels()
    wnids = {v: k for k, v in imagenet_class_index().items()}
    lines = ["image,label"] + [
        f"{name}.JPEG,{wnids[label] if i % 2 else label}" for i, (name, label) in enumerate(expected.items())
    ]
    (tmp_path / "val.txt").write_text("\n".join(lines) + "\n")
    dataset = open_dataset(str(images), labels=str(tmp_path / "val.txt"))
    assert labels_by_id(dataset) == expected


def test_labels_file_with_an_unknown_wnid_names_the_line(tmp_path):
    images = write_grey_flat(tmp_path / "val")
    path = write_loc_solution(tmp_path / "LOC_val_solution.csv")
    lines = path.read_text().splitlines()
    lines[3] = "ILSVRC2012_val_00000003,n99999999 1 2 3 4"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"LOC_val_solution\.csv:4: 'n99999999' is not one of the 1000"):
        open_dataset(str(images))


def _hf_grey_dataset(with_paths: bool):
    import datasets

    wnids = grey_wnids()
    plan = grey_plan()
    from accuracy_world import grey_image

    images = []
    for item in plan:
        image = grey_image(item.content_class)
        images.append({"bytes": _png(image), "path": f"{item.name}.JPEG" if with_paths else None})
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=wnids)})
    return datasets.Dataset.from_dict(
        {"image": images, "label": [item.folder_class for item in plan]}, features=features
    )


def _png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_hub_style_parquet_folder_loads_offline_with_names_and_standard_labels(tmp_path):
    repo = tmp_path / "imagenet-mini"
    (repo / "data").mkdir(parents=True)
    _hf_grey_dataset(with_paths=True).to_parquet(str(repo / "data" / "validation-00000-of-00001.parquet"))
    _hf_grey_dataset(with_paths=True).select(range(4)).to_parquet(str(repo / "data" / "train-00000-of-00001.parquet"))
    dataset = open_dataset(str(repo))
    assert dataset.layout == "parquet" and dataset.split == "validation"
    assert labels_by_id(dataset) == expected_grey_labels()  # ClassLabel wnids -> standard index
    assert dataset.num_classes == 1000
    image = dataset.load_image(0)
    assert image.mode == "RGB" and image.getpixel((0, 0))[0] == 15 + 25 * grey_plan()[0].content_class
    assert len(open_dataset(f"{repo}:train")) == 4


def test_saved_dataset_and_single_parquet_file_without_paths_use_row_names(tmp_path):
    data = _hf_grey_dataset(with_paths=False)
    data.save_to_disk(str(tmp_path / "saved"))
    data.to_parquet(str(tmp_path / "val.parquet"))
    arrow_file = next((tmp_path / "saved").glob("*.arrow"))
    for spec in (tmp_path / "saved", tmp_path / "val.parquet", arrow_file):
        dataset = open_dataset(str(spec))
        assert dataset.names[:2] == ("00000000", "00000001")
        assert dataset.labels.tolist() == list(expected_grey_labels().values())


def test_saved_dataset_dict_picks_validation_or_the_named_split(tmp_path):
    import datasets

    data = _hf_grey_dataset(with_paths=True)
    datasets.DatasetDict({"validation": data, "train": data.select(range(2))}).save_to_disk(str(tmp_path / "dict"))
    assert len(open_dataset(str(tmp_path / "dict"))) == GREY_IMAGES
    assert len(open_dataset(f"{tmp_path / 'dict'}:train")) == 2
    with pytest.raises(InputError, match="has no split 'test' \\(it has validation, train\\)"):
        open_dataset(f"{tmp_path / 'dict'}:test")


def test_unreachable_hub_dataset_is_unavailable_not_bad_input():
    with pytest.raises(DataUnavailableError) as error:
        open_dataset("hf:zoo-tests/does-not-exist")
    assert error.value.exit_code == 3
    assert "zoo-tests/does-not-exist" in str(error.value) and "HF_TOKEN" in str(error.value)


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ("{tmp}/nowhere", "no such file or folder"),
        ("{tmp}/empty", "holds no images, class folders or dataset files"),
        ("{tmp}/file.txt", "is a file"),
    ],
)
def test_unusable_data_specs_are_input_errors(tmp_path, spec, pattern):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match=pattern):
        open_dataset(spec.format(tmp=tmp_path))


def test_labels_file_with_a_layout_that_has_its_own_labels_is_refused(tmp_path):
    root = write_grey_class_folders(tmp_path / "val")
    with pytest.raises(InputError, match="applies to a flat image folder"):
        open_dataset(str(root), labels=str(write_loc_solution(tmp_path / "x.csv")))


def test_the_same_images_fingerprint_alike_in_every_layout(tmp_path):
    from zoo.measure.accuracy.data import fingerprint

    folders = open_dataset(str(write_grey_class_folders(tmp_path / "folders", ext="JPEG")))
    flat_root = write_grey_flat(tmp_path / "flat")
    write_loc_solution(tmp_path / "LOC_val_solution.csv")
    flat = open_dataset(str(flat_root))
    repo = tmp_path / "repo" / "data"
    repo.mkdir(parents=True)
    _hf_grey_dataset(with_paths=True).to_parquet(str(repo / "validation-00000-of-00001.parquet"))
    hub = open_dataset(str(tmp_path / "repo"))
    prints = {fingerprint(d.names, d.labels) for d in (folders, flat, hub)}
    assert len(prints) == 1 and prints.pop().startswith("40:")
    changed = flat.labels.copy()
    changed[5] += 1
    assert fingerprint(flat.names, changed) != fingerprint(flat.names, flat.labels)
    reversed_order = fingerprint(tuple(reversed(flat.names)), flat.labels[::-1])
    assert reversed_order == fingerprint(flat.names, flat.labels)
    assert np.array_equal(np.sort(folders.labels), np.sort(flat.labels))
