"""``zoo fix`` on crafted cards: only each value changes, every other byte is kept, the diff
applies with git, a collection's value is edited only when every model agrees, and the
corrected cards pass the same judge."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from fix_world import CARD, RUN_ID, TODAY, accuracy, config, flops, make_run, params, weights, write_world, fix, world  # noqa: F401 (world is a fixture)

from zoo.cli.main import cli
from zoo.judge.gate import GateSettings, gate_records
from zoo.runs.store import load_run

FULL = ("config", "params", "flops", "weights", "accuracy")
EXPECTED = [  # (as written, as corrected) for the measurements of `_drifted`
    ("FLOPs: 401920448  # the author's counter", "FLOPs: 500000000  # the author's counter"),  # 1.25 x 400,000,000
    ("Parameters: 3500000", "Parameters: 3400000"),  # to the 100,000, as written
    ("File Size: 14202571", "File Size: 14202999"),  # exact bytes
    ("Top 1 Accuracy: 72.95%", "Top 1 Accuracy: 72.41%"),  # two decimals
    ('Top 5 Accuracy: "91.0%"', 'Top 5 Accuracy: "90.7%"'),  # one decimal, double quotes kept
]




def _drifted(root: Path) -> Path:
    """A run where test_efficientnet's FLOPs, Parameters, File Size and accuracy drift (its config passes)."""
    return make_run(root, {
        "test_efficientnet": [
            *config(224, 0.875, "bilinear"), params(3_438_984), flops(400_000_000),
            *weights("test_efficientnet", size=14_202_999), accuracy("top1", 72.41), accuracy("top5", 90.66),
        ],
        "test_resnet": [*config(224, 0.9), params(4_516_508)],
    }, kinds=FULL)


def _expected(text: str) -> str:
    for old, new in EXPECTED:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_write_changes_each_value_and_keeps_every_other_byte(world: Path, crlf: bool) -> None:
    card = write_world(world, crlf=crlf)
    run = _drifted(world)
    result = fix(str(run), "--write")
    assert result.exit_code == 0, result.stderr
    expected = _expected(CARD)
    assert card.read_bytes() == (expected.replace("\n", "\r\n") if crlf else expected).encode("utf-8")
    assert "wrote 5 change(s) in 1 file(s)" in result.stderr
    assert result.stdout == ""  # --write prints no diff


def test_every_changed_claim_passes_the_same_judge_after_the_write(world: Path) -> None:
    write_world(world)
    run = _drifted(world)
    before = {v.metric: v.status for v in load_run(run).verdicts() if v.model == "test_efficientnet"}
    assert {m for m, s in before.items() if s == "drift"} == {"flops", "parameters", "file_size", "top1", "top5"}
    assert fix(str(run), "--write").exit_code == 0
    [again] = gate_records([load_run(run)], GateSettings(today=TODAY))  # the stored measurements, the cards as they are now
    after = {v.metric: v.status for v in again.run.verdicts() if v.model == "test_efficientnet"}
    assert again.changed == ["cards/tiny.mdx"]
    assert {m: after[m] for m in ("flops", "parameters", "file_size", "top1", "top5")} == dict.fromkeys(
        ("flops", "parameters", "file_size", "top1", "top5"), "pass")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_the_diff_applies_with_git_apply_to_the_same_bytes_as_write(world: Path, crlf: bool) -> None:
    card = write_world(world, crlf=crlf)
    run = _drifted(world)
    result = fix(str(run))  # --diff is the default
    assert result.exit_code == 0, result.stderr
    patch = world / "fix.patch"
    patch.write_bytes(result.stdout_bytes)
    lines = patch.read_bytes().split(b"\n")
    assert sum(1 for line in lines if line.startswith(b"-") and not line.startswith(b"---")) == 5
    assert sum(1 for line in lines if line.startswith(b"+") and not line.startswith(b"+++")) == 5
    git = ["git", "-c", "core.autocrlf=false"]
    subprocess.run([*git, "init", "-q"], cwd=world, check=True)
    subprocess.run([*git, "apply", "--check", str(patch)], cwd=world, check=True)
    subprocess.run([*git, "apply", str(patch)], cwd=world, check=True)
    expected = _expected(CARD)
    assert card.read_bytes() == (expected.replace("\n", "\r\n") if crlf else expected).encode("utf-8")


def test_a_card_without_a_final_newline_keeps_none(world: Path) -> None:
    text = CARD.replace("-->\n\nMore prose after the data.\n", "-->")
    card = write_world(world, text, name="tiny.md")
    run = _drifted(world)
    result = fix(str(run))
    assert "\\ No newline at end of file" not in result.stdout  # the changed lines are far from the end
    assert fix(str(run), "--write").exit_code == 0
    assert card.read_bytes() == _expected(text).encode("utf-8") and not card.read_bytes().endswith(b"\n")


def test_plain_yaml_cards_and_single_quotes(world: Path) -> None:
    text = (
        "Models:\n- Name: test_resnet\n  Metadata:\n    Parameters: '4,520,000'   # thousands (to the 10,000, as written)\n"
        "    FLOPs: 1.2G\n"
    )
    card = write_world(world, text, name="zoo.yml")
    run = make_run(world, {"test_resnet": [params(4_613_400), flops(1_600_000_000)]})
    assert fix(str(run), "--write").exit_code == 0
    assert card.read_text() == (
        "Models:\n- Name: test_resnet\n  Metadata:\n    Parameters: '4,610,000'   # thousands (to the 10,000, as written)\n"
        "    FLOPs: 2.0G\n"
    )


def test_markdown_description_has_one_row_per_change_with_its_evidence(world: Path) -> None:
    write_world(world)
    run = _drifted(world)
    result = fix(str(run), "--markdown", "pr.md")
    assert result.exit_code == 0, result.stderr
    text = (world / "pr.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `test_efficientnet`")]
    assert len(rows) == 5
    flops_row = next(r for r in rows if "FLOPs" in r)
    assert "`401920448` | `500000000`" in flops_row and "1.25x macs+norm+pool @image" in flops_row and RUN_ID in flops_row
    top1_row = next(r for r in rows if "Top 1 Accuracy" in r)
    for evidence in ("50,000 images of imagenet-1k val", "sha256 0123abcd", "transform Resize(256, bicubic) CenterCrop(224)"):
        assert evidence in top1_row
    assert "timm 1.0.9, torch 2.4.1" in text  # the environment
    assert "Not measured in the run(s), so not judged: Weights 1." in text  # test_resnet's Weights
    assert result.stdout.startswith("diff --git a/cards/tiny.mdx")  # the diff still goes to stdout


def test_markdown_to_stdout_replaces_the_diff(world: Path) -> None:
    write_world(world)
    run = _drifted(world)
    result = fix(str(run), "--markdown", "-")
    assert result.stdout.startswith("## Correct drifted claims")
    assert "diff --git" not in result.stdout
    assert fix(str(run), "--markdown", "-", "--diff").exit_code == 2


# ----------------------------------------------------------------------------- collections and config


def test_a_collection_value_is_edited_once_when_every_model_gets_the_same(world: Path) -> None:
    card = write_world(world)
    run = make_run(world, {
        "test_efficientnet": [*config(160, 0.875, "bilinear"), params(3_500_000), flops(321_536_358)],
        "test_resnet": [*config(160, 0.9), params(4_520_000)],
    })
    result = fix(str(run), "--write")
    text = card.read_text()
    assert "    Image Size: '160'   # every Tiny model is evaluated at 224\n" in text  # the collection's line, quotes and comment kept
    assert text.count("Image Size") == 1
    assert result.exit_code in (0, 3), result.stderr


def test_a_collection_value_is_left_alone_when_its_models_disagree(world: Path) -> None:
    card = write_world(world)
    before = card.read_bytes()
    run = make_run(world, {
        "test_efficientnet": [*config(160, 0.875, "bilinear"), params(3_500_000), flops(321_536_358)],
        "test_resnet": [*config(288, 0.9), params(4_520_000)],
    })
    result = fix(str(run), "--write")
    assert result.exit_code == 3, result.stderr
    assert card.read_bytes() == before
    assert "inherited from collection 'Tiny' (cards/tiny.mdx:10) by 2 model(s)" in result.stderr
    assert "they would get different values: test_efficientnet 160, test_resnet 288" in result.stderr


def test_a_collection_value_is_left_alone_when_one_of_its_models_was_not_run(world: Path) -> None:
    card = write_world(world)
    before = card.read_bytes()
    run = make_run(world, {"test_efficientnet": [*config(160, 0.875, "bilinear"), params(3_500_000), flops(321_536_358)]})
    result = fix(str(run), "--write")
    assert result.exit_code == 3 and card.read_bytes() == before
    assert "test_resnet is not in the run(s) given" in result.stderr


def test_a_new_image_size_gets_its_flops_counted_again_and_the_written_card_verifies(world: Path) -> None:
    """Image Size 224 -> 160 (timm's tag): the FLOPs claim, right at 224, would drift at 160; zoo counts
    the model again with the new card and proposes the FLOPs of that count, and a real verify of the
    written card finds no drift."""
    card = write_world(world, CARD.replace("    Crop Pct: '0.875'\n    Interpolation: bilinear\n", "    Crop Pct: '0.95'\n    Interpolation: bicubic\n")
                       .replace("    Crop Pct: 0.9\n", "    Crop Pct: 0.95\n"))
    at_224 = 1.25 * 400_000_000
    text = card.read_text().replace("FLOPs: 401920448", f"FLOPs: {at_224:.0f}")
    card.write_text(text)
    run = make_run(world, {
        "test_efficientnet": [*config(160, 0.95, "bicubic"), params(3_500_000), flops(400_000_000)],
        "test_resnet": [*config(160, 0.95, "bilinear"), params(4_520_000)],
    })
    result = fix(str(run), "--write", "--markdown", "pr.md")
    assert result.exit_code in (0, 3), result.stderr
    assert "counting 2 model(s) again with their new config" in result.stderr
    written = card.read_text()
    assert "Image Size: '160'" in written and f"FLOPs: {at_224:.0f}" not in written
    second = [line for line in (world / "pr.md").read_text().splitlines() if "FLOPs" in line and line.startswith("| `test_efficientnet`")]
    assert second and RUN_ID not in second[0] and "1x3x160x160" in second[0]  # evidence from the recount, at 160
    verify = CliRunner().invoke(
        cli, ["verify", "--all", "--index", "cards/", "--only", "config,params,flops", "--no-record", "-v", "--format", "json"],
        catch_exceptions=False,
    )
    import json

    rows = json.loads(verify.stdout)["results"]
    changed = {"test_efficientnet": ("image_size", "flops", "parameters"), "test_resnet": ("image_size", "parameters")}
    for row in rows:
        for metric in changed[row["model"]]:
            assert row[f"{metric}_verdict"] == "pass", (row["model"], metric, row)


def test_a_collection_value_is_left_alone_when_one_of_its_models_is_not_chosen(world: Path) -> None:
    card = write_world(world)
    before = card.read_bytes()
    run = make_run(world, {
        "test_efficientnet": [*config(160, 0.875, "bilinear"), params(3_500_000), flops(321_536_358)],
        "test_resnet": [*config(160, 0.9), params(4_520_000)],
    })
    result = fix(str(run), "test_efficientnet", "--write")
    assert result.exit_code == 3 and card.read_bytes() == before
    assert "test_resnet was not chosen (name it too, or pass --all)" in result.stderr
