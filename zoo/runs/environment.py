"""The environment fingerprint recorded with every run."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Optional

from zoo.records import Environment

PACKAGES = ("zoo", "timm", "torchvision", "fvcore", "datasets", "numpy", "pillow", "huggingface_hub", "pandas")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> Optional[str]:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def fingerprint(allocator: Optional[str] = None) -> Environment:
    """Python, torch and package versions, CUDA and GPUs, CPU, host, git commit, and the malloc
    the caller says this process runs with (:func:`zoo.measure.allocator.describe`)."""
    import torch

    gpus: list[str] = []
    if torch.cuda.is_available():
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return Environment(
        python=platform.python_version(),
        platform=platform.platform(),
        hostname=socket.gethostname(),
        cpu=_cpu_model(),
        cpu_threads=torch.get_num_threads() or (os.cpu_count() or 1),
        torch=torch.__version__,
        packages={name: _version(name) for name in PACKAGES},
        cuda=torch.version.cuda if torch.cuda.is_available() else None,
        gpus=gpus,
        git_commit=commit,
        git_dirty=bool(status) if status is not None else None,
        allocator=allocator,
    )
