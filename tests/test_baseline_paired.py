"""Paired verdicts on a generated world: a probe checkpoint (timm's test_efficientnet, random
init, served from a mirror folder) and 300 generated images labelled so that the checkpoint's
top-1 is right on 3 of 4. A baseline from the full set; subset runs judged paired with it."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from click.testing import CliRunner
from PIL import Image

from index_worlds import write
from zoo.cli.main import cli
from zoo.records import RunRecord
from zoo.runs.baselines import load_baseline, save_baseline
from zoo.runs.predictions import ImagePredictions, read_predictions
from zoo.runs.store import list_runs, load_run

IMAGES = 300
LIMIT = 100
MODEL = "test_efficientnet"


def _verify(world, *args: str, index: Path | None = None, expect: int | None = None) -> RunRecord:
    root = world["root"]
    results = root / f"runs-{len(list(root.glob('runs-*')))}"
    result = CliRunner().invoke(
        cli,
        ["verify", "--all", "--index", str(index or world["index"]), "--only", "weights,accuracy", "--offline",
         "--mirror", str(world["mirror"]), "--cache-dir", str(root / "cache"), "--data", str(world["val"]),
         "--data-labels", str(world["labels"]), "--workers", "0", "--results", str(results),
         "--tolerances", str(world["tolerances"]), *args],
    )
    if expect is not None:
        assert result.exit_code == expect, result.output
    [path] = list_runs(results)
    return load_run(path)


def _run_folder(record: RunRecord, world) -> Path:
    [path] = [p for p in world["root"].glob(f"runs-*/{record.run_id}/run.json")]
    return path.parent


def _index(root: Path, name: str, data_len: int, file_name: str, top1: str) -> Path:
    return write(root / f"{name}.yml", f"""\
    Models:
    - Name: {MODEL}
      Metadata:
        File Size: {data_len}
        Image Size: '64'
        Crop Pct: '0.875'
        Interpolation: bicubic
      Weights: http://127.0.0.1:9/{file_name}
      Results:
      - Task: Image Classification
        Dataset: ImageNet
        Metrics:
          Top 1 Accuracy: {top1}
    """)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("paired")
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(timm.create_model(MODEL).state_dict(), buffer)
    data = buffer.getvalue()
    file_name = f"{MODEL}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    mirror = root / "mirror"
    mirror.mkdir()
    (mirror / file_name).write_bytes(data)
    val = root / "val"
    val.mkdir()
    rng = np.random.default_rng(0)
    for i in range(IMAGES):
        pixels = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(val / f"ILSVRC2012_val_{i + 1:08d}.png")
    labels = root / "labels.txt"
    labels.write_text("".join(f"ILSVRC2012_val_{i + 1:08d} 0\n" for i in range(IMAGES)))
    tolerances = write(root / "tolerances.yml", """\
    tolerances:
      top1: {absolute: 3.0}
    gate: [top1]
    """)
    world = {"root": root, "mirror": mirror, "val": val, "labels": labels, "tolerances": tolerances}
    world["index"] = _index(root, "probe", len(data), file_name, "75.00%")
    # Probe: what the checkpoint predicts; then label 3 of 4 images with its top-1.
    probe = _verify(world)
    [predictions] = read_predictions(_run_folder(probe, world) / "predictions.parquet").values()
    lines = []
    for row, name in enumerate(predictions.names):
        top = predictions.topk[row]
        label = int(top[0]) if row % 4 else next(c for c in range(1000) if c not in top)
        lines.append(f"{name} {label}\n")
    labels.write_text("".join(lines))
    world["met"] = world["index"]
    world["unmet"] = _index(root, "unmet", len(data), file_name, "85.00%")
    # The baseline: the whole set, which is the whole population.
    full = _verify(world, "--population", "all", "--baselines", "none", expect=0)
    world["full"] = full
    saved = CliRunner().invoke(cli, ["baseline", "save", str(_run_folder(full, world)), "--dir", str(root / "baselines")])
    assert saved.exit_code == 0, saved.output
    world["baselines"] = root / "baselines"
    return world


def _subset(world) -> RunRecord:
    """The --limit run paired with the world's baseline (seed 0), made once."""
    if "subset" not in world:
        world["subset"] = _verify(world, "--limit", str(LIMIT), "--baselines", str(world["baselines"]), expect=0)
    return world["subset"]


def _top1(record: RunRecord):
    [verdict] = [v for v in record.verdicts() if v.metric == "top1"]
    return verdict


def _copy_baseline(world, name: str, **info_changes) -> tuple[Path, object]:
    folder = world["root"] / name
    baseline = load_baseline(world["baselines"] / f"{MODEL}.parquet")
    baseline = replace(baseline, info=replace(baseline.info, **info_changes))
    save_baseline(folder, baseline)
    return folder, baseline


def test_the_baseline_keeps_the_full_evaluation(world):
    baseline = load_baseline(world["baselines"] / f"{MODEL}.parquet")
    assert baseline.info.images == baseline.info.population == IMAGES
    assert baseline.info.top1 == pytest.approx(75.0)
    assert len(baseline.predictions.names) == IMAGES
    assert baseline.info.checkpoint_sha256 == next(
        m.value for m in world["full"].models[0].measurements if m.metric == "weights"
    )
    shown = CliRunner().invoke(cli, ["baseline", "show", "--dir", str(world["baselines"])])
    assert shown.exit_code == 0 and f"{MODEL}: 300 of 300 images, top-1 75.000%" in shown.output


def test_a_subset_run_passes_paired_where_the_unpaired_test_is_inconclusive(world):
    record = _subset(world)
    verdict = _top1(record)
    paired = verdict.measurement.paired
    assert paired is not None and paired.used
    assert (paired.images, paired.changed_count, paired.gained, paired.lost) == (LIMIT, 0, 0, 0)
    assert verdict.status == "pass", verdict.explanation
    assert f"paired with baseline {MODEL}.parquet (300 images, 75.00%): 100 images, 0 changed" in verdict.explanation
    # The unpaired interval over the same 100 images is far wider than +/- 3 pp.
    unpaired = verdict.measurement.uncertainty
    assert unpaired.low < 72.0 and unpaired.high > 78.0
    # The gate re-judges the stored paired estimate: still a pass, and drift against a claim it misses.
    run = str(_run_folder(record, world))
    gate = ["gate", run, "--tolerances", str(world["tolerances"]), "--index"]
    assert CliRunner().invoke(cli, gate + [str(world["met"])]).exit_code == 0
    assert CliRunner().invoke(cli, gate + [str(world["unmet"])]).exit_code == 1
    alone = _verify(world, "--limit", str(LIMIT), "--baselines", "none", expect=3)
    assert _top1(alone).status == "unverified" and "inconclusive" in _top1(alone).explanation


def test_the_subset_is_drawn_among_the_baseline_images_and_seeds_rotate_it(world):
    a = _subset(world)
    b = _verify(world, "--limit", str(LIMIT), "--baselines", str(world["baselines"]), "--subset-seed", "7")
    names_a = read_predictions(_run_folder(a, world) / "predictions.parquet")[MODEL].names
    names_b = read_predictions(_run_folder(b, world) / "predictions.parquet")[MODEL].names
    assert len(names_a) == len(names_b) == LIMIT and set(names_a) != set(names_b)
    assert _top1(a).measurement.paired.images == _top1(b).measurement.paired.images == LIMIT


def test_changed_predictions_are_judged_on_the_changed_images_and_listed(world):
    # Another machine's baseline: it got 6 images of the subset right that this run gets wrong.
    first = _subset(world)
    subset = read_predictions(_run_folder(first, world) / "predictions.parquet")[MODEL]
    wrong = [row for row in range(len(subset.names)) if subset.topk[row, 0] != subset.labels[row]][:6]
    altered_names = {subset.names[row] for row in wrong}
    baseline = load_baseline(world["baselines"] / f"{MODEL}.parquet")
    topk = baseline.predictions.topk.copy()
    for row, name in enumerate(baseline.predictions.names):
        if name in altered_names:
            topk[row, 0] = baseline.predictions.labels[row]
    predictions = ImagePredictions(MODEL, baseline.predictions.names, baseline.predictions.labels, topk)
    top1 = 100.0 * float(predictions.correct_top1().mean())
    top5 = 100.0 * float(predictions.correct_topk().mean())
    folder = world["root"] / "altered"
    save_baseline(folder, replace(baseline, info=replace(baseline.info, top1=top1, top5=top5), predictions=predictions))

    record = _verify(world, "--limit", str(LIMIT), "--baselines", str(folder))
    verdict = _top1(record)
    paired = verdict.measurement.paired
    assert (paired.changed_count, paired.gained, paired.lost) == (6, 0, 6)
    assert {c.name for c in paired.changed} == altered_names
    assert all(c.baseline_top1 == c.label != c.new_top1 for c in paired.changed)
    assert paired.value == pytest.approx(top1 - 6.0)
    assert "6 changed (0 gained, 6 lost)" in verdict.explanation

    run = _run_folder(record, world)
    markdown = CliRunner().invoke(cli, ["report", str(run), "--markdown", "-"])
    assert markdown.exit_code == 0 and "Changed images" in markdown.output
    assert all(name in markdown.output for name in altered_names)
    html = world["root"] / "html-altered"
    assert CliRunner().invoke(cli, ["report", str(run), "--html", str(html)]).exit_code == 0
    assert all(name in (html / "index.html").read_text() for name in altered_names)
    diff = CliRunner().invoke(cli, ["diff", str(folder / f"{MODEL}.parquet"), str(run)])
    assert diff.exit_code == 0, diff.output
    assert "6 of 100 images changed top-1" in diff.output


def test_a_claim_the_baseline_did_not_meet_is_drift(world):
    record = _verify(world, "--limit", str(LIMIT), "--baselines", str(world["baselines"]), index=world["unmet"], expect=1)
    verdict = _top1(record)
    assert verdict.status == "drift" and verdict.measurement.paired.used, verdict.explanation


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"checkpoint_sha256": "0" * 64}, "checkpoint differs"),
        ({"transform": "Resize(999) bilinear"}, "transform differs"),
        ({"dataset_fingerprint": "feedface"}, "dataset differs"),
    ],
)
def test_a_baseline_of_another_pipeline_is_refused_and_the_unpaired_test_used(world, change, reason):
    folder, _ = _copy_baseline(world, f"other-{reason.split()[0]}", **change)
    record = _verify(world, "--limit", str(LIMIT), "--baselines", str(folder), expect=3)
    verdict = _top1(record)
    paired = verdict.measurement.paired
    assert paired is not None and not paired.used and reason in paired.reason
    assert verdict.status == "unverified" and "inconclusive" in verdict.explanation
    assert f"baseline {MODEL}.parquet not used: {reason}" in verdict.explanation


def test_a_subset_run_cannot_be_saved_as_a_baseline(world):
    record = _verify(world, "--limit", "20", "--baselines", "none")
    saved = CliRunner().invoke(cli, ["baseline", "save", str(_run_folder(record, world)), "--dir", str(world["root"] / "nope")])
    assert saved.exit_code == 2 and "whole population" in saved.output
    assert not (world["root"] / "nope").exists()


def test_a_damaged_baseline_file_is_refused_with_the_reason_and_the_run_goes_on(world):
    folder = world["root"] / "damaged"
    folder.mkdir()
    (folder / f"{MODEL}.parquet").write_bytes(b"PAR1" + b"\0" * 64)
    record = _verify(world, "--limit", str(LIMIT), "--baselines", str(folder), expect=3)
    paired = _top1(record).measurement.paired
    assert paired is not None and not paired.used and "not a readable baseline file" in paired.reason
