"""One bad entry does not refuse a whole zoo: OpenMMLab-style metafiles (``FLOPs: null``, an empty
``Top 1 Accuracy:``, an undefined ``In Collection``, ``Import:`` of many metafiles) are read card by
card, each defect named with file:line, and the models no builder knows are judged unverified."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from index_worlds import line_of, write
from zoo.cli import list_cmd, verify_cmd
from zoo.index import load_index

METAFILE = """\
Collections:
- Name: {arch}
  Metadata:
    Training Data: ImageNet-1k
  Paper:
    Title: A paper
Models:
- Name: {arch}_8xb32_in1k
  In Collection: {collection}
  Metadata:
    FLOPs: {flops}
    Parameters: 25557032
  Results:
  - Task: Image Classification
    Dataset: ImageNet-1k
    Metrics:
      Top 1 Accuracy: {top1}
      Top 5 Accuracy: 93.06
  Weights: https://download.openmmlab.com/mmclassification/v0/{arch}/{arch}_8xb32_in1k.pth
  Config: configs/{arch}/{arch}_8xb32_in1k.py
- Name: {arch}_8xb16_in1k
  In Collection: {arch}
  Metadata:
    FLOPs: 4109364224
    Parameters: 25557032
  Results:
  - Task: Image Classification
    Dataset: ImageNet-1k
    Metrics:
      Top 1 Accuracy: 76.5
  Config: configs/{arch}/{arch}_8xb16_in1k.py
"""


def metafile(arch: str, *, flops: str = "4109364224", top1: str = "76.55", collection: str = "") -> str:
    return METAFILE.format(arch=arch, flops=flops, top1=top1, collection=collection or arch)


def mmpretrain_world(root: Path) -> Path:
    """A model-index.yml importing twelve metafiles: eight clean, and the defects of the real mmpretrain index."""
    names = [f"net{i}" for i in range(8)]
    for name in names:
        write(root / "configs" / name / "metafile.yml", metafile(name))
    write(root / "configs" / "nullflops" / "metafile.yml", metafile("nullflops", flops="null"))
    write(root / "configs" / "emptytop1" / "metafile.yml", metafile("emptytop1", top1=""))
    write(root / "configs" / "orphan" / "metafile.yml", metafile("orphan", collection="NoSuchCollection"))
    write(root / "configs" / "broken" / "metafile.yml", metafile("broken").replace("    Parameters: 25557032\n", "    Parameters: [25557032\n", 1))
    imports = "".join(f"  - configs/{n}/metafile.yml\n" for n in [*names, "nullflops", "emptytop1", "orphan", "broken"])
    return write(root / "model-index.yml", "Import:\n" + imports)


def test_every_readable_model_is_listed_and_each_defect_named(tmp_path):
    root = mmpretrain_world(tmp_path)
    result = CliRunner().invoke(list_cmd.command, ["--index", str(root), "--format", "json"])
    assert result.exit_code == 2, result.output
    cards = {c["name"]: c for c in json.loads(result.stdout)}
    assert len(cards) == 22  # 11 readable metafiles x 2 models; the malformed one is named, not read
    assert "flops" not in cards["nullflops_8xb32_in1k"]["claims"] and cards["nullflops_8xb32_in1k"]["not_claimed"] == ["FLOPs"]
    assert "top1" not in cards["emptytop1_8xb32_in1k"]["claims"] and cards["emptytop1_8xb32_in1k"]["not_claimed"] == ["Top 1 Accuracy"]
    assert cards["orphan_8xb32_in1k"]["claims"]["top1"]["value"] == 76.55  # listed with its own claims
    orphan = tmp_path / "configs" / "orphan" / "metafile.yml"
    broken = tmp_path / "configs" / "broken" / "metafile.yml"
    assert f"{orphan}:{line_of(orphan, 'In Collection: NoSuchCollection')}: model 'orphan_8xb32_in1k': field 'In Collection'" in result.output
    assert f"{broken}:" in result.output and "malformed model-index YAML" in result.output
    assert "2 problem(s) in the index" in result.output
    assert {c["library"] for c in cards.values()} == {"mmpretrain"}  # an OpenMMLab Config names the library


def test_the_table_shows_an_empty_value_as_not_claimed(tmp_path):
    root = mmpretrain_world(tmp_path)
    result = CliRunner().invoke(list_cmd.command, ["--index", str(root)])
    row = next(line for line in result.stdout.splitlines() if line.startswith("nullflops_8xb32_in1k"))
    assert "not claimed" in row and "25557032" in row and "model-index · mmpretrain" in row


def test_models_no_builder_knows_are_judged_unverified_and_bad_cards_error(tmp_path):
    root = mmpretrain_world(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        verify_cmd.command, ["--all", "--only", "params", "--index", str(root), "--no-record", "--format", "json", "-q"],
    )
    assert result.exit_code == 2, result.output  # the undefined collection is bad input, the rest is incomplete
    rows = {row["model"]: row for row in json.loads(result.stdout)["results"]}
    assert len(rows) == 22
    assert rows["net0_8xb32_in1k"]["parameters_verdict"] == "unverified"
    assert rows["orphan_8xb32_in1k"]["verdict"] == "error"
    verbose = runner.invoke(verify_cmd.command, ["net0_8xb32_in1k", "--only", "params", "--index", str(root), "--no-record"])
    assert "no builder for mmpretrain models" in verbose.output and "zoo builds timm and torchvision models" in verbose.output
    assert verbose.exit_code == 2  # the index's malformed metafile


def test_a_clean_index_of_the_same_shape_reads_without_problems(tmp_path):
    for name in ("a", "b"):
        write(tmp_path / "configs" / name / "metafile.yml", metafile(name))
    root = write(tmp_path / "model-index.yml", "Import:\n- configs/*/metafile.yml\n")
    index = load_index([root])
    assert len(index.models) == 4 and index.all_problems() == []
