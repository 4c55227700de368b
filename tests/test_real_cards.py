"""timm's real cards (tests/fixtures/timm_cards: five of timm's model-index blocks, 31 models):
a model's FLOPs verdict is the same alone, in a shard and in the whole zoo, pinned or not, and a
whole card whose FLOPs are off by 8% drifts while every other card keeps its verdicts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli.main import cli

CARDS = Path(__file__).parent / "fixtures" / "timm_cards"
pytestmark = pytest.mark.slow


def _flops(index: Path, *args: str) -> dict[str, tuple[str, str, float]]:
    """model -> (FLOPs verdict, convention, judged figure) from `zoo verify --only flops`."""
    result = CliRunner().invoke(cli, ["verify", *args, "--index", str(index), "--only", "flops", "--no-record", "--format", "json"])
    assert result.exit_code in (0, 1, 3), (result.output, result.exception)
    return {r["model"]: (r["flops_verdict"], r["flops_convention"], r["flops"]) for r in json.loads(result.stdout)["results"]}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timm") / "cards"
    shutil.copytree(CARDS, folder)
    return folder


@pytest.fixture(scope="module")
def whole(zoo: Path) -> dict[str, tuple[str, str, float]]:
    return _flops(zoo, "--all")


@pytest.fixture(scope="module")
def pinned(zoo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same cards with their conventions pinned by `zoo conventions fit`."""
    folder = tmp_path_factory.mktemp("pinned") / "cards"
    shutil.copytree(zoo, folder)
    fitted = CliRunner().invoke(cli, ["conventions", "fit", "--index", str(folder), "-q"])
    assert fitted.exit_code == 0, fitted.output
    assert (folder / "flops-conventions.yml").is_file()
    return folder


def test_alone_and_in_a_shard_as_in_the_whole_zoo_without_a_pinned_file(zoo: Path, whole) -> None:
    assert len(whole) == 31 and {v for v, _, _ in whole.values()} >= {"pass", "drift"}
    assert _flops(zoo, "resnetv2_50x1_bitm")["resnetv2_50x1_bitm"] == whole["resnetv2_50x1_bitm"]
    shard = _flops(zoo, "--all", "--shard", "2/3")
    assert shard and all(whole[m] == v for m, v in shard.items())


def test_alone_and_in_a_shard_as_in_the_whole_zoo_with_the_pinned_file(pinned: Path, whole) -> None:
    again = _flops(pinned, "--all")
    assert again == whole  # the file pins what the whole-index fit gives
    for model in ("efficientnet_b1_pruned", "resnet18", "tf_efficientnet_b0"):
        if model in whole:
            assert _flops(pinned, model)[model] == whole[model], model
    shard = _flops(pinned, "--all", "--shard", "1/3")
    assert shard and all(whole[m] == v for m, v in shard.items())


@pytest.mark.parametrize("factor", [1.08, 0.92])
def test_a_whole_card_off_by_eight_percent_drifts_and_no_other_verdict_moves(tmp_path: Path, pinned: Path, whole, factor: float) -> None:
    perturbed = tmp_path / "cards"
    shutil.copytree(pinned, perturbed)  # with the conventions pinned on the honest cards
    card = perturbed / "resnet.yml"
    text = card.read_text(encoding="utf-8")
    changed = re.sub(r"(FLOPs: )(\d+)", lambda m: f"{m.group(1)}{round(int(m.group(2)) * factor)}", text)
    card.write_text(changed, encoding="utf-8")
    resnets = set(re.findall(r"- Name: (\S+)\n  In Collection", text))
    after = _flops(perturbed, "--all")
    assert resnets and all(after[m][0] == "drift" for m in resnets), {m: after[m] for m in resnets}
    assert {m: v for m, v in after.items() if m not in resnets} == {m: v for m, v in whole.items() if m not in resnets}
