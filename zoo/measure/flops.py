"""FLOPs: one count per input size, split so that every counting convention follows from it.

Cards state FLOPs without saying how they were counted: multiply-accumulates (MACs) or 2x,
with or without normalisation, pooling and element-wise ops, at the Image Size or at the
resize size before the centre crop, and sometimes by a counter that missed a layer type
(timm's ``StdConv2d``, ``Conv2dSame`` and ``CondConv2d`` are subclasses or stand-ins of
``nn.Conv2d`` that per-module counters skip). So the model runs once per input size under
torch's ``FlopCounterMode`` (on the meta device when the model was built there: shapes only,
no arithmetic), extended here with formulas for norms, pooling and element-wise ops, and the
count is kept per operator group and per custom layer type. Every convention is a sum of
those parts (:data:`COUNTERS`); the judge fits one convention per collection from them
(:mod:`zoo.judge.conventions`).

Groups, in MACs (one multiply-accumulate, or one op per element):
- ``matrix``: convolutions, linear layers, matmuls (torch's own formulas, halved);
- ``attention``: the two matmuls of ``scaled_dot_product_attention`` (B*H*Lq*Lk*(Dqk+Dv));
- ``norm``: batch/group/layer norm, one per input element (two with an affine transform);
- ``pool``: max/avg/adaptive pooling and spatial means, one per input element;
- ``elementwise``: activations, residual adds and products, one per output element.
Operators that do arithmetic but fall in no group are named in ``skipped_ops``.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from zoo.measure.setup import EvalSetup
from zoo.records import Alternative, Measurement, Metric, ModelCard

COUNTERS: dict[str, tuple[str, ...]] = {
    "macs": ("matrix", "attention"),
    "macs+norm+pool": ("matrix", "attention", "norm", "pool"),
    "all-ops": ("matrix", "attention", "norm", "pool", "elementwise"),
}
"""Named counters: the groups each one sums. ``macs+norm+pool`` follows fvcore's rules and is the reference."""
REFERENCE = "macs+norm+pool"
NO_ATTENTION = "macs+norm+pool without attention"
"""fvcore's actual behaviour on attention models: it has no rule for scaled_dot_product_attention."""

_GROUP_OF_OP = {
    "convolution": "matrix", "_convolution": "matrix", "mm": "matrix", "addmm": "matrix", "bmm": "matrix", "baddbmm": "matrix",
    "_scaled_dot_product_efficient_attention": "attention", "_scaled_dot_product_flash_attention": "attention",
    "_scaled_dot_product_cudnn_attention": "attention", "_scaled_dot_product_flash_attention_for_cpu": "attention",
}
_NORM_OPS = ("_native_batch_norm_legit_no_training", "_native_batch_norm_legit", "native_batch_norm", "native_group_norm", "native_layer_norm")
_POOL_OPS = ("max_pool2d_with_indices", "max_pool2d", "avg_pool2d", "_adaptive_avg_pool2d", "adaptive_max_pool2d", "mean", "max_pool3d_with_indices", "avg_pool3d")
_ELEMENTWISE_OPS = (
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "silu", "silu_", "gelu", "gelu_", "sigmoid", "sigmoid_", "tanh", "tanh_",
    "hardswish", "hardswish_", "hardsigmoid", "hardsigmoid_", "leaky_relu", "leaky_relu_", "elu", "elu_", "mish", "mish_",
    "add", "add_", "mul", "mul_", "sub", "sub_", "div", "div_", "clamp", "clamp_", "clamp_min", "clamp_min_", "softmax", "_softmax",
    "_safe_softmax",
)
# Ops that only move or reshape data: neither counted nor "skipped". torch has no such list.
_DATA_OPS = {
    "view", "_unsafe_view", "reshape", "permute", "transpose", "t", "expand", "contiguous", "clone", "copy_", "cat", "stack",
    "split", "split_with_sizes", "chunk", "slice", "select", "squeeze", "unsqueeze", "flatten", "detach", "empty", "zeros",
    "zeros_like", "empty_like", "ones", "ones_like", "full", "new_zeros", "new_empty", "new_full", "fill_", "zero_", "_to_copy",
    "to", "alias", "as_strided", "unbind", "constant_pad_nd", "pad", "index_select", "index", "roll", "arange", "lift_fresh",
    "_reshape_alias", "unfold", "narrow", "repeat", "where", "masked_fill", "masked_fill_", "split.Tensor", "sym_size",
    "_local_scalar_dense", "dropout", "native_dropout", "bernoulli_", "rsub", "scalar_tensor", "is_nonzero", "item",
}

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class OperatorCounts:
    """One input size's count: MACs per operator group, per custom layer type, and the ops left out."""

    size: int
    groups: dict[str, int]
    """MACs (or element ops) per group: matrix, attention, norm, pool, elementwise."""
    custom_layers: dict[str, int] = field(default_factory=dict)
    """Matrix MACs inside each layer type that is not a plain torch.nn module (StdConv2d, Conv2dSame, ...)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Arithmetic ops no group counts (name -> calls)."""

    def counter(self, name: str) -> int:
        if name == NO_ATTENTION:
            return self.counter(REFERENCE) - self.groups.get("attention", 0)
        return int(sum(self.groups.get(g, 0) for g in COUNTERS[name]))


def _numel(shape: Any) -> int:
    return math.prod(shape) if shape is not None else 0


def _first_shape(args: tuple, out_shape: Any) -> Any:
    import torch

    shape = args[0] if args else None
    return shape if isinstance(shape, torch.Size) else (out_shape[0] if isinstance(out_shape, (tuple, list)) and out_shape and isinstance(out_shape[0], torch.Size) else out_shape)


def _formulas() -> dict[Any, Callable[..., int]]:
    """Formulas FlopCounterMode lacks, in its unit (2 per MAC), keyed by aten overload packet."""
    import torch

    aten = torch.ops.aten

    def per_input(factor_affine: bool) -> Callable[..., int]:
        def formula(*args: Any, out_shape: Any = None, **kwargs: Any) -> int:
            affine = factor_affine and len(args) > 1 and args[1] is not None
            return 2 * _numel(_first_shape(args, out_shape)) * (2 if affine else 1)

        return formula

    def per_output(*args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        shape = out_shape[0] if isinstance(out_shape, (tuple, list)) and out_shape and isinstance(out_shape[0], torch.Size) else out_shape
        return 2 * _numel(shape if isinstance(shape, torch.Size) else None)

    def sdpa_cpu(q: Any, k: Any, v: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        b, h, lq, dqk = q
        lk, dv = k[-2], v[-1]
        return 2 * b * h * lq * lk * (dqk + dv)

    table: dict[Any, Callable[..., int]] = {}
    for name in _NORM_OPS:
        if hasattr(aten, name):
            table[getattr(aten, name)] = per_input(factor_affine=True)
    for name in _POOL_OPS:
        if hasattr(aten, name):
            table[getattr(aten, name)] = per_input(factor_affine=False)
    for name in _ELEMENTWISE_OPS:
        if hasattr(aten, name):
            table[getattr(aten, name)] = per_output
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu"):
        table[aten._scaled_dot_product_flash_attention_for_cpu] = sdpa_cpu
    return table


def _group(op_name: str) -> Optional[str]:
    if op_name in _GROUP_OF_OP:
        return _GROUP_OF_OP[op_name]
    if op_name in _NORM_OPS:
        return "norm"
    if op_name in _POOL_OPS:
        return "pool"
    if op_name in _ELEMENTWISE_OPS:
        return "elementwise"
    return None


def _op_name(op: Any) -> str:
    return str(getattr(op, "__name__", op)).split(".")[0]


def count_operators(model: torch.nn.Module, size: int) -> OperatorCounts:
    """Run ``model`` once on a 1x3xSIZExSIZE input (on its own device) and count every group."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode

    calls: Counter[str] = Counter()
    attention = [0]

    class _Attention(TorchFunctionMode):
        """Counts scaled_dot_product_attention where it is called: on CPU and meta it runs as plain matmuls."""

        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            if func is torch.nn.functional.scaled_dot_product_attention and len(args) >= 3:
                q, k, v = args[:3]
                attention[0] += math.prod(q.shape[:-1]) * k.shape[-2] * (q.shape[-1] + v.shape[-1])
            return func(*args, **(kwargs or {}))

    class _Calls(TorchDispatchMode):
        """Every aten op the forward pass dispatches, to name the ones no group counts."""

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            calls[_op_name(func.overloadpacket)] += 1
            return func(*args, **(kwargs or {}))

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    example = torch.zeros(1, 3, size, size, device=device)
    counter = FlopCounterMode(display=False, depth=None, custom_mapping=_formulas())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        with _Attention(), counter, _Calls():
            model(example)
    by_module = counter.get_flop_counts()
    groups: Counter[str] = Counter()
    for op, flops in by_module.get("Global", {}).items():
        group = _group(_op_name(op))
        if group is not None:
            groups[group] += flops // 2
    if attention[0] and not groups.get("attention"):  # the matmuls it ran as are in "matrix"
        groups["matrix"] = max(0, groups.get("matrix", 0) - attention[0])
        groups["attention"] = attention[0]
    counted = {_op_name(op) for op in by_module.get("Global", {})}
    skipped = {op: n for op, n in calls.items() if op not in counted and _group(op) is None and op not in _DATA_OPS}
    return OperatorCounts(size=size, groups=dict(groups), custom_layers=_custom_layers(model, by_module), skipped=skipped)


def _custom_layers(model: torch.nn.Module, by_module: dict[str, dict[Any, int]]) -> dict[str, int]:
    """Matrix MACs inside the outermost instances of each non-torch.nn layer type that does matrix work itself."""
    root = type(model).__name__
    names = {(f"{root}.{n}" if n else root): m for n, m in model.named_modules()}

    def matrix(name: str) -> int:
        return sum(f for op, f in by_module.get(name, {}).items() if _group(_op_name(op)) in ("matrix", "attention")) // 2

    found: Counter[str] = Counter()
    for name, module in names.items():
        kind = type(module)
        if kind.__module__.startswith("torch.") or name == root:
            continue
        own = matrix(name) - sum(matrix(f"{name}.{child}") for child, _ in module.named_children())
        if own <= 0:
            continue
        parent = name.rsplit(".", 1)[0]
        nested = False
        while parent != root and "." in parent:
            if parent in names and type(names[parent]) is kind:
                nested = True
                break
            parent = parent.rsplit(".", 1)[0]
        if not nested:
            found[kind.__name__] += matrix(name)
    return dict(found)


def input_sizes(setup: EvalSetup) -> tuple[int, Optional[int]]:
    """(image size, resize size before the centre crop), from the card's resolved evaluation setup."""
    return setup.image_size, setup.resize_size


def measure_flops(card: ModelCard, model: torch.nn.Module, setup: EvalSetup) -> Measurement:
    """MACs at the card's Image Size (batch 1) under the reference counter, plus every convention as alternatives.

    ``setup`` is the card's :class:`zoo.measure.setup.EvalSetup` (its sizes are counted).
    """
    import torch

    size, resize = input_sizes(setup)
    on_meta = any(p.is_meta for p in model.parameters())
    try:
        counts = [count_operators(model, size)]
    except Exception as exc:  # a model may not run at some size or on the meta device; that is its problem alone
        return Measurement.failed(Metric.FLOPS.value, f"could not count the model at {size}px: {type(exc).__name__}: {_first_line(exc)}")
    notes = []
    if resize:
        try:
            counts.append(count_operators(model, resize))
        except Exception as exc:  # fixed-size models (ViTs) take only their own input size
            notes.append(f"conventions at the {resize}px resize size were not counted: the model does not take that size ({_first_line(exc)})")
    primary = counts[0]
    skipped = ", ".join(f"{op} x{n}" for op, n in sorted(primary.skipped.items())) or "none"
    conditions: dict[str, Any] = {
        "input": f"1x3x{size}x{size}", "resize_size": resize, "counter": f"torch {torch.__version__} FlopCounterMode + zoo formulas",
        "device": "meta" if on_meta else "cpu", "skipped_ops": skipped,
    }
    for group, macs in sorted(primary.groups.items()):
        conditions[f"macs_{group}"] = int(macs)
    for kind, macs in sorted(primary.custom_layers.items()):
        conditions[f"layer_macs:{kind}"] = int(macs)
    if resize and len(counts) > 1:
        conditions[f"resize_macs_{REFERENCE}"] = counts[1].counter(REFERENCE)
    conditions.update({k: v for k, v in setup.conditions().items() if k in ("pretrained", "alias_path")})
    return Measurement(
        metric=Metric.FLOPS.value,
        status="ok",
        value=primary.counter(REFERENCE),
        unit="MACs",
        method=f"torch FlopCounterMode{' on the meta device' if on_meta else ''}, {REFERENCE} (fvcore's rules; 1 flop = 1 multiply-accumulate)",
        conditions=conditions,
        alternatives=alternatives_of(counts, size),
        notes=[f"operators no group counts: {skipped}", *notes],
    )


def alternatives_of(counts: list[OperatorCounts], size: int) -> list[Alternative]:
    """Every named convention of the counts: each counter x1 and x2, at each size counted."""
    alternatives = []
    for c in counts:
        where = f"@{c.size}px" + (" (resize before crop)" if c.size != size else "")
        names = list(COUNTERS) + ([NO_ATTENTION] if c.groups.get("attention") else [])
        for name in names:
            value = c.counter(name)
            text = f"{' + '.join(COUNTERS.get(name, ('matrix', 'norm', 'pool')))} MACs"
            alternatives.append(Alternative(f"{name} {where}", float(value), text))
            alternatives.append(Alternative(f"2x {name} {where}", float(2 * value), f"{text}, doubled (1 MAC = 2 FLOPs)"))
    return alternatives


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]
