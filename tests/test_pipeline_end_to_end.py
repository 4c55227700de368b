"""The whole pipeline on a generated world: weights from a mirror -> loaded -> ImageNet-style
evaluation -> verdicts -> run record with predictions -> gate and report read it back."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import timm
import torch
from click.testing import CliRunner
from PIL import Image

from index_worlds import write
from zoo.cli.main import cli
from zoo.runs.store import list_runs, load_run

CLASSES = 1000  # timm's test_efficientnet has an ImageNet head


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(timm.create_model("test_efficientnet").state_dict(), buffer)
    data = buffer.getvalue()
    name = f"test_efficientnet-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    mirror = root / "mirror"
    mirror.mkdir()
    (mirror / name).write_bytes(data)
    val = root / "val"
    for index in range(CLASSES):
        folder = val / f"n{index:08d}"
        folder.mkdir(parents=True)
        if index < 20:  # a few classes hold an image each; the rest are empty but present
            Image.new("RGB", (40, 30), (index * 12 % 256, 90, 160)).save(folder / f"ILSVRC2012_val_{index + 1:08d}.JPEG")
    index_file = write(root / "index.yml", f"""\
    Models:
    - Name: test_efficientnet
      Metadata:
        File Size: {len(data)}
        Image Size: '160'
        Crop Pct: '0.95'
        Interpolation: bicubic
      Weights: http://127.0.0.1:9/{name}
      Results:
      - Task: Image Classification
        Dataset: ImageNet
        Metrics:
          Top 1 Accuracy: 72.95%
          Top 5 Accuracy: 91.0%
    """)
    return root, index_file, mirror, val


def test_weights_from_a_mirror_are_verified_loaded_and_evaluated(world):
    root, index_file, mirror, val = world
    results = root / "runs"
    result = CliRunner().invoke(
        cli,
        ["verify", "--all", "--index", str(index_file), "--only", "weights,accuracy", "--offline",
         "--mirror", str(mirror), "--cache-dir", str(root / "cache"), "--data", str(val),
         "--workers", "0", "--results", str(results)],
    )
    [path] = list_runs(results)
    record = load_run(path)
    verdicts = {v.metric: v for v in record.verdicts()}
    assert verdicts["file_size"].status == "pass" and verdicts["weights"].status == "pass"
    top1 = verdicts["top1"]
    assert top1.measurement is not None and top1.measurement.status == "ok", top1.explanation
    assert top1.measurement.conditions["images"] == 20
    assert top1.status == "drift"  # a random-init model is nowhere near 72.95%
    assert result.exit_code == 1, result.output
    assert (path.parent / record.artifacts["predictions"]).is_file()
    assert list((root / "cache").glob("test_efficientnet-*.pth"))

    gate = CliRunner().invoke(cli, ["gate", str(path), "--index", str(index_file)])
    assert gate.exit_code == 1
    report = CliRunner().invoke(cli, ["report", str(path), "--html", str(root / "html")])
    assert report.exit_code == 0 and (root / "html" / "index.html").is_file()


def test_accuracy_without_weights_is_unverified_with_the_reason(world):
    root, index_file, mirror, val = world
    result = CliRunner().invoke(
        cli,
        ["verify", "--all", "--index", str(index_file), "--only", "accuracy", "--offline",
         "--cache-dir", str(root / "empty-cache"), "--data", str(val), "--no-record"],
    )
    assert result.exit_code == 3
    assert "weights not loaded" in result.output
