"""Your own checkpoint on your own data: --weights with a file that is not the card's, a class
map (timm's --class-map form) for folders named by class names, data that is not ImageNet val
judged against an ImageNet claim, --population all, and a baseline of such a run."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from click.testing import CliRunner
from PIL import Image

from index_worlds import write
from zoo.cli.main import cli
from zoo.measure.accuracy.data import imagenet_wnids
from zoo.runs.store import list_runs, load_run

NAMES = ["tench", "goldfish", "great_white_shark"] + [f"class_{i}" for i in range(3, 1000)]


def state_bytes(seed: int) -> bytes:
    torch.manual_seed(seed)
    buffer = io.BytesIO()
    torch.save(timm.create_model("test_efficientnet").state_dict(), buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    card_file = state_bytes(0)
    own = root / "own.pth"
    own.write_bytes(state_bytes(1))
    rng = np.random.default_rng(0)
    photos = root / "photos"  # your own images, in folders named by class name
    numbered = root / "val-sample"  # ImageNet val file names: a sample of the set the claim is about
    for k in range(12):
        pixels = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
        for folder, name in ((photos / NAMES[k % 3], f"photo_{k:03d}.jpg"),
                             (numbered / imagenet_wnids()[k % 3], f"ILSVRC2012_val_{k + 1:08d}.JPEG")):
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(folder / name)
    (root / "classes.txt").write_text("\n".join(NAMES) + "\n")
    card_name = f"test_efficientnet-{hashlib.sha256(card_file).hexdigest()[:8]}.pth"
    index = write(root / "index.yml", f"""\
    Models:
    - Name: test_efficientnet
      Metadata:
        File Size: {len(card_file)}
      Weights: http://127.0.0.1:9/{card_name}
      Results:
      - Task: Image Classification
        Dataset: ImageNet
        Metrics:
          Top 1 Accuracy: 72.95%
    """)
    return root, index, own


def verify(root: Path, index: Path, own: Path, *args: str):
    results = root / "runs"
    before = set(list_runs(results)) if results.exists() else set()
    result = CliRunner().invoke(
        cli,
        ["verify", "--all", "--index", str(index), "--only", "weights,accuracy", "--offline",
         "--cache-dir", str(root / "cache"), "--weights", f"test_efficientnet={own}", "--workers", "0",
         "--results", str(results), *args],
        env={"COLUMNS": "200", "ZOO_PROGRESS": "0"},
    )
    [path] = set(list_runs(results)) - before
    return result, path, {v.metric: v for v in load_run(path).verdicts()}


def test_own_checkpoint_on_own_data_is_unverified_with_its_top1_then_judged_with_population_all(world):
    root, index, own = world
    result, path, verdicts = verify(root, index, own, "--data", str(root / "photos"), "--class-map", str(root / "classes.txt"))
    assert result.exit_code == 3, result.output
    for metric in ("weights", "file_size"):
        assert verdicts[metric].status == "unverified"
        assert verdicts[metric].explanation.startswith("not the card's file: the checkpoint measured is")
    top1 = verdicts["top1"]
    assert top1.status == "unverified" and top1.measurement is not None and top1.measurement.status == "ok"
    value, interval = top1.measurement.value, top1.measurement.uncertainty
    assert "the data is not ImageNet val" in top1.explanation and "photo_" in top1.explanation
    assert f"measured {value:.2f}% [{interval.low:.2f}, {interval.high:.2f}]" in top1.explanation
    assert top1.measurement.conditions["labels"].startswith("class folders named in the class map")
    assert "mirror" not in result.output

    judged, path, verdicts = verify(root, index, own, "--data", str(root / "photos"),
                                    "--class-map", str(root / "classes.txt"), "--population", "all")
    top1 = verdicts["top1"]
    assert top1.status == "drift" and judged.exit_code == 1, judged.output  # a random head is far from 72.95%
    assert "measured with" in top1.explanation and "not the card's file" in top1.explanation
    assert verdicts["weights"].status == "unverified"

    saved = CliRunner().invoke(cli, ["baseline", "save", str(path), "--dir", str(root / "baselines")])
    assert saved.exit_code == 0, saved.output
    shown = CliRunner().invoke(cli, ["baseline", "show", "--dir", str(root / "baselines")])
    assert hashlib.sha256(own.read_bytes()).hexdigest() in shown.output


def test_imagenet_val_file_names_are_judged_as_a_sample_of_the_claims_set(world):
    root, index, own = world
    result, _, verdicts = verify(root, index, own, "--data", str(root / "val-sample"))
    top1 = verdicts["top1"]
    assert "not ImageNet val" not in top1.explanation
    assert top1.status in ("drift", "unverified") and top1.explanation.startswith(("95% interval", "inconclusive"))
    assert top1.measurement.conditions["imagenet_val"] is True


@pytest.mark.parametrize(
    "classes, complaint",
    [
        ("tench\ngoldfish\n", "names no class for the folder(s) 'great_white_shark'"),
        ("tench\n\ngoldfish\ngreat_white_shark\n", "classes.txt:2: a blank line"),
        ("tench\ngoldfish\ntench\ngreat_white_shark\n", "classes.txt:3: class name 'tench' is written twice (also line 1)"),
    ],
)
def test_a_class_map_that_does_not_fit_the_folders_is_bad_input(world, tmp_path, classes, complaint):
    root, index, own = world
    (tmp_path / "classes.txt").write_text(classes)
    result = CliRunner().invoke(
        cli, ["verify", "--all", "--index", str(index), "--only", "weights,accuracy", "--offline", "--no-record",
              "--cache-dir", str(root / "cache"), "--weights", f"test_efficientnet={own}", "--workers", "0",
              "--data", str(root / "photos"), "--class-map", str(tmp_path / "classes.txt")],
    )
    assert result.exit_code == 2, result.output
    assert complaint in " ".join(result.output.split())


def test_zoo_fetch_refuses_another_file_without_blaming_a_mirror(world):
    root, index, own = world
    result = CliRunner().invoke(
        cli, ["fetch", "--all", "--index", str(index), "--offline", "--cache-dir", str(root / "cache"),
              "--weights", f"test_efficientnet={own}"], env={"COLUMNS": "200"},
    )
    assert result.exit_code == 3
    text = " ".join(result.output.split())
    assert "mirror" not in text.replace("--mirror", "") and "is another checkpoint than the card's" in text
    assert "zoo verify test_efficientnet --weights" in text
