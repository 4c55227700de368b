"""Baseline files: the format round-trips, crafted or damaged files are refused with the file
named, names cannot leave the folder, and pairing counts gained, lost and changed images."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zoo.errors import InputError
from zoo.measure.accuracy.paired import pair_predictions
from zoo.runs.baselines import (
    METADATA_KEY, Baseline, BaselineInfo, baseline_path, find_baseline, list_baselines, load_baseline, mismatch, save_baseline,
)
from zoo.records import Measurement
from zoo.runs.predictions import ImagePredictions

INFO = BaselineInfo(
    model="m", run_id="r1", created="2026-12-01T00:00:00+00:00", checkpoint_sha256="a" * 64,
    transform="Resize(73) bicubic, CenterCrop(64)", dataset_fingerprint="f00d", dataset="val", dataset_images=6,
    population=6, images=6, top1=50.0, top5=100.0, environment={"torch": "2.x"},
)
NAMES = tuple(f"img{i}.png" for i in range(6))
LABELS = np.array([1, 2, 3, 4, 5, 6])


def _predictions(top1: list[int]) -> ImagePredictions:
    topk = np.tile(np.arange(1, 6), (6, 1))
    topk[:, 0] = top1
    topk[:, 1:] = LABELS[:, None]  # every label is in the top-5
    return ImagePredictions("m", NAMES, LABELS.copy(), topk)


def _baseline(tmp_path: Path, top1=(1, 2, 3, 0, 0, 0), **info) -> Baseline:
    path = save_baseline(tmp_path, Baseline(replace(INFO, **info), _predictions(list(top1)), Path("m.parquet")))
    return load_baseline(path)


def test_a_baseline_round_trips_with_its_description(tmp_path):
    baseline = _baseline(tmp_path)
    assert baseline.info == INFO
    assert baseline.predictions.names == NAMES
    assert baseline.predictions.topk[:, 0].tolist() == [1, 2, 3, 0, 0, 0]
    assert [b.info.model for b in list_baselines(tmp_path)] == ["m"]
    schema = pq.read_schema(tmp_path / "m.parquet")
    assert schema.field("pred1").type == pa.int16() and METADATA_KEY in schema.metadata


def test_pairing_counts_gained_lost_and_changed_images(tmp_path):
    baseline = _baseline(tmp_path)  # right on img0..img2
    new = _predictions([1, 2, 9, 4, 8, 0])  # img2 lost, img3 gained, img4 wrong -> other wrong
    top1, top5 = pair_predictions(new, baseline)
    assert (top1.images, top1.gained, top1.lost, top1.changed_count) == (6, 1, 1, 3)
    assert [(c.name, c.label, c.baseline_top1, c.new_top1) for c in top1.changed] == [
        ("img2.png", 3, 3, 9), ("img3.png", 4, 0, 4), ("img4.png", 5, 0, 8),
    ]
    assert top1.value == top1.low == top1.high == pytest.approx(50.0)  # the whole population was paired
    assert (top5.gained, top5.lost, top5.changed) == (0, 0, [])
    assert top5.low == top5.high == pytest.approx(100.0)  # the whole population was paired


def test_unreadable_images_are_left_out_of_the_pairs(tmp_path):
    baseline = _baseline(tmp_path)
    new = _predictions([1, 2, 3, 0, 0, 0])
    new.topk[0, :] = -1
    top1, _ = pair_predictions(new, baseline)
    assert top1.images == 5 and top1.changed_count == 0


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"model": "other"}, "not of 'm'"),
        ({"checkpoint_sha256": "b" * 64}, "checkpoint differs"),
        ({"transform": "Resize(80)"}, "transform differs"),
        ({"dataset_fingerprint": "beef"}, "dataset differs"),
        ({"images": 5}, "scored 5 of its population of 6"),
    ],
)
def test_a_baseline_of_another_pipeline_says_what_differs(change, reason):
    info = replace(INFO, **change)
    why = mismatch(info, model="m", checkpoint="a" * 64, transform=INFO.transform, fingerprint="f00d")
    assert why is not None and reason in why
    assert mismatch(INFO, model="m", checkpoint="a" * 64, transform=INFO.transform, fingerprint="f00d") is None
    assert "did not verify" in mismatch(INFO, model="m", checkpoint=None, transform=INFO.transform, fingerprint="f00d")


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x" * 300, "a\nb"])
def test_a_model_name_cannot_name_a_file_outside_the_folder(tmp_path, name):
    with pytest.raises(InputError):
        baseline_path(tmp_path, name)
    with pytest.raises(InputError):
        save_baseline(tmp_path / "b", Baseline(replace(INFO, model=name), _predictions([0] * 6), Path("x")))
    assert not (tmp_path / "b").exists() and find_baseline(tmp_path, name) is None


def test_a_file_that_is_not_parquet_is_refused_with_its_name(tmp_path):
    (tmp_path / "m.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="m.parquet: not a readable baseline file"):
        load_baseline(tmp_path / "m.parquet")


def _craft(tmp_path: Path, metadata: dict | None) -> Path:
    table = pa.table({"image": list(NAMES), "label": LABELS.astype(np.int16),
                      **{f"pred{i}": LABELS.astype(np.int16) for i in range(1, 6)}})
    if metadata is not None:
        table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    path = tmp_path / "m.parquet"
    pq.write_table(table, path)
    return path


def test_crafted_metadata_is_refused_naming_the_field(tmp_path):
    bad = {**asdict(INFO), "population": "lots"}
    with pytest.raises(InputError, match="baseline field population"):
        load_baseline(_craft(tmp_path, bad))
    with pytest.raises(InputError, match="not a zoo baseline"):
        load_baseline(_craft(tmp_path, None))
    with pytest.raises(InputError, match="format version 99"):
        load_baseline(_craft(tmp_path, {**asdict(INFO), "format_version": 99}))
    with pytest.raises(InputError, match="not a zoo baseline"):
        load_baseline(_craft(tmp_path, ["a list"]))  # type: ignore[arg-type]


def test_class_ids_beyond_int16_are_kept(tmp_path):
    predictions = _predictions([40_000, 2, 3, 0, 0, 0])
    path = save_baseline(tmp_path, Baseline(replace(INFO, top1=100 * 2 / 6), predictions, Path("m.parquet")))
    assert load_baseline(path).predictions.topk[0, 0] == 40_000


def test_columns_that_are_not_class_ids_are_refused(tmp_path):
    table = pa.table({"image": list(NAMES), "label": ["cat"] * 6, **{f"pred{i}": LABELS for i in range(1, 6)}})
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(asdict(INFO)).encode()})
    pq.write_table(table, tmp_path / "m.parquet")
    with pytest.raises(InputError, match="not class ids"):
        load_baseline(tmp_path / "m.parquet")


@pytest.mark.parametrize(
    "change,field",
    [({"top1": 75.0}, "top-1"), ({"top5": 90.0}, "top-5"), ({"images": 5, "population": 5, "dataset_images": 5}, "images")],
)
def test_a_description_its_predictions_do_not_bear_out_is_refused(tmp_path, change, field):
    # The paired verdict adds the run's change to the baseline's full-set accuracy, so a
    # top-1 written in the metadata (an edited file, a hand-made one) must be the one its
    # per-image predictions give; otherwise a regressed model could be paired to a pass.
    save_baseline(tmp_path, Baseline(replace(INFO, **change), _predictions([1, 2, 3, 0, 0, 0]), Path("m.parquet")))
    with pytest.raises(InputError, match=f"m.parquet: .*{field}"):
        load_baseline(tmp_path / "m.parquet")


def _weights(status: str, value: str, **conditions) -> Measurement:
    return Measurement(metric="weights", status=status, value=value, unit="sha256", conditions=conditions)


def test_a_baseline_is_matched_on_the_checkpoint_the_model_was_scored_with():
    from types import SimpleNamespace

    from zoo.verify.pipeline import _checkpoint_sha256

    card_file, hub_file = "c" * 64, "h" * 64
    cases = [
        ([_weights("ok", card_file)], card_file),  # the card's own file, loaded
        # --weights-source hub with the card's file also in zoo's cache: the claims are judged on
        # the card's file, but the model holds the Hub file's weights.
        ([_weights("ok", card_file, hub_sha256=hub_file, hub_commit="0" * 40)], hub_file),
        ([_weights("unavailable", hub_file, hub_commit="0" * 40)], hub_file),  # the Hub file alone, verified and loaded
        ([_weights("unavailable", card_file)], None),  # nothing proved the card's file
        ([_weights("error", hub_file, hub_commit="0" * 40)], None),  # did not load
        ([], None),
    ]
    for measurements, expected in cases:
        assert _checkpoint_sha256(SimpleNamespace(measurements=measurements)) == expected, measurements


def test_a_full_run_with_unreadable_images_cannot_be_saved_as_a_baseline_it_could_never_be_used_as():
    # mismatch() refuses a baseline that scored fewer images than its population, so saving
    # one would only leave a file that every later run refuses; say so when saving instead.
    from zoo.records import Environment, ModelCard, ModelResult, RunRecord, SourceRef
    from zoo.runs.baselines import baselines_from_run

    predictions = _predictions([1, 2, 3, 0, 0, 0])
    predictions.topk[5, :] = -1  # img5 could not be read
    conditions = {"population": 6, "dataset_images": 6, "images": 5, "unreadable": 1, "transform": INFO.transform,
                  "dataset_fingerprint": "f00d", "dataset": "val"}
    measurements = [
        Measurement(metric="top1", status="ok", value=60.0, unit="%", conditions=conditions),
        Measurement(metric="top5", status="ok", value=100.0, unit="%", conditions=conditions),
        _weights("ok", "a" * 64),
    ]
    env = Environment(python="3.11", platform="linux", hostname="h", cpu="cpu", cpu_threads=2, torch="2")
    record = RunRecord(run_id="r1", started="s", finished="f", environment=env, index=[], measurements_requested=["accuracy"],
                       models=[ModelResult(card=ModelCard(name="m", source=SourceRef("c.yml", 1)), measurements=measurements)])
    with pytest.raises(InputError, match="1 of its images could not be read"):
        baselines_from_run(record, {"m": predictions})
