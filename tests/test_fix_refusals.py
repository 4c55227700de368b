"""What ``zoo fix`` refuses: claims that are not drift, accuracy that is not a full evaluation,
another checkpoint, a card changed since the run, and files outside the index or reached
through a symbolic link (the card and its Import lists are untrusted input)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import Result
from fix_world import CARD, TODAY, accuracy, config, flops, make_run, params, weights, write_world, fix, world  # noqa: F401 (world is a fixture)

from zoo.records import PairedEstimate

FULL = ("config", "params", "flops", "weights", "accuracy")
CARD_TOP1 = "Top 1 Accuracy: 72.95%"




def _run_with(root: Path, *measured, model: str = "test_efficientnet") -> Path:
    base = [*config(224, 0.875, "bilinear"), params(3_500_000), flops(321_536_358)]
    return make_run(root, {model: [*base, *measured]}, kinds=FULL)


def _unchanged(card: Path, before: bytes, result: Result) -> None:
    assert card.read_bytes() == before, result.stderr
    assert result.stdout == "", result.stdout


# ----------------------------------------------------------------------------- verdicts that get no value


def test_an_inconclusive_accuracy_is_not_drift_and_gets_nothing(world: Path) -> None:
    card = write_world(world)
    before = card.read_bytes()
    run = _run_with(world, *weights("test_efficientnet"),
                    accuracy("top1", 72.6, images=2000, limit=2000, half_width=1.9), accuracy("top5", 91.0, images=2000, limit=2000, half_width=1.0))
    result = fix(str(run), "--write", "--markdown", "pr.md")
    assert result.exit_code == 0, result.stderr
    _unchanged(card, before, result)
    assert "2 inconclusive" in result.stderr  # Top 1 and Top 5
    assert "| `test_efficientnet` | Top 1 Accuracy `cards/tiny.mdx:29` | inconclusive |" in (world / "pr.md").read_text()


@pytest.mark.parametrize(
    ("measured", "why"),
    [
        (accuracy("top1", 70.0, images=2000, limit=2000, half_width=0.5), "a subset: 2,000 of 50,000 images"),
        (accuracy("top1", 70.0, population=None), "not known to be the whole population"),
        (accuracy("top1", 70.0, images=2000, limit=2000, half_width=1.9, paired=PairedEstimate(
            baseline="test_efficientnet.parquet", used=True, baseline_value=70.1, images=2000, gained=1, lost=3,
            value=70.0, low=69.9, high=70.1, level=0.9, population=50000, method="tango")),
         "a paired estimate (2,000 images paired with baseline test_efficientnet.parquet)"),
    ],
    ids=["subset", "unknown-population", "paired"],
)
def test_a_drifted_accuracy_that_is_not_a_full_evaluation_is_refused(world: Path, measured, why: str) -> None:
    card = write_world(world)
    before = card.read_bytes()
    run = _run_with(world, *weights("test_efficientnet"), measured, accuracy("top5", 91.0))
    result = fix(str(run), "--write")
    assert result.exit_code == 3, result.stderr
    _unchanged(card, before, result)
    assert "1 drifted claim(s) left alone" in result.stderr and why in result.stderr


def test_a_full_evaluation_is_proposed(world: Path) -> None:
    """The control of the refusals above: the same drift over all 50,000 images gets its value."""
    card = write_world(world)
    run = _run_with(world, *weights("test_efficientnet"), accuracy("top1", 70.0), accuracy("top5", 91.0))
    result = fix(str(run), "--write")
    assert result.exit_code == 0, result.stderr
    assert "Top 1 Accuracy: 70.00%" in card.read_text()


def test_claims_measured_with_another_checkpoint_get_nothing(world: Path) -> None:
    card = write_world(world)
    before = card.read_bytes()
    other = "https://example.invalid/test_efficientnet_v2-0123abcd.pth"
    run = _run_with(world, *weights("test_efficientnet", url=other, size=99), accuracy("top1", 60.0), accuracy("top5", 80.0))
    result = fix(str(run), "--write", "--markdown", "pr.md")
    assert result.exit_code == 0, result.stderr
    _unchanged(card, before, result)
    assert "4 measured with another checkpoint than the card's" in result.stderr  # Weights, File Size, Top 1, Top 5
    assert "measured with another checkpoint: the card's Weights" in (world / "pr.md").read_text()


def test_the_hub_file_does_not_correct_the_cards_file_size(world: Path) -> None:
    card = write_world(world)
    before = card.read_bytes()
    run = _run_with(world, *weights("test_efficientnet", size=99, source="hub timm/test_efficientnet.r160_in1k"))
    result = fix(str(run), "--write")
    assert result.exit_code == 3
    _unchanged(card, before, result)
    assert "measured with the Hub's file" in result.stderr


def test_a_waived_drift_gets_nothing(world: Path) -> None:
    waiver = "\n- model: test_efficientnet\n  metric: parameters\n  reason: known, kept for history\n  expires: '2099-01-01'"
    card = write_world(world, waivers=waiver)
    before = card.read_bytes()
    run = make_run(world, {"test_efficientnet": [*config(224, 0.875, "bilinear"), params(3_438_984), flops(321_536_358)]})
    result = fix(str(run), "--write")
    assert result.exit_code == 0, result.stderr
    _unchanged(card, before, result)
    assert "1 waived" in result.stderr


def test_a_value_written_as_a_block_scalar_is_left_alone(world: Path) -> None:
    card = write_world(world, CARD.replace("    Parameters: 3500000\n", "    Parameters: >-\n      3500000\n"))
    before = card.read_bytes()
    run = make_run(world, {"test_efficientnet": [*config(224, 0.875, "bilinear"), params(3_438_984), flops(321_536_358)]})
    result = fix(str(run), "--write")
    assert result.exit_code == 3
    _unchanged(card, before, result)
    assert "block scalar" in result.stderr or "spans several lines" in result.stderr


# ----------------------------------------------------------------------------- files that are not edited


def _params_drift(root: Path, index: str = "cards/") -> Path:
    return make_run(root, {"test_efficientnet": [*config(224, 0.875, "bilinear"), params(3_438_984), flops(321_536_358)]}, index=index)


def test_a_card_changed_since_the_run_is_refused(world: Path) -> None:
    card = write_world(world)
    run = _params_drift(world)
    card.write_bytes(card.read_bytes() + b"\nA line added after the run.\n")
    changed = card.read_bytes()
    for mode in ("--write", "--diff"):
        result = fix(str(run), mode)
        assert result.exit_code == 2, result.stderr
        _unchanged(card, changed, result)
        assert "it changed since the run" in result.stderr


def test_a_run_without_card_hashes_is_refused(world: Path) -> None:
    import json

    card = write_world(world)
    before = card.read_bytes()
    run = _params_drift(world)
    record = json.loads((run / "run.json").read_text())
    record["judged_against"] = None
    (run / "run.json").write_text(json.dumps(record))
    result = fix(str(run), "--write")
    assert result.exit_code == 2
    _unchanged(card, before, result)
    assert "keeps no SHA-256 of its cards" in result.stderr


def _outside_world(root: Path, link: str) -> tuple[Path, bytes, Path]:
    """cards/model-index.yml reaches test_efficientnet's card outside cards/ (an Import, a link to a
    file, or a linked folder); returns the outside file, its bytes and the root index."""
    outside = root / "outside" / "tiny.yml"
    outside.parent.mkdir()
    outside.write_text("Models:\n- Name: test_efficientnet\n  Metadata:\n    Parameters: 3500000\n", encoding="utf-8")
    write_world(root, "Import: []\n", name="placeholder.yml")
    (root / "cards" / "placeholder.yml").unlink()
    if link == "import":
        target = "../outside/tiny.yml"
    elif link == "file-link":
        os.symlink("../outside/tiny.yml", root / "cards" / "tiny.yml")
        target = "tiny.yml"
    else:
        os.symlink("../outside", root / "cards" / "sub")
        target = "sub/tiny.yml"
    index = root / "cards" / "model-index.yml"
    index.write_text(f"Import:\n- {target}\n", encoding="utf-8")
    return outside, outside.read_bytes(), index


@pytest.mark.parametrize(
    ("link", "why"),
    [
        ("import", "it lies outside the index folder(s) of the run (cards)"),
        ("file-link", "it lies outside the index folder(s) of the run (cards)"),  # the index reader shows the link's target
        ("folder-link", "it lies outside the index folder(s) of the run (cards)"),
    ],
)
def test_a_card_outside_the_index_folder_is_refused(world: Path, link: str, why: str) -> None:
    outside, before, index = _outside_world(world, link)
    run = _params_drift(world, index="cards/model-index.yml")
    result = fix(str(run), "--write")
    assert result.exit_code == 2, result.stderr
    _unchanged(outside, before, result)
    assert why in result.stderr
    assert "nothing was written" in result.stderr


def test_a_card_that_is_a_symbolic_link_is_refused(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from another folder, paths are shown as given (not resolved): the card's own name is a
    link, inside the index folder, to a file outside it."""
    outside, before, index = _outside_world(world, "file-link")
    elsewhere = world / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = _params_drift(world, index=str(index))
    result = fix(str(run), "--write")
    assert result.exit_code == 2, result.stderr
    _unchanged(outside, before, result)
    assert "it is a symbolic link (to ../outside/tiny.yml)" in result.stderr


def test_one_unsafe_file_stops_every_write(world: Path) -> None:
    """Two files with drift, one of them reached through a link out of the index: neither is written."""
    outside, before, index = _outside_world(world, "import")
    inside = world / "cards" / "resnet.yml"
    inside.write_text("Models:\n- Name: test_resnet\n  Metadata:\n    Parameters: 4520000\n", encoding="utf-8")
    index.write_text("Import:\n- ../outside/tiny.yml\n- resnet.yml\n", encoding="utf-8")
    inside_before = inside.read_bytes()
    run = make_run(world, {
        "test_efficientnet": [params(3_438_984)], "test_resnet": [params(4_613_400)],
    }, index="cards/model-index.yml")
    result = fix(str(run), "--write")
    assert result.exit_code == 2
    assert outside.read_bytes() == before and inside.read_bytes() == inside_before
    assert "nothing was written" in result.stderr


def test_a_path_with_control_characters_is_refused(world: Path) -> None:
    name = "tiny\n+++ etc.yml"
    card = world / "cards" / name
    write_world(world, "Import: []\n", name="model-index.yml")
    card.write_text("Models:\n- Name: test_efficientnet\n  Metadata:\n    Parameters: 3500000\n", encoding="utf-8")
    (world / "cards" / "model-index.yml").write_text('Import:\n- "tiny\\n+++ etc.yml"\n', encoding="utf-8")
    before = card.read_bytes()
    run = _params_drift(world, index="cards/model-index.yml")
    result = fix(str(run))
    assert result.exit_code == 2
    _unchanged(card, before, result)
    assert "control character U+000A" in result.stderr


def test_unknown_models_and_models_in_two_runs_are_bad_usage(world: Path) -> None:
    write_world(world)
    first = _params_drift(world)
    second = make_run(world, {"test_efficientnet": [params(3_438_984)]}, run_id="20250601T130000Z-f1x002")
    assert fix(str(first), "nosuch_model").exit_code == 2
    both = fix(str(first), str(second))
    assert both.exit_code == 2 and "is in two of the runs given" in both.stderr


def test_a_card_changed_between_the_edit_and_the_write_is_refused_before_any_write(world: Path) -> None:
    """Two files edited; one changes after zoo read it: neither is replaced."""
    from zoo.fix.edit import CardChanged, prepare_edits, write_edits
    from zoo.fix.source import propose
    from zoo.judge.gate import GateSettings
    from zoo.runs.store import load_run

    card = write_world(world)
    other = world / "cards" / "more.yml"
    other.write_text("Models:\n- Name: test_vit\n  Metadata:\n    Parameters: 1000000\n", encoding="utf-8")
    run = make_run(world, {
        "test_efficientnet": [*config(224, 0.875, "bilinear"), params(3_438_984), flops(321_536_358)],
        "test_vit": [params(2_000_000)],
    })
    plan = propose([load_run(run)], GateSettings(today=TODAY), None, world / "runs")
    edits = prepare_edits(plan)
    assert [edit.path for edit in edits.files] == ["cards/tiny.mdx", "cards/more.yml"]
    other.write_bytes(other.read_bytes() + b"# a line added meanwhile\n")  # the second file to be written
    untouched, changed = card.read_bytes(), other.read_bytes()
    with pytest.raises(CardChanged, match="more.yml changed while zoo was preparing its edit"):
        write_edits(edits.files)
    assert card.read_bytes() == untouched and other.read_bytes() == changed
