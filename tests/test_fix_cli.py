"""``zoo fix`` without a run: it measures config, params and FLOPs of the real timm model first,
writes that run, and the cards it writes pass a second ``zoo verify``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fix_world import write_world

from zoo.cli.main import cli
from zoo.runs.store import list_runs, load_run

CARD = """\
Models:
- Name: test_efficientnet
  Metadata:
    FLOPs: 1000          # far from any count
    Parameters: 300000   # to the 100,000
    Image Size: '224'
    Crop Pct: '0.875'
    Interpolation: bicubic
"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ZOO_INDEX", "ZOO_RESULTS", "ZOO_CONVENTIONS", "ZOO_LOCK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write_world(tmp_path, CARD, name="zoo.yml")
    return tmp_path


def zoo(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _verdicts() -> dict[str, str]:
    result = zoo("verify", "--all", "--index", "cards/", "--only", "config,params,flops", "--no-record", "--format", "json")
    [row] = json.loads(result.stdout)["results"]
    return {metric: row[f"{metric}_verdict"] for metric in ("parameters", "flops", "image_size", "crop_pct", "interpolation")}


def test_fix_without_a_run_measures_first_and_the_written_card_verifies(world: Path) -> None:
    before = _verdicts()
    assert {m for m, v in before.items() if v == "drift"} == {"parameters", "flops", "image_size", "crop_pct"}
    result = zoo("fix", "test_efficientnet", "--index", "cards/", "--write")
    assert result.exit_code == 0, result.stderr
    runs = list_runs(world / "runs")
    assert len(runs) == 2  # the run zoo fix made, and the recount with the new Image Size and Crop Pct
    assert load_run(runs[0]).measurements_requested == ["config", "params", "flops"]
    text = (world / "cards" / "zoo.yml").read_text()
    assert "Image Size: '160'" in text and "Crop Pct: '0.950'" in text and "# far from any count" in text
    assert _verdicts() == dict.fromkeys(before, "pass")


def test_fix_measures_nothing_that_needs_the_network_itself(world: Path) -> None:
    result = zoo("fix", "test_efficientnet", "--index", "cards/", "--only", "weights")
    assert result.exit_code == 2
    assert "zoo verify --only" in result.stderr
    assert not (world / "runs").exists()


def test_fix_needs_models_or_all_without_a_run(world: Path) -> None:
    result = zoo("fix", "--index", "cards/")
    assert result.exit_code == 2 and "no models chosen" in result.stderr
