"""The parser reads model-index data in every form found in the wild, keeping sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from index_worlds import line_of, model_yaml, write
from zoo.index import load_index

SEED = Path(__file__).resolve().parents[1] / "metadata"


def test_seed_index_has_the_four_mobilenets_with_sourced_claims():
    index = load_index([SEED])
    assert index.names() == ["mobilenetv2_100", "mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140"]
    card = index.get("mobilenetv2_100")
    assert card.collection == "MobileNet V2"
    data_file = SEED / "mobilenet-v2.yml"
    assert card.claims["flops"].value == 401920448
    assert card.claims["parameters"].value == 3500000
    assert card.claims["file_size"].value == 14202571
    assert card.claims["top1"].value == pytest.approx(72.95)
    assert card.claims["top5"].value == pytest.approx(91.0)
    assert card.claims["image_size"].value == 224
    assert card.claims["crop_pct"].value == pytest.approx(0.875)
    assert card.claims["interpolation"].value == "bicubic"
    assert card.claims["weights"].value.endswith("mobilenetv2_100_ra-b33bc2c4.pth")
    assert card.claims["top1"].source.line == line_of(data_file, "Top 1 Accuracy: 72.95%")
    assert card.claims["flops"].source.line == line_of(data_file, "FLOPs: 401920448")
    assert card.claims["flops"].source.path.endswith("mobilenet-v2.yml")


def test_yaml_file_with_quoted_numbers_percent_strings_and_unknown_keys(tmp_path):
    path = write(tmp_path / "index.yml", model_yaml())
    card = load_index([path]).get("test_efficientnet")
    assert card.claims["image_size"].value == 160 and card.claims["image_size"].raw == "160"
    assert card.claims["crop_pct"].value == pytest.approx(0.95)
    assert card.claims["top5"].value == pytest.approx(91.0) and card.claims["top5"].raw == "91.0%"
    assert card.metadata["Metadata"]["Custom Key"] == "kept"
    assert card.claims["top1"].source.line == line_of(path, "Top 1 Accuracy")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_yaml_and_json_suffixes(tmp_path, suffix):
    data = yaml.safe_load(model_yaml())
    text = json.dumps(data, indent=2) if suffix == ".json" else model_yaml()
    path = write(tmp_path / f"index{suffix}", text)
    card = load_index([path]).get("test_efficientnet")
    assert card.claims["parameters"].value == 356196
    assert card.claims["parameters"].source.line == line_of(path, '"Parameters"' if suffix == ".json" else "Parameters:")


@pytest.mark.parametrize("suffix", [".md", ".mdx", ".txt"])
def test_markdown_card_with_html_comment(tmp_path, suffix):
    body = "# Tiny\n\nProse about the model.\n\n<!-- a plain comment -->\n\n<!--\nType: model-index\n" + model_yaml() + "-->\n"
    path = write(tmp_path / f"card{suffix}", body)
    card = load_index([path]).get("test_efficientnet")
    assert card.claims["top1"].source.line == line_of(path, "Top 1 Accuracy")
    assert card.claims["flops"].source.line == line_of(path, "FLOPs:")


def test_markdown_front_matter(tmp_path):
    path = write(tmp_path / "card.md", "---\n" + model_yaml() + "---\n\n# Tiny\n")
    card = load_index([path]).get("test_efficientnet")
    assert card.claims["weights"].source.line == line_of(path, "Weights:")


def test_import_with_globs_relative_to_the_importing_file(tmp_path):
    write(tmp_path / "zoo" / "a.yml", model_yaml("test_efficientnet"))
    write(tmp_path / "zoo" / "deeper" / "b.yml", model_yaml("test_resnet").replace("- Name: Tiny\n", "- Name: Tiny2\n").replace("In Collection: Tiny", "In Collection: Tiny2"))
    root = write(tmp_path / "model-index.yml", "Import:\n- zoo/*.yml\n- zoo/**/b.yml\n")
    index = load_index([tmp_path])
    assert index.names() == ["test_efficientnet", "test_resnet"]
    assert index.roots == [str(root)] or index.roots[0].endswith("model-index.yml")
    assert len(index.files) == 3


def test_collection_metadata_is_inherited_and_model_overrides(tmp_path):
    text = """\
    Collections:
    - Name: Family
      Metadata:
        Image Size: '256'
        Training Data: [ImageNet]
    Models:
    - Name: test_resnet
      In Collection: Family
      Metadata:
        Parameters: 1000
    - Name: test_efficientnet
      In Collection: Family
      Metadata:
        Image Size: 160
    """
    path = write(tmp_path / "i.yml", text)
    index = load_index([path])
    assert index.get("test_resnet").claims["image_size"].value == 256
    assert index.get("test_resnet").claims["image_size"].source.line == line_of(path, "Image Size: '256'")
    assert index.get("test_efficientnet").claims["image_size"].value == 160


def test_fraction_accuracy_and_suffixed_counts(tmp_path):
    text = """\
    Models:
    - Name: m
      Metadata:
        Parameters: 3.5M
        FLOPs: 1.2G
      Results:
      - Task: Image Classification
        Dataset: ImageNet-1k
        Metrics:
          Top 1 Accuracy: 0.7295
          Top 5 Accuracy: 91.02
    """
    card = load_index([write(tmp_path / "i.yml", text)]).get("m")
    assert card.claims["parameters"].value == 3_500_000 and card.claims["parameters"].precision == 100_000
    assert card.claims["flops"].value == 1_200_000_000
    assert card.claims["top1"].value == pytest.approx(72.95) and card.claims["top1"].precision == pytest.approx(0.01)
    assert card.claims["top5"].value == pytest.approx(91.02)


def test_results_on_other_datasets_are_not_imagenet_claims(tmp_path):
    text = """\
    Models:
    - Name: m
      Results:
      - Task: Image Classification
        Dataset: CIFAR-10
        Metrics:
          Top 1 Accuracy: 99.0%
    """
    card = load_index([write(tmp_path / "i.yml", text)]).get("m")
    assert "top1" not in card.claims
    assert card.metadata["Results"][0]["Dataset"] == "CIFAR-10"
