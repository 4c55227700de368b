"""Reading a checkpoint safely and fitting its state dict to a built model.

Checkpoints are read with ``torch.load(weights_only=True)``: tensors and plain
containers only, so a file that needs arbitrary unpickling is refused and its code
never runs. Training checkpoints are unwrapped (``state_dict_ema``, ``state_dict``,
``model``, ...) and ``module.`` prefixes are stripped. A state dict is loaded only if
it fits the architecture exactly; otherwise the report names the missing, unexpected
and mis-shaped keys.
"""

from __future__ import annotations

import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import torch

from zoo.weights.errors import CheckpointFitError, CheckpointReadError, UnsafeCheckpointError

WRAPPER_KEYS = ("state_dict_ema", "model_ema", "state_dict", "model", "module", "net")
"""Keys a training checkpoint keeps its weights under, in the order they are preferred.
EMA weights come first, as timm's ``load_checkpoint`` does by default: they are what
published checkpoints are evaluated with."""
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
"""Prefixes DataParallel/DistributedDataParallel and ``torch.compile`` add to every key."""
COUNTER_SUFFIX = "num_batches_tracked"
"""BatchNorm's step counter: not a weight, absent from old checkpoints, restored by torch."""
_UNSAFE_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


@dataclass(frozen=True)
class StateDict:
    """The tensors of a checkpoint, and how they were found in it."""

    tensors: "OrderedDict[str, torch.Tensor]"
    wrapper: str = ""
    """The key the tensors were under ("state_dict_ema", ...), "" for a bare state dict."""
    stripped_prefix: str = ""
    """The prefix removed from every key ("module."), "" if none."""

    def describe(self) -> str:
        parts = [f"checkpoint[{self.wrapper!r}]" if self.wrapper else "bare state dict"]
        if self.stripped_prefix:
            parts.append(f"prefix {self.stripped_prefix!r} stripped")
        return ", ".join(parts)


@dataclass(frozen=True)
class FitReport:
    """How a state dict fits a model: keys missing, unexpected, or with another shape."""

    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mis_shaped: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = ()
    """(key, shape in the model, shape in the checkpoint)."""

    @property
    def fits(self) -> bool:
        return not (self.missing or self.unexpected or self.mis_shaped)

    def describe(self, limit: int = 8) -> str:
        """One line per problem kind, listing up to ``limit`` keys each."""
        lines = []
        for title, keys in (("missing from the checkpoint", self.missing), ("unexpected", self.unexpected)):
            if keys:
                lines.append(f"{len(keys)} {title}: {_listing(list(keys), limit)}")
        if self.mis_shaped:
            shown = [f"{k} (model {list(m)}, checkpoint {list(c)})" for k, m, c in self.mis_shaped]
            lines.append(f"{len(shown)} mis-shaped: {_listing(shown, limit)}")
        return "; ".join(lines) if lines else "fits exactly"


def _listing(items: list[str], limit: int) -> str:
    text = ", ".join(items[:limit])
    return text + (f", ... and {len(items) - limit} more" if len(items) > limit else "")


def read_state_dict(path: Path) -> StateDict:
    """Read ``path`` with ``weights_only=True`` and return its unwrapped state dict.

    Raises :class:`UnsafeCheckpointError` when the file needs arbitrary unpickling (its
    code is never run) and :class:`CheckpointReadError` when it holds no state dict.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        unsafe = _UNSAFE_GLOBAL.search(str(exc))
        if unsafe:
            raise UnsafeCheckpointError(
                f"{path.name} is not a plain weights file: its pickle calls the Python global "
                f"{unsafe.group(1)}, so loading it could run arbitrary code",
                done="it was refused and none of its code ran",
                cause="a training checkpoint that pickled Python objects, or a tampered file",
                todo="get a weights-only export (e.g. the state_dict saved with torch.save), or "
                "re-save it yourself from a trusted copy",
                file_name=path.name,
            ) from None
        raise CheckpointReadError(
            f"{path.name} cannot be read as a weights-only PyTorch checkpoint ({_last_line(exc)})",
            done="nothing was loaded; none of its code ran",
            cause="the file is not a PyTorch checkpoint, is damaged, or needs full unpickling",
            todo="check the file; if it came from a cache, delete it to fetch it again",
            file_name=path.name,
        ) from None
    except Exception as exc:  # torch's unpickler lets IndexError, KeyError, ... escape on stray opcodes
        raise CheckpointReadError(
            f"{path.name} cannot be read as a PyTorch checkpoint: {_last_line(exc)}",
            done="nothing was loaded",
            cause="a damaged or incomplete file",
            todo="delete it and fetch it again",
            file_name=path.name,
        ) from None
    return unwrap(raw, name=path.name)


def _read_safetensors(path: Path) -> StateDict:
    try:
        from safetensors.torch import load_file
    except ImportError as exc:  # pragma: no cover - safetensors ships with timm
        raise CheckpointReadError(
            f"{path.name} is a safetensors file but the safetensors package is not installed",
            todo="pip install safetensors",
            file_name=path.name,
        ) from exc
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own SafetensorError type
        raise CheckpointReadError(
            f"{path.name} cannot be read as safetensors: {exc}",
            done="nothing was loaded",
            todo="delete it and fetch it again",
            file_name=path.name,
        ) from None
    return unwrap(tensors, name=path.name)


def unwrap(checkpoint: Any, *, name: str = "checkpoint") -> StateDict:
    """The state dict inside ``checkpoint`` (a bare one or under a wrapper key), with
    ``module.``-style prefixes stripped.

    >>> unwrap({"state_dict": {"module.fc.weight": torch.zeros(1)}}).tensors.keys()
    odict_keys(['fc.weight'])
    """
    wrapper = ""
    if isinstance(checkpoint, Mapping) and not _is_state_dict(checkpoint):
        for key in WRAPPER_KEYS:
            if isinstance(checkpoint.get(key), Mapping) and _is_state_dict(checkpoint[key]):
                wrapper, checkpoint = key, checkpoint[key]
                break
    if not isinstance(checkpoint, Mapping) or not _is_state_dict(checkpoint):
        found = sorted(map(str, checkpoint))[:10] if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise CheckpointReadError(
            f"{name} holds no state dict (found {found})",
            done="nothing was loaded",
            cause=f"an unusual checkpoint layout; zoo looks under {', '.join(WRAPPER_KEYS)}",
            todo="re-save the model's state_dict() on its own",
            file_name=name,
        )
    tensors: OrderedDict[str, torch.Tensor] = OrderedDict(
        (str(k), v) for k, v in checkpoint.items() if isinstance(v, torch.Tensor)
    )
    stripped = ""
    for prefix in WRAPPER_PREFIXES:
        if tensors and all(k.startswith(prefix) for k in tensors):
            tensors = OrderedDict((k[len(prefix) :], v) for k, v in tensors.items())
            stripped += prefix
    return StateDict(tensors=tensors, wrapper=wrapper, stripped_prefix=stripped)


def _is_state_dict(candidate: Mapping[Any, Any]) -> bool:
    """A non-empty mapping of names to tensors (other values, e.g. counters, may be mixed in)."""
    values = list(candidate.values())
    return bool(values) and all(isinstance(k, str) for k in candidate) and any(
        isinstance(v, torch.Tensor) for v in values
    ) and sum(isinstance(v, torch.Tensor) for v in values) * 2 >= len(values)


def fit_report(model: torch.nn.Module, state: StateDict) -> FitReport:
    """Compare ``state`` with ``model.state_dict()``: names and shapes must match exactly.

    A missing BatchNorm ``num_batches_tracked`` counter is not reported: it is not a
    weight and torch restores it itself.
    """
    expected = model.state_dict()
    got = state.tensors
    missing = tuple(k for k in expected if k not in got and not k.endswith(COUNTER_SUFFIX))
    unexpected = tuple(k for k in got if k not in expected)
    mis_shaped = tuple(
        (k, tuple(expected[k].shape), tuple(got[k].shape))
        for k in expected
        if k in got and tuple(expected[k].shape) != tuple(got[k].shape)
    )
    return FitReport(missing=missing, unexpected=unexpected, mis_shaped=mis_shaped)


def load_into(model: torch.nn.Module, state: StateDict, *, model_name: str = "", file_name: str = "") -> FitReport:
    """Load ``state`` into ``model`` in place, only if it fits exactly; else raise
    :class:`CheckpointFitError` with the report and leave the model untouched."""
    report = fit_report(model, state)
    who = f"{model_name}: " if model_name else ""
    if not report.fits:
        raise CheckpointFitError(
            f"{who}the state dict in {file_name or 'the checkpoint'} does not fit the built "
            f"architecture: {report.describe()}",
            done="the model was left as built (no weights loaded)",
            cause="weights for another variant of the model, or a timm version whose layer names differ",
            todo="check that the card's model name and Weights URL belong together",
            file_name=file_name or None,
        )
    result = model.load_state_dict(state.tensors, strict=False)
    left = [k for k in result.missing_keys if not k.endswith(COUNTER_SUFFIX)]
    if left or result.unexpected_keys:  # a module's own loading hook disagreed with the key check
        raise CheckpointFitError(
            f"{who}loading {file_name or 'the checkpoint'} left keys unmatched: "
            f"missing {left}, unexpected {list(result.unexpected_keys)}",
            done="the model may be partly loaded; it is not used for accuracy",
            file_name=file_name or None,
        )
    return report


def _last_line(exc: BaseException) -> str:
    """The most telling line of a long torch error ("Unsupported operand 11")."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for line in lines:
        if line.startswith(("Unsupported", "PytorchStreamReader", "invalid load key")):
            return line.rstrip(".")
    first = lines[0] if lines else ""
    if isinstance(exc, (IndexError, KeyError)) or not first:  # "101", "pop from empty list": say what broke
        first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return first[:200]


def describe_state(state: StateDict, report: Optional[FitReport] = None) -> str:
    """A short human description: "bare state dict, 123 tensors, fits exactly"."""
    text = f"{state.describe()}, {len(state.tensors)} tensors"
    return f"{text}, {report.describe()}" if report else text


__all__ = [
    "FitReport",
    "StateDict",
    "WRAPPER_KEYS",
    "describe_state",
    "fit_report",
    "load_into",
    "read_state_dict",
    "unwrap",
]
