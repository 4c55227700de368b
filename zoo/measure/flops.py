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

Groups, in MACs (one multiply-accumulate, or one op per element), zoo's own rules:
- ``matrix``: convolutions, linear layers, matmuls (torch's own formulas, halved);
- ``attention``: the two matmuls of ``scaled_dot_product_attention`` (B*H*Lq*Lk*(Dqk+Dv));
- ``norm``: batch/group/layer norm, one per input element (two with an affine transform);
- ``pool``: max/avg/adaptive pooling and spatial means, one per input element;
- ``elementwise``: activations, residual adds and products, one per output element.
Operators that do arithmetic but fall in no group are named in ``skipped_ops``.

The same pass also counts by fvcore's rules (``fvcore.nn.FlopCountAnalysis`` 0.1.5, what timm's
``benchmark.py`` publishes as ``infer_gmacs``), the reference counter. fvcore's handles are
written for the operators a jit trace records: the call the model's Python code makes
(``aten::linear``, ``aten::batch_norm``, ``aten::adaptive_avg_pool2d``, ``aten::einsum``),
before torch decomposes it (a global ``adaptive_avg_pool2d`` and an explicit ``x.mean`` are both
``aten.mean`` at dispatch, but fvcore counts only the first). So those rules are applied at the
Python level, in a ``TorchFunctionMode`` (:func:`_fvcore_rules`), to the same forward pass.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from zoo.measure.setup import EvalSetup
from zoo.records import Alternative, Measurement, Metric, ModelCard

FVCORE = "fvcore"
FVCORE_ATTENTION = "fvcore+attention"
COUNTERS: dict[str, tuple[str, ...]] = {
    FVCORE: (),
    FVCORE_ATTENTION: (),
    "macs": ("matrix", "attention"),
    "macs+norm+pool": ("matrix", "attention", "norm", "pool"),
    "all-ops": ("matrix", "attention", "norm", "pool", "elementwise"),
}
"""Named counters: the zoo groups each one sums. ``fvcore`` sums no groups: it is fvcore's own
per-operator count (:attr:`OperatorCounts.fvcore`), and it is the reference. ``fvcore+attention``
adds the matmuls of ``scaled_dot_product_attention``, which fvcore has no rule for: it is what
fvcore reports when timm runs attention as explicit matmuls (``TIMM_FUSED_ATTN=0``), as in timm's
published ``infer_gmacs`` of attention models (not for timm's DiffAttention, whose explicit path
does other matmuls than its two fused calls); it equals ``fvcore`` on models without attention."""
REFERENCE = FVCORE
NO_ATTENTION = "macs+norm+pool without attention"
"""zoo's ``macs+norm+pool`` less the matmuls of ``scaled_dot_product_attention``."""
DESCRIPTIONS = {
    FVCORE: "fvcore 0.1.5's per-operator rules (timm's benchmark.py)",
    FVCORE_ATTENTION: "fvcore 0.1.5's rules + attention matmuls (timm's published infer_gmacs)",
    "macs": "matrix + attention MACs",
    "macs+norm+pool": "matrix + attention + norm + pool MACs (zoo's rules)",
    "all-ops": "matrix + attention + norm + pool + elementwise MACs (zoo's rules)",
    NO_ATTENTION: "matrix + norm + pool MACs (zoo's rules)",
}
"""What each counter counts, for the alternatives' text."""

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
    fvcore: dict[str, int] = field(default_factory=dict)
    """MACs by fvcore's rules, per operator as fvcore names it (conv, linear, batch_norm, ...)."""
    activations: int = 0
    """Output elements of the convolutions, linear layers and matmuls: fvcore's activation count
    (``ActivationCountAnalysis``), which timm's benchmark.py reports as ``macts`` (millions)."""

    def counter(self, name: str) -> int:
        if name == FVCORE:
            return int(sum(self.fvcore.values()))
        if name == FVCORE_ATTENTION:
            return self.counter(FVCORE) + self.groups.get("attention", 0)
        if name == NO_ATTENTION:
            return self.counter("macs+norm+pool") - self.groups.get("attention", 0)
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


FvcoreRule = Callable[[tuple, dict, Any], Optional[tuple[str, int]]]
"""(args, kwargs, result) of one Python-level torch call -> (fvcore's operator name, MACs), or None."""


def _fvcore_rules() -> dict[Any, FvcoreRule]:
    """fvcore 0.1.5's default handles (``fvcore/nn/flop_count.py``), keyed by the torch callables whose call a
    jit trace records as the operator each handle is for.

    Hand-written because fvcore itself needs a jit trace on real tensors (a second, slower forward that
    cannot run on the meta device); the test suite runs fvcore beside this on timm models. What fvcore
    counts, in MACs: ``_convolution`` batch x weight numel x output (input, when transposed) spatial size;
    ``linear``, ``matmul``, ``mm`` first operand numel x the second's last dim; ``bmm`` and ``addmm`` the
    same product; ``einsum`` numpy's optimal-path FLOP count (as printed, 4 significant digits) halved, but
    the two batched-matmul equations exactly; ``batch_norm`` 1 per input element (2 with a weight) in
    eval, and like the other norms when it normalises by batch statistics; ``group_norm``,
    ``layer_norm``, ``instance_norm`` 4 per input element (5 with a weight); ``adaptive_avg_pool2d`` 1
    per input element; ``upsample_nearest2d`` 1 and ``upsample_bilinear2d`` 4 per output element;
    ``grid_sampler`` 4 per output element. Nothing else: not ``scaled_dot_product_attention``,
    ``mean``, max/avg pooling, ``baddbmm``, element-wise ops, nor a conv given a string padding (traced
    as ``_convolution_mode``).
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    def arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
        return args[index] if len(args) > index else kwargs.get(name, default)

    def numel(t: Any) -> int:
        return math.prod(t.shape)

    def conv(transposed_at: Optional[int] = None, transposed: bool = False) -> FvcoreRule:
        def rule(args: tuple, kwargs: dict, out: Any) -> Optional[tuple[str, int]]:
            x, w = arg(args, kwargs, 0, "input"), arg(args, kwargs, 1, "weight")
            if isinstance(arg(args, kwargs, 4, "padding"), str):
                return None  # traced as aten::_convolution_mode, which fvcore has no handle for
            flipped = bool(arg(args, kwargs, transposed_at, "transposed")) if transposed_at is not None else transposed
            batched = x.dim() == w.dim()  # an unbatched input is traced with a batch of 1 added
            spatial = (x if flipped else out).shape[2 if batched else 1:]
            return "conv", (x.shape[0] if batched else 1) * numel(w) * math.prod(spatial)

        return rule

    def product(name: str, first: int = 0, second: int = 1) -> FvcoreRule:
        def rule(args: tuple, kwargs: dict, out: Any) -> tuple[str, int]:
            return name, numel(args[first]) * args[second].shape[-1]

        return rule

    def linear(args: tuple, kwargs: dict, out: Any) -> tuple[str, int]:
        return "linear", numel(arg(args, kwargs, 0, "input")) * arg(args, kwargs, 1, "weight").shape[0]

    def norm(name: str, weight_at: int, training_at: Optional[int] = None) -> FvcoreRule:
        def rule(args: tuple, kwargs: dict, out: Any) -> tuple[str, int]:
            affine = arg(args, kwargs, weight_at, "weight") is not None
            by_statistics = training_at is None or bool(arg(args, kwargs, training_at, "training", False))
            per_element = (5 if affine else 4) if by_statistics else (2 if affine else 1)
            return name, numel(arg(args, kwargs, 0, "input")) * per_element

        return rule

    def per_input(name: str) -> FvcoreRule:
        return lambda args, kwargs, out: (name, numel(arg(args, kwargs, 0, "input")))

    def per_output(name: str, factor: int) -> FvcoreRule:
        return lambda args, kwargs, out: (name, factor * numel(out))

    def interpolate(args: tuple, kwargs: dict, out: Any) -> Optional[tuple[str, int]]:
        mode, antialias = arg(args, kwargs, 3, "mode", "nearest"), arg(args, kwargs, 6, "antialias", False)
        if arg(args, kwargs, 0, "input").dim() != 4 or antialias:
            return None
        return {"nearest": ("upsample_nearest2d", numel(out)), "bilinear": ("upsample_bilinear2d", 4 * numel(out))}.get(mode)

    def einsum(args: tuple, kwargs: dict, out: Any) -> tuple[str, int]:
        equation, operands = str(args[0]).replace(" ", ""), list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        shapes = [tuple(o.shape) for o in operands]
        letters = {c: chr(ord("a") + i) for i, c in enumerate(dict.fromkeys(c for c in equation if c.isalpha()))}
        canonical = "".join(letters.get(c, c) for c in equation)
        if canonical in ("abc,abd->acd", "abc,adc->adb") and len(shapes) == 2:  # batched matmuls: exact
            shared = shapes[1][-1] if canonical == "abc,abd->acd" else shapes[1][1]
            return "einsum", math.prod(shapes[0]) * shared
        report = np.einsum_path(equation, *(np.broadcast_to(np.zeros(()), s) for s in shapes), optimize="optimal")[1]
        printed = next(line for line in report.splitlines() if "optimized flop" in line.lower())
        return "einsum", int(float(printed.rsplit(":", 1)[1]) // 2)

    nn_ops = torch._C._nn
    table: dict[Any, FvcoreRule] = {}
    for fn in (torch.conv1d, torch.conv2d, torch.conv3d):
        table[fn] = conv()
    for fn in (torch.conv_transpose1d, torch.conv_transpose2d, torch.conv_transpose3d):
        table[fn] = conv(transposed=True)
    for fn in (torch.convolution, torch._convolution):
        table[fn] = conv(transposed_at=6)
    table[F.linear] = linear
    for fn in (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__):
        table[fn] = product("matmul")
    table[torch.Tensor.__rmatmul__] = product("matmul", first=1, second=0)
    for fn in (torch.mm, torch.Tensor.mm):
        table[fn] = product("mm")
    for fn in (torch.bmm, torch.Tensor.bmm):
        table[fn] = product("bmm")
    for fn in (torch.addmm, torch.Tensor.addmm):
        table[fn] = product("addmm", first=1, second=2)
    table[torch.functional.einsum] = einsum
    table[F.batch_norm] = norm("batch_norm", weight_at=3, training_at=5)
    table[torch.batch_norm] = norm("batch_norm", weight_at=1, training_at=5)
    table[F.instance_norm] = norm("instance_norm", weight_at=3)
    table[torch.instance_norm] = norm("instance_norm", weight_at=1)
    for fn in (F.layer_norm, torch.layer_norm):
        table[fn] = norm("layer_norm", weight_at=2)
    for fn in (F.group_norm, torch.group_norm):
        table[fn] = norm("group_norm", weight_at=2)
    for fn in (F.adaptive_avg_pool2d, nn_ops.adaptive_avg_pool2d):
        table[fn] = per_input("adaptive_avg_pool2d")
    table[F.interpolate] = interpolate
    table[nn_ops.upsample_nearest2d] = per_output("upsample_nearest2d", 1)
    table[nn_ops.upsample_bilinear2d] = per_output("upsample_bilinear2d", 4)
    for fn in (F.grid_sample, torch.grid_sampler):
        table[fn] = per_output("grid_sampler", 4)
    return table


def count_operators(model: torch.nn.Module, size: int) -> OperatorCounts:
    """Run ``model`` once on a 1x3xSIZExSIZE input (on its own device): every group, and fvcore's rules."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode

    calls: Counter[str] = Counter()
    attention = [0]
    activations = [0]
    fvcore: Counter[str] = Counter()
    rules = _fvcore_rules()

    class _PythonCalls(TorchFunctionMode):
        """Each torch call as the model's code makes it, before decomposition: fvcore's rules, and
        scaled_dot_product_attention where it is called (on CPU and meta it runs as plain matmuls)."""

        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            kwargs = kwargs or {}
            if func is torch.nn.functional.scaled_dot_product_attention and len(args) >= 3:
                q, k, v = args[:3]
                attention[0] += math.prod(q.shape[:-1]) * k.shape[-2] * (q.shape[-1] + v.shape[-1])
            out = func(*args, **kwargs)
            rule = rules.get(func)
            counted = rule(args, kwargs, out) if rule is not None else None
            if counted is not None:
                fvcore[counted[0]] += int(counted[1])
            return out

    class _Calls(TorchDispatchMode):
        """Every aten op the forward pass dispatches, to name the ones no group counts."""

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            name = _op_name(func.overloadpacket)
            calls[name] += 1
            out = func(*args, **(kwargs or {}))
            if _GROUP_OF_OP.get(name) == "matrix" and isinstance(out, torch.Tensor):
                activations[0] += out.numel()
            return out

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    example = torch.zeros(1, 3, size, size, device=device)
    counter = FlopCounterMode(display=False, depth=None, custom_mapping=_formulas())
    # FlopCounterMode's module tracker hooks the gradient of every module input that requires one; a view
    # of a parameter made under no_grad and passed on as a module input (pit's and cait's expanded class
    # tokens) has no gradient function and fails its assertion. Nothing here needs gradients.
    requiring = [p for p in model.parameters() if p.requires_grad]
    try:
        for p in requiring:
            p.requires_grad_(False)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            with _PythonCalls(), counter, _Calls():
                model(example)
    finally:
        for p in requiring:
            p.requires_grad_(True)
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
    return OperatorCounts(
        size=size, groups=dict(groups), custom_layers=_custom_layers(model, by_module), skipped=skipped, fvcore=dict(fvcore),
        activations=activations[0],
    )


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
    """MACs at the card's Image Size (batch 1) by fvcore's rules (the reference), plus every convention as alternatives.

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
        "input": f"1x3x{size}x{size}", "resize_size": resize,
        "counter": f"torch {torch.__version__} FlopCounterMode + zoo formulas; fvcore 0.1.5's rules on the Python-level calls",
        "device": "meta" if on_meta else "cpu", "skipped_ops": skipped, "activations": primary.activations,
    }
    for group, macs in sorted(primary.groups.items()):
        conditions[f"macs_{group}"] = int(macs)
    for kind, macs in sorted(primary.custom_layers.items()):
        conditions[f"layer_macs:{kind}"] = int(macs)
    for op, macs in sorted(primary.fvcore.items()):
        conditions[f"fvcore_macs:{op}"] = int(macs)
    if resize and len(counts) > 1:
        conditions[f"resize_macs_{REFERENCE}"] = counts[1].counter(REFERENCE)
    conditions.update({k: v for k, v in setup.conditions().items() if k in ("pretrained", "alias_path")})
    return Measurement(
        metric=Metric.FLOPS.value,
        status="ok",
        value=primary.counter(REFERENCE),
        unit="MACs",
        method=f"torch FlopCounterMode{' on the meta device' if on_meta else ''}, counted by fvcore 0.1.5's rules (1 flop = 1 multiply-accumulate)",
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
            text = DESCRIPTIONS[name]
            alternatives.append(Alternative(f"{name} {where}", float(value), text))
            alternatives.append(Alternative(f"2x {name} {where}", float(2 * value), f"{text}, doubled (1 MAC = 2 FLOPs)"))
    return alternatives


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]
