"""Which device a measurement runs on, which autocast dtypes it can use, and the name
published tables know it by: the one resolver for throughput and accuracy.

The rule for both: a device or dtype that is *spelled* wrong is bad usage (exit 2, raised
where the options are validated); one that is spelled right but is not usable on this
machine (no CUDA, cuda:3 of 2 GPUs, bf16 on a pre-Ampere GPU) is :class:`DeviceUnavailable`,
which every measurement turns into an ``unavailable`` measurement with the reason (exit 3:
the run is incomplete, the other measurements are still made).
"""

from __future__ import annotations

import contextlib
import os
import platform
from functools import lru_cache
from pathlib import Path
from typing import ContextManager, Optional

import torch

from zoo.errors import EXIT_INCOMPLETE, ZooError


class DeviceUnavailable(ZooError):
    """The device asked for is not usable here; the message says what to do instead."""

    exit_code = EXIT_INCOMPLETE


AMP_DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "fp16": torch.float16}
"""The autocast dtypes throughput (``--dtype``) and accuracy (``--amp``) accept; fp32 is no autocast."""


class AmpUnavailable(DeviceUnavailable):
    """The autocast dtype asked for is not usable on this device."""


def resolve_device(requested: str) -> torch.device:
    """``auto`` -> this process's CUDA device if there is one, else CPU; ``cuda[:N]`` checked.

    ``cuda`` without an index is the current device, or ``LOCAL_RANK``'s under torchrun.
    The result always carries an index for CUDA, so it compares equal to a tensor's device.
    Raises :class:`DeviceUnavailable` when CUDA is asked for and cannot be used.
    """
    requested = requested.strip().lower()
    if requested == "cpu":
        return torch.device("cpu")
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", _default_cuda_index())
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type != "cuda":
        raise DeviceUnavailable(f"--device {requested} is not supported (use auto, cpu, cuda or cuda:N)")
    if not torch.cuda.is_available():
        why = (
            f"this torch ({torch.__version__}) was built without CUDA"
            if torch.version.cuda is None
            else "no CUDA device is visible (driver missing, or CUDA_VISIBLE_DEVICES hides them)"
        )
        raise DeviceUnavailable(
            f"--device {requested} asked for but CUDA is not available: {why}; "
            "run with --device cpu (or --device auto) to measure on the CPU"
        )
    index = _default_cuda_index() if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise DeviceUnavailable(
            f"--device {requested} asked for but only {torch.cuda.device_count()} CUDA device(s) are visible; "
            f"pick one of cuda:0..cuda:{torch.cuda.device_count() - 1}"
        )
    return torch.device("cuda", index)


def _default_cuda_index() -> int:
    local_rank = os.environ.get("LOCAL_RANK", "").strip()
    if local_rank.isdigit() and "RANK" in os.environ:  # a torchrun worker: its own GPU
        return int(local_rank)
    return torch.cuda.current_device()


def amp_dtype(dtype: Optional[str]) -> Optional[torch.dtype]:
    """The torch dtype of ``"bf16"``/``"fp16"``; None for fp32 (``None`` or ``"fp32"``)."""
    if dtype is None or dtype == "fp32":
        return None
    return AMP_DTYPES[dtype]


def autocast_for(device: torch.device, dtype: Optional[str]) -> ContextManager[object]:
    """``torch.autocast`` for bf16/fp16 on ``device``; a no-op context for fp32 (None or "fp32").

    Raises :class:`AmpUnavailable` when this device cannot autocast to the dtype (e.g. bf16 on
    a GPU older than Ampere); call it before timing or scoring so the failure comes first.
    """
    torch_dtype = amp_dtype(dtype)
    if torch_dtype is None:
        return contextlib.nullcontext()
    if device.type == "cuda" and torch_dtype is torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise AmpUnavailable(
            f"bf16 autocast asked for but {torch.cuda.get_device_name(device)} does not support bfloat16; "
            "use fp16 or fp32"
        )
    if not torch.amp.autocast_mode.is_autocast_available(device.type):
        raise AmpUnavailable(f"{dtype} autocast: torch {torch.__version__} has no autocast for {device.type}")
    return torch.autocast(device_type=device.type, dtype=torch_dtype)


def device_name(device: torch.device) -> str:
    """The hardware's own name: the GPU's (``NVIDIA H100 80GB HBM3``) or the CPU model's."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model_name()


@lru_cache(maxsize=1)
def cpu_model_name() -> str:
    """The CPU model as the OS reports it (``/proc/cpuinfo`` on Linux), else platform's guess."""
    cpuinfo = Path("/proc/cpuinfo")
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


__all__ = [
    "AMP_DTYPES",
    "AmpUnavailable",
    "DeviceUnavailable",
    "amp_dtype",
    "autocast_for",
    "cpu_model_name",
    "device_name",
    "resolve_device",
]
