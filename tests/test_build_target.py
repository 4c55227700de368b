"""Building what a card means: the tag its Weights file names, aliases, exact settings (real timm registry)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from index_worlds import write
from zoo.cli.main import cli
from zoo.index import load_index
from zoo.runs.store import list_runs, load_run
from zoo.verify.build import resolve_target

CARD = """\
Models:
- Name: {name}
  Metadata:
    Parameters: {params}
    Image Size: '{size}'
    Crop Pct: '{crop}'
    Interpolation: {interpolation}
  Weights: {weights}
"""


def _card(tmp_path, name, params=1, size=224, crop=0.875, interpolation="bicubic", weights="https://example.invalid/x-0123abcd.pth"):
    path = write(tmp_path / f"{name}.yml", CARD.format(name=name, params=params, size=size, crop=crop, interpolation=interpolation, weights=weights))
    return path


def _verify(tmp_path, index, only="config,params"):
    results = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(index), "--only", only, "--results", str(results)])
    [path] = list_runs(results)
    record = load_run(path)
    return result, {v.metric: v for v in record.verdicts()}, record.models[0]


def test_a_card_describing_a_non_default_tag_is_matched_by_its_weights_file(tmp_path):
    # timm's default convnext_tiny tag (in12k_ft_in1k) evaluates at crop 0.95; the card's file is fb_in1k's (0.875).
    index = _card(tmp_path, "convnext_tiny", crop=0.875, weights="https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth")
    target = resolve_target(load_index([index]).get("convnext_tiny"))
    assert target.pretrained_name == "convnext_tiny.fb_in1k" and "Weights file" in target.tag_reason
    result, verdicts, model = _verify(tmp_path, index)
    assert verdicts["crop_pct"].status == "pass", verdicts["crop_pct"].explanation
    assert "convnext_tiny.fb_in1k" in verdicts["crop_pct"].measurement.method
    assert model.measurement("parameters").conditions["built"] == "convnext_tiny.fb_in1k"


def test_default_tag_when_the_file_names_none_and_the_config_check_reads_it(tmp_path):
    index = _card(tmp_path, "convnext_tiny", crop=0.875)
    result, verdicts, _ = _verify(tmp_path, index)
    assert verdicts["crop_pct"].status == "drift"  # timm's default tag says 0.95
    assert "in12k_ft_in1k" in verdicts["crop_pct"].measurement.method


def test_image_size_is_exact_300_is_not_288_and_test_input_size_matches(tmp_path):
    weights = "https://github.com/huggingface/pytorch-image-models/releases/download/v0.1-weights/efficientnet_b3_ra2-cf984f9c.pth"
    index = _card(tmp_path, "efficientnet_b3", size=300, crop=0.904, weights=weights)
    card = load_index([index]).get("efficientnet_b3")
    assert card.claims["image_size"].precision == 0  # a size is exact; a decimal holds to half its last written digit
    assert card.claims["crop_pct"].precision == pytest.approx(0.001)
    _, verdicts, _ = _verify(tmp_path, index)
    assert verdicts["image_size"].status == "drift"  # efficientnet_b3.ra2_in1k: 288, tested at 320
    assert verdicts["crop_pct"].status == "drift"    # 0.904 is neither 0.875 nor the test crop 1.0

    index = _card(tmp_path / "b", "efficientnet_b3", size=320, crop=1.0, weights=weights)
    _, verdicts, _ = _verify(tmp_path / "b", index)
    assert verdicts["image_size"].status == "pass" and "test_input_size" in verdicts["image_size"].explanation
    assert verdicts["crop_pct"].status == "pass" and "test_crop_pct" in verdicts["crop_pct"].explanation


def test_an_alias_to_another_architecture_builds_the_named_one_or_is_not_judged(tmp_path):
    # timm maps ig_resnext101_32x16d and _32x48d to resnext101_32x8d. timm has resnext101_32x16d; it has no 32x48d.
    world = tmp_path / "w"
    _card(world, "ig_resnext101_32x16d", params=194030000, crop=0.875, interpolation="bilinear",
          weights="https://download.pytorch.org/models/ig_resnext101_32x16-c6f796b0.pth")
    _card(world, "ig_resnext101_32x48d", params=828410000, crop=0.875, interpolation="bilinear",
          weights="https://download.pytorch.org/models/ig_resnext101_32x48-3e41cc8a.pth")
    result = CliRunner().invoke(cli, ["verify", "--all", "--index", str(world), "--only", "params", "--results", str(tmp_path / "runs")])
    record = load_run(list_runs(tmp_path / "runs")[0])
    by_model = {m.card.name: m for m in record.models}
    built = by_model["ig_resnext101_32x16d"].measurement("parameters")
    assert built.conditions["built"] == "resnext101_32x16d.fb_wsl_ig1b_ft_in1k"
    assert "ig_resnext101_32x16d -> resnext101_32x16d" == built.conditions["alias_path"]
    assert any("another architecture" in note for note in built.notes)
    assert by_model["ig_resnext101_32x16d"].verdicts[0].status == "pass"  # 194,030,000 at its precision
    skipped = next(v for v in by_model["ig_resnext101_32x48d"].verdicts if v.metric == "parameters")
    assert skipped.status == "unverified" and "resnext101_32x8d" in skipped.explanation and "not judged" in skipped.explanation
    assert result.exit_code == 3, result.output  # incomplete, not drift


def test_a_float_artifact_count_reads_as_its_round_figure(tmp_path):
    index = _card(tmp_path, "convnext_tiny", params=28589999)
    claim = load_index([index]).get("convnext_tiny").claims["parameters"]
    assert claim.value == 28590000 and claim.precision == 10000 and claim.raw == "28589999"
    _, verdicts, _ = _verify(tmp_path, index, only="params")
    assert verdicts["parameters"].status == "pass"  # convnext_tiny has 28,589,128 parameters


def test_when_the_file_names_no_tag_the_one_tag_with_the_cards_config_is_built(tmp_path):
    # timm's hrnet card: crop 0.875, bilinear, weights hrnetv2_w18-8cb57bb9.pth (a file no tag names).
    # The default tag ms_aug_in1k evaluates at crop 0.95; ms_in1k alone has the card's config.
    index = _card(tmp_path, "hrnet_w18", crop=0.875, interpolation="bilinear",
                  weights="https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-hrnet/hrnetv2_w18-8cb57bb9.pth")
    target = resolve_target(load_index([index]).get("hrnet_w18"))
    assert target.pretrained_name == "hrnet_w18.ms_in1k"
    assert "the only tag whose config has the card's" in target.tag_reason
    result, verdicts, model = _verify(tmp_path, index)
    assert verdicts["crop_pct"].status == "pass", verdicts["crop_pct"].explanation
    assert model.measurement("parameters").conditions["built"] == "hrnet_w18.ms_in1k"


def test_a_file_matched_only_up_to_its_hash_does_not_pick_that_files_tag(tmp_path):
    # timm's regnety_160 card names regnety_160-d64013cd.pth (timm's pycls weights, 80.28% top-1 at crop 0.875);
    # regnety_160.deit_in1k's file is regnety_160-a5fe301d.pth, another checkpoint with crop 0.95.
    weights = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-regnet/regnety_160-d64013cd.pth"
    index = _card(tmp_path, "regnety_160", crop=0.875, weights=weights)
    target = resolve_target(load_index([index]).get("regnety_160"))
    assert target.tag != "deit_in1k", target.tag_reason
    assert "another hash" in target.tag_reason and "deit_in1k" in target.tag_reason
    _, verdicts, _ = _verify(tmp_path, index, only="config")
    assert verdicts["crop_pct"].status == "pass", verdicts["crop_pct"].explanation


def test_a_file_saved_again_under_another_hash_picks_its_tag_when_the_config_agrees(tmp_path):
    # timm's resnet18 card names torchvision's resnet18-5c106cde.pth; torchvision re-saved it as
    # resnet18-f37072fd.pth (resnet18.tv_in1k's file), and tv_in1k's config has the card's 0.875 and bilinear.
    weights = "https://download.pytorch.org/models/resnet18-5c106cde.pth"
    index = _card(tmp_path, "resnet18", crop=0.875, interpolation="bilinear", weights=weights)
    target = resolve_target(load_index([index]).get("resnet18"))
    assert target.tag == "tv_in1k" and "another hash" in target.tag_reason
    _, verdicts, _ = _verify(tmp_path, index, only="config")
    assert verdicts["crop_pct"].status == "pass" and verdicts["interpolation"].status == "pass"
