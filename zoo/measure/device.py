"""Which device a benchmark runs on, and the name published tables know it by."""

from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

import torch

from zoo.errors import EXIT_INCOMPLETE, ZooError


class DeviceUnavailable(ZooError):
    """The device asked for is not usable here; the message says what to do instead."""

    exit_code = EXIT_INCOMPLETE


def resolve_device(requested: str) -> torch.device:
    """``auto`` -> the current CUDA device if there is one, else CPU; ``cuda[:N]`` checked.

    The result always carries an index for CUDA, so it compares equal to a tensor's device.
    Raises :class:`DeviceUnavailable` when CUDA is asked for and cannot be used.
    """
    if requested == "cpu":
        return torch.device("cpu")
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
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
    index = torch.cuda.current_device() if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise DeviceUnavailable(
            f"--device {requested} asked for but only {torch.cuda.device_count()} CUDA device(s) are visible; "
            f"pick one of cuda:0..cuda:{torch.cuda.device_count() - 1}"
        )
    return torch.device("cuda", index)


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


__all__ = ["DeviceUnavailable", "cpu_model_name", "device_name", "resolve_device"]
