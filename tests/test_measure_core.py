"""Parameters and FLOPs on models whose counts are known by construction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from conftest import card, measured_flops
from zoo.verify.build import BuildError, build_model
from zoo.judge.compare import judge_claim
from zoo.measure.params import measure_params
from zoo.records import Claim, Convention, ModelCard, SourceRef, Tolerance
from zoo.judge.conventions import reference_key

SRC = SourceRef("i.yml", 1)


class Tiny(nn.Module):
    """conv 3->4 (3x3, no bias) -> BN -> ReLU -> global pool -> linear 4->2."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.act(self.bn(self.conv(x)))).flatten(1))


SMALL = {"image_size": 8, "crop_pct": 0.5}
"""The card's claims: an 8px input, resized from 16px."""


def conv_linear_macs(side: int) -> int:
    return 4 * 3 * 9 * side * side + 4 * 2


def test_parameter_count_is_exact_and_excludes_buffers():
    measurement = measure_params(Tiny())
    assert measurement.value == 3 * 4 * 9 + 4 + 4 + 4 * 2 + 2
    assert measurement.conditions["buffers"] == 4 + 4 + 1  # running mean, var, num_batches_tracked


def test_flops_primary_value_and_conventions_at_both_sizes():
    measurement = measured_flops(card(**SMALL), Tiny().eval())
    by_name = {a.convention: a.value for a in measurement.alternatives}
    assert by_name["macs @8px"] == conv_linear_macs(8)
    assert by_name["macs @16px (resize before crop)"] == conv_linear_macs(16)
    assert by_name["2x macs @8px"] == 2 * conv_linear_macs(8)
    # norm: BN with an affine transform, two per input element; pool: one per input element
    assert by_name["macs+norm+pool @8px"] == conv_linear_macs(8) + 2 * 4 * 64 + 4 * 64
    # element-wise: one per output element of the ReLU (4 x side x side)
    assert by_name["all-ops @8px"] == by_name["macs+norm+pool @8px"] + 4 * 64
    # the primary value is fvcore's count; on Tiny (eval BN with a weight, nn.AdaptiveAvgPool2d) zoo's rules agree
    assert measurement.value == by_name["fvcore @8px"] == by_name["macs+norm+pool @8px"]
    assert measurement.conditions["fvcore_macs:batch_norm"] == 2 * 4 * 64
    assert measurement.conditions["input"] == "1x3x8x8" and measurement.conditions["resize_size"] == 16
    assert measurement.conditions["skipped_ops"] == "none"  # every arithmetic op of Tiny falls in a group
    assert "FlopCounterMode" in measurement.method


def test_a_flops_claim_is_judged_by_the_convention_given_never_the_closest():
    claimed = 2 * conv_linear_macs(16)
    c = card(**SMALL, flops=claimed)
    measurement = measured_flops(c, Tiny().eval())
    verdict = judge_claim("tiny", c.claims["flops"], measurement, Tolerance("flops", relative=0.01), Convention("2x macs @resize"))
    assert verdict.status == "pass" and verdict.difference == 0
    assert verdict.convention == "2x macs @resize" and "2x macs @resize" in verdict.explanation
    # Without a zoo convention the reference counter decides, though another convention matches exactly.
    alone = judge_claim("tiny", c.claims["flops"], measurement, Tolerance("flops", relative=0.01))
    assert alone.status == "drift" and alone.convention == reference_key()


def test_without_crop_pct_timms_default_crop_sets_the_resize_size():
    # Neither the card nor the config gives a crop: timm's resolve_data_config uses its default 0.875,
    # as the accuracy transform does, so the resize size is floor(8 / 0.875) = 9.
    c = ModelCard(name="tiny", source=SRC, claims={"image_size": Claim("image_size", "Image Size", 8, "8", SRC, precision=1)})
    model = Tiny().eval()
    model.pretrained_cfg = {}
    measurement = measured_flops(c, model)
    assert {a.convention.split("@")[1].split("px")[0] for a in measurement.alternatives} == {"8", "9"}
    assert measurement.conditions["resize_size"] == 9


def test_unknown_timm_name_is_a_clear_build_error():
    with pytest.raises(BuildError, match="mobilenetv2_100"):
        build_model(ModelCard(name="mobilenetv2_10", source=SRC))


class FixedSize(Tiny):
    """Takes only 8x8 inputs, as fixed-size models (ViTs) do."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != 8:
            raise AssertionError(f"Input height ({x.shape[-1]}) doesn't match model (8)")
        return super().forward(x)


def test_a_model_that_takes_only_its_own_size_still_gets_its_flops():
    measurement = measured_flops(card(**SMALL), FixedSize().eval())
    assert measurement.status == "ok" and measurement.value > 0
    assert all("@8px" in a.convention for a in measurement.alternatives)
    assert any("16px resize size were not counted" in note for note in measurement.notes)
