"""torchvision's own installed weights metadata as claims: ``zoo import torchvision``, the builder that
builds what the weights describe (without downloading them), and the weights' own eval transform."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torchvision
from click.testing import CliRunner
from torchvision.models import get_model_weights, list_models

from zoo.cli import import_cmd, verify_cmd
from zoo.index import load_index
from zoo.judge.zoo_data import load_zoo_data
from zoo.records import ModelCard, SourceRef
from zoo.verify.builders.torchvision import TorchvisionBuilder

ALL_WEIGHTS = {f"{builder}.{w.name}": w for builder in list_models(module=torchvision.models) for w in get_model_weights(builder)}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torchvision")
    result = CliRunner().invoke(import_cmd.command, ["torchvision", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_every_classification_weights_becomes_one_model_with_its_metadata_as_claims(imported):
    index = load_index([imported])
    assert index.all_problems() == []
    assert sorted(index.names()) == sorted(ALL_WEIGHTS) and len(ALL_WEIGHTS) >= 100
    assert len(list((imported / "cards").glob("*.yml"))) == len(list_models(module=torchvision.models))
    for card in index.models:
        weights = ALL_WEIGHTS[card.name]
        meta, preset = weights.meta, weights.transforms()
        assert (card.library, card.collection) == ("torchvision", card.name.split(".")[0])
        count = str(meta["num_params"])  # written as is: the count rule reads trailing zeros as rounding
        assert card.number("parameters") == meta["num_params"]
        assert card.claim("parameters").precision == 10 ** (len(count) - len(count.rstrip("0")))
        ops = card.claim("flops")
        assert ops.value == round(meta["_ops"] * 1e9)
        assert ops.precision == pytest.approx(10.0 ** -len(repr(meta["_ops"]).split(".")[1]) * 1e9)
        size = card.claim("file_size")
        assert size.value == round(meta["_file_size"] * 2**20) and size.precision == pytest.approx(
            10.0 ** -len(repr(meta["_file_size"]).split(".")[1]) * 2**20
        )
        assert card.claim("weights").value == weights.url
        assert (card.number("image_size"), card.number("resize_size")) == (preset.crop_size[0], preset.resize_size[0])
        assert card.claim("interpolation").value == preset.interpolation.value
        top1 = meta["_metrics"]["ImageNet-1K"]["acc@1"]
        if math.isnan(top1):  # feature weights without a classifier: nothing claimed
            assert "top1" not in card.claims and "Top 1 Accuracy" in card.not_claimed
        else:
            assert card.number("top1") == pytest.approx(top1)


def test_the_pinned_flops_convention_is_torchvisions_counter(imported):
    index = load_index([imported])
    zoo = load_zoo_data(index.roots, index.digests)
    assert zoo.pinned and zoo.conventions.zoo is not None and zoo.conventions.zoo.key == "macs @image"
    assert zoo.conventions_file is not None and zoo.conventions_file.path.endswith("flops-conventions.yml")


@pytest.mark.filterwarnings("ignore:The default weight initialization:FutureWarning")
@pytest.mark.parametrize(
    "name,built_from_plain_builder",
    [("googlenet.IMAGENET1K_V1", 13004888), ("inception_v3.IMAGENET1K_V1", None), ("vit_b_16.IMAGENET1K_SWAG_E2E_V1", 86567656)],
)
def test_models_are_built_as_torchvision_builds_them_for_their_weights(name, built_from_plain_builder):
    """GoogLeNet drops its auxiliary heads and ViT takes the weights' image size only when built with
    the weights; the builder does that without downloading or loading anything."""
    weights = ALL_WEIGHTS[name]
    original_load = torch.nn.Module.load_state_dict
    builder = TorchvisionBuilder()
    card = ModelCard(name=name, source=SourceRef("cards.yml", 1), library="torchvision")
    target = builder.target(card)
    model = builder.build(card, target, meta=True)
    assert sum(p.numel() for p in model.parameters()) == weights.meta["num_params"]
    if built_from_plain_builder is not None:  # what building without the weights gives instead
        with torch.device("meta"):
            plain = torchvision.models.get_model(name.split(".")[0], weights=None)
        assert sum(p.numel() for p in plain.parameters()) == built_from_plain_builder != weights.meta["num_params"]
    assert torch.nn.Module.load_state_dict is original_load and "get_state_dict" not in type(weights).__dict__
    assert builder.setup(card, target, model).image_size == weights.transforms().crop_size[0]


def test_an_unknown_builder_or_weights_is_named():
    from zoo.verify.build import BuildError

    builder = TorchvisionBuilder()
    with pytest.raises(BuildError, match="no builder 'resnet5'.*did you mean resnet50"):
        builder.target(ModelCard(name="resnet5.IMAGENET1K_V1", source=SourceRef("c.yml", 3), library="torchvision"))
    with pytest.raises(BuildError, match="no weights 'IMAGENET1K_V9' for resnet50 .*IMAGENET1K_V2"):
        builder.target(ModelCard(name="resnet50.IMAGENET1K_V9", source=SourceRef("c.yml", 3), library="torchvision"))
    default = builder.target(ModelCard(name="resnet50", source=SourceRef("c.yml", 3), library="torchvision"))
    assert default.pretrained_name == "resnet50.IMAGENET1K_V2" and "DEFAULT" in default.tag_reason


def test_verify_builds_regnet_on_the_cpu_and_judges_against_torchvisions_convention(imported):
    names = ["resnet50.IMAGENET1K_V2", "regnet_x_400mf.IMAGENET1K_V2", "googlenet.IMAGENET1K_V1"]
    result = CliRunner().invoke(
        verify_cmd.command, [*names, "--only", "config,params,flops", "--index", str(imported), "--no-record", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    rows = {row["model"]: row for row in json.loads(result.stdout)["results"]}
    for name in names:
        row = rows[name]
        assert row["verdict"] == "pass", row
        assert (row["parameters_verdict"], row["flops_verdict"], row["image_size_verdict"]) == ("pass", "pass", "pass")
        assert row["resize_size_verdict"] == row["interpolation_verdict"] == "pass"
        assert row["flops_convention"] == "macs @image"
    assert "built on the CPU" in result.output  # regnet computes its widths from tensors


def test_the_eval_transform_is_the_weights_own_and_its_split_form_is_bit_identical():
    from PIL import Image

    from zoo.measure.accuracy.transforms import eval_transform

    builder = TorchvisionBuilder()
    rng = np.random.default_rng(0)
    pictures = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in ((375, 500), (333, 256), (240, 241))]
    for name in ("resnet50.IMAGENET1K_V2", "efficientnet_b3.IMAGENET1K_V1", "vit_h_14.IMAGENET1K_SWAG_E2E_V1"):
        card = ModelCard(name=name, source=SourceRef("c.yml", 1), library="torchvision")
        target = builder.target(card)
        setup = builder.setup(card, target, torch.nn.Identity())
        transform = eval_transform(card, torch.nn.Identity(), setup)
        own = ALL_WEIGHTS[name].transforms()
        assert transform.decode is not None
        for picture in pictures:
            expected = own(picture)
            assert torch.equal(transform.transform(picture), expected), name
            assert torch.equal(transform.finish(transform.decode(picture)[None])[0], expected), name
