"""One resolved evaluation setup feeds FLOPs, throughput, accuracy and the config check."""

from __future__ import annotations

import torch
from torch import nn

from zoo.measure.accuracy.transforms import eval_transform
from zoo.measure.config import measure_config
from zoo.measure.flops import measure_flops
from zoo.measure.setup import resolve_setup
from zoo.measure.throughput.measure import resolve_input_size
from zoo.records import Claim, ModelCard, SourceRef

SRC = SourceRef("cards/x.md", 7)
CFG = {
    "architecture": "tinynet", "tag": "a1_in1k", "input_size": (3, 224, 224), "test_input_size": (3, 256, 256),
    "crop_pct": 0.875, "test_crop_pct": 1.0, "interpolation": "bicubic", "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25),
}


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.pretrained_cfg = dict(CFG, architecture="other", tag="wrong")  # the setup, not this, must be used

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).mean((2, 3))


def card() -> ModelCard:
    claims = {
        "image_size": Claim("image_size", "Image Size", 160, "160", SRC, precision=0),
        "crop_pct": Claim("crop_pct", "Crop Pct", 0.95, "0.95", SRC, precision=0),
        "interpolation": Claim("interpolation", "Interpolation", "bilinear", "bilinear", SRC),
    }
    return ModelCard(name="tinynet_alias", source=SRC, claims=claims)


def test_the_card_overrides_the_matched_tag_once_and_every_measurement_reads_it():
    setup = resolve_setup(card(), CFG, alias_path=("tinynet_alias", "tinynet.a1_in1k"), tag_reason="test")
    assert setup.pretrained == "tinynet.a1_in1k"
    assert (setup.input_size, setup.crop_pct, setup.interpolation, setup.resize_size) == ((3, 160, 160), 0.95, "bilinear", 168)
    assert setup.mean == (0.5, 0.5, 0.5)  # what the card leaves out comes from the tag
    assert dict(setup.origin)["input_size"] == "card cards/x.md:7"
    assert setup.library_value("input_size") == (3, 224, 224)  # the tag's own config stays for the config check

    model = Tiny().eval()
    flops = measure_flops(card(), model, setup)
    assert flops.conditions["input"] == "1x3x160x160" and flops.conditions["resize_size"] == 168
    assert flops.conditions["pretrained"] == "tinynet.a1_in1k" and flops.conditions["alias_path"] == "tinynet_alias -> tinynet.a1_in1k"
    assert resolve_input_size(card(), setup).height == 160
    transform = eval_transform(card(), model, setup)
    assert "resize 168 bilinear" in transform.description and "center crop 160" in transform.description
    assert "mean=(0.5, 0.5, 0.5)" in transform.description

    config = {m.metric: m for m in measure_config(setup)}
    assert config["image_size"].value == 224 and [a.value for a in config["image_size"].alternatives] == [224.0, 256.0]
    assert config["crop_pct"].conditions["pretrained"] == "tinynet.a1_in1k"
