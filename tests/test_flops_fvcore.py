"""The ``fvcore`` counter equals fvcore itself: ``FlopCountAnalysis`` (a jit trace on real CPU tensors)
beside zoo's single meta-device pass, on timm architectures that cover every custom layer type and
operator family zoo meets in timm's zoo, and on a module built to reach the rules no such model does.
"""

from __future__ import annotations

import warnings

import pytest
import timm
import torch
import torch.nn.functional as F
from fvcore.nn import FlopCountAnalysis
from torch import nn

from conftest import card, measured_flops
from zoo.judge.conventions import parse_convention
from zoo.measure.flops import COUNTERS, FVCORE, FVCORE_ATTENTION, REFERENCE, OperatorCounts, count_operators


def fvcore_count(model: nn.Module, size: int) -> FlopCountAnalysis:
    """What timm's benchmark.py does for ``infer_gmacs``: eval mode, a batch of one, ``torch.ones``."""
    analysis = FlopCountAnalysis(model.eval(), torch.ones(1, 3, size, size))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis.total()
    return analysis


def zoo_count(build, size: int) -> OperatorCounts:
    with torch.device("meta"):
        model = build().eval()
    return count_operators(model, size)


def same_counts(fv: FlopCountAnalysis, counts: OperatorCounts) -> None:
    """Equal per operator (which names the rule that differs) and in total, as exact integers."""
    theirs = {op: int(n) for op, n in fv.by_operator().items() if n}
    assert counts.fvcore == theirs
    assert counts.counter(REFERENCE) == int(fv.total())
    assert int(fv.total()) == fv.total()  # fvcore's einsum handle gives floats; here they hold whole numbers


# (architecture, input side, create_model kwargs, custom layer types it must contain, fvcore ops it must reach)
TIMM_CASES = [
    ("resnet10t", 64, {}, set(), {"conv", "batch_norm", "adaptive_avg_pool2d", "linear"}),  # + max pool, AvgPool2d shortcut
    ("mobilenetv2_050", 64, {}, {"BatchNormAct2d"}, {"conv", "batch_norm"}),  # depthwise convs
    ("tf_efficientnet_b0", 64, {}, {"Conv2dSame", "SqueezeExcite"}, {"conv", "batch_norm"}),  # SE pools with x.mean
    ("efficientnet_cc_b0_4e", 64, {}, {"CondConv2d"}, {"conv", "matmul"}),  # routing matmul, grouped per-sample conv
    ("resnetv2_50x1_bit", 64, {}, {"StdConv2d", "GroupNormAct"}, {"conv", "batch_norm", "group_norm"}),
    ("nf_regnet_b0", 64, {}, {"ScaledStdConv2d"}, {"conv", "batch_norm"}),  # weight standardised with a gain
    ("vit_tiny_r_s16_p8_224", 32, {"img_size": 32}, {"StdConv2dSame", "MaxPool2dSame", "Attention"}, {"group_norm", "layer_norm", "linear"}),
    ("deit_tiny_patch16_224", 32, {"img_size": 32}, {"Attention"}, {"layer_norm", "linear"}),  # scaled_dot_product_attention
    ("hrnet_w18_small", 64, {}, set(), {"upsample_nearest2d"}),
    ("efficientformerv2_s0", 32, {"img_size": 32}, {"Attention2d"}, {"upsample_bilinear2d", "matmul"}),
    ("mvitv2_tiny", 32, {"img_size": 32}, {"MultiScaleAttention"}, {"einsum", "matmul", "layer_norm"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, size, kwargs, layers, ops", TIMM_CASES, ids=[c[0] for c in TIMM_CASES])
def test_fvcore_counter_equals_fvcore_on_timm_architectures(name, size, kwargs, layers, ops):
    def build() -> nn.Module:
        return timm.create_model(name, pretrained=False, **kwargs)

    model = build()
    assert layers <= {type(m).__name__ for m in model.modules()}, "the case no longer contains the layer it is here for"
    fv = fvcore_count(model, size)
    counts = zoo_count(build, size)
    assert ops <= set(counts.fvcore), "the case no longer reaches the operator it is here for"
    same_counts(fv, counts)


def test_only_the_pooling_fvcore_counts_is_counted():
    """timm's SE modules pool with ``x.mean``; fvcore counts only ``adaptive_avg_pool2d`` (both are
    ``aten.mean`` at dispatch), and BiT's weight standardisation is a batch norm on batch statistics."""
    counts = zoo_count(lambda: timm.create_model("tf_efficientnet_b0", pretrained=False), 64)
    assert counts.fvcore["adaptive_avg_pool2d"] == 1280 * 2 * 2  # the head's global pool only
    assert counts.groups["pool"] > counts.fvcore["adaptive_avg_pool2d"]  # zoo's own rules count the SE means too
    bit = zoo_count(lambda: timm.create_model("resnetv2_50x1_bit", pretrained=False), 64)
    assert bit.counter(REFERENCE) > bit.counter("macs+norm+pool")  # 4 per weight element, 5 per GroupNorm element


def test_fvcore_with_attention_equals_fvcore_on_timm_s_attention_run_as_matmuls():
    """timm's published infer_gmacs of attention models are fvcore's count with the attention run as
    matmuls (``TIMM_FUSED_ATTN=0``); ``fvcore+attention`` is that figure from the default (fused) model."""

    def build() -> nn.Module:
        return timm.create_model("deit_tiny_patch16_224", pretrained=False, img_size=32)

    unfused = build()
    layers = [m for m in unfused.modules() if hasattr(m, "fused_attn")]
    assert layers and all(m.fused_attn for m in layers)
    for m in layers:
        m.fused_attn = False
    fv = fvcore_count(unfused, 32)
    counts = zoo_count(build, 32)
    assert counts.groups["attention"] > 0
    assert counts.counter(FVCORE_ATTENTION) == int(fv.total()) == counts.counter(FVCORE) + counts.groups["attention"]


class Rules(nn.Module):
    """Reaches each of fvcore's rules that no model above does, and calls it must leave uncounted."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 3, 3, 3))
        self.w_same = nn.Parameter(torch.randn(4, 4, 3, 3))
        self.w_t = nn.Parameter(torch.randn(4, 2, 2, 2))
        self.w_1d = nn.Parameter(torch.randn(2, 1, 3))
        self.gain = nn.Parameter(torch.ones(4))
        self.register_buffer("mean", torch.zeros(4))
        self.register_buffer("var", torch.ones(4))
        self.m1 = nn.Parameter(torch.randn(7, 11))
        self.m2 = nn.Parameter(torch.randn(11, 13))
        self.m3 = nn.Parameter(torch.randn(13, 17))
        self.e = nn.ParameterList([nn.Parameter(torch.randn(17, 23)), nn.Parameter(torch.randn(23, 29)), nn.Parameter(torch.randn(29, 31))])
        self.batch = nn.Parameter(torch.randn(3, 11, 5))
        self.grid = nn.Parameter(torch.rand(1, 5, 6, 2))
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        y = F.conv2d(x, self.w, padding=1)  # 1x4x8x8
        out = [
            F.conv2d(y, self.w_same, padding="same"),  # traced as _convolution_mode: fvcore has no handle
            F.conv_transpose2d(y, self.w_t, stride=2),  # counted over the input's spatial size
            F.conv1d(y.flatten(2)[:, :1], self.w_1d),
            F.instance_norm(y, weight=self.gain, bias=self.gain),
            F.instance_norm(y),
            torch.batch_norm(y, None, None, self.mean, self.var, False, 0.1, 1e-5, False),  # the builtin, eval, no weight
            F.batch_norm(y, None, None, training=True),  # batch statistics, no weight
            F.batch_norm(y, self.mean, self.var, self.gain, self.gain),  # eval, with weight
            F.layer_norm(y, (8,)),
            F.group_norm(y, 2, self.gain, None),
            F.grid_sample(y, self.grid, align_corners=False),
            F.interpolate(y, scale_factor=2, mode="nearest"),
            F.interpolate(y, size=(5, 7), mode="bilinear", align_corners=False),
            F.interpolate(y, scale_factor=2, mode="bilinear", antialias=True),  # _upsample_bilinear2d_aa: not counted
            F.interpolate(y, scale_factor=2, mode="bicubic"),  # not counted
            F.interpolate(y.flatten(2), scale_factor=2, mode="nearest"),  # upsample_nearest1d: not counted
            F.adaptive_avg_pool2d(y, 3),
            y.mean((2, 3)),  # not counted
            F.avg_pool2d(y, 2) + F.max_pool2d(y, 2),  # not counted
            self.fc(y),  # linear on a 4-d input
            torch.mm(self.m1, self.m2),
            torch.addmm(self.m3[:7, :13], self.m1, self.m2),
            torch.bmm(self.batch.transpose(1, 2), self.batch),
            self.m2.__rmatmul__(self.m1),
            self.m1 @ self.batch,  # broadcast: fvcore counts the first operand's numel times the last dim
            torch.baddbmm(self.batch, self.batch, self.batch.transpose(1, 2)[:, :5, :5]),  # not counted
            torch.einsum("ij,jk,kl->il", *self.e),  # numpy's path count as printed: 5.324e+04, not 53,244
            torch.einsum("i,j->ij", self.m1[0], self.m2[0]),  # no contraction
            torch.einsum("bij,bjk->bik", self.batch.transpose(1, 2), self.batch),  # fvcore's exact batched-matmul case
            torch.einsum(self.m1, [0, 1], self.m2, [1, 2]),  # sublist form
            F.scaled_dot_product_attention(y.flatten(2)[None], y.flatten(2)[None], y.flatten(2)[None]),  # not counted
        ]
        return tuple(out)


def test_fvcore_counter_equals_fvcore_on_every_rule():
    fv = fvcore_count(Rules(), 8)
    counts = zoo_count(Rules, 8)
    expected_ops = {
        "conv", "instance_norm", "batch_norm", "layer_norm", "group_norm", "grid_sampler", "upsample_nearest2d",
        "upsample_bilinear2d", "adaptive_avg_pool2d", "linear", "mm", "addmm", "bmm", "matmul", "einsum",
    }
    assert set(counts.fvcore) == expected_ops
    same_counts(fv, counts)


@pytest.mark.slow
def test_the_measured_value_is_fvcore_s_total_and_a_named_convention():
    size = 64
    model = timm.create_model("mobilenetv2_050", pretrained=False)
    expected = int(fvcore_count(model, size).total())
    with torch.device("meta"):
        meta = timm.create_model("mobilenetv2_050", pretrained=False).eval()
    measurement = measured_flops(card("mobilenetv2_050", image_size=size, crop_pct=0.8), meta)
    by_name = {a.convention: a.value for a in measurement.alternatives}
    assert measurement.value == expected == by_name[f"fvcore @{size}px"]
    assert by_name[f"2x fvcore @{size}px"] == 2 * expected
    assert by_name[f"fvcore+attention @{size}px"] == expected  # no attention in this model
    assert "fvcore @80px (resize before crop)" in by_name
    assert "fvcore" in measurement.method
    assert sum(v for k, v in measurement.conditions.items() if k.startswith("fvcore_macs:")) == expected
    assert "fvcore" in COUNTERS and parse_convention("2x fvcore @resize").label() == "2x fvcore @resize"


class Blocks(nn.Module):
    """Takes a (tokens, class token) pair, as pit's transformer stages do."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, pair: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, cls = pair
        return self.fc(torch.cat([cls, x], dim=1))


class ClassToken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 3))
        self.blocks = Blocks()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)
        return self.blocks((tokens, self.cls_token.expand(x.shape[0], -1, -1)))  # a view of a parameter, made under no_grad


def test_a_view_of_a_parameter_passed_as_a_module_input_is_counted_on_the_meta_device():
    """pit, cait and siglip's attention-pool heads failed FlopCounterMode's gradient hook assertion."""
    with torch.device("meta"):
        model = ClassToken().eval()
    counts = count_operators(model, 4)
    assert counts.fvcore == {"linear": (4 * 4 + 1) * 3 * 3} == {"linear": int(fvcore_count(ClassToken(), 4).total())}
    assert all(p.requires_grad for p in model.parameters())  # left as they were
