"""Small generated model-index worlds for the index, verdict and CLI tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

MODEL_YAML = """\
Collections:
- Name: Tiny
  Paper:
    Title: A tiny paper
Models:
- Name: {name}
  In Collection: Tiny
  Metadata:
    FLOPs: {flops}
    Parameters: {params}
    File Size: 1234
    Image Size: '160'
    Crop Pct: '0.95'
    Interpolation: bicubic
    Custom Key: kept
  Weights: https://example.invalid/{name}-0123abcd.pth
  Results:
  - Task: Image Classification
    Dataset: ImageNet
    Metrics:
      Top 1 Accuracy: 72.95%
      Top 5 Accuracy: '91.0%'
"""


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def model_yaml(name: str = "test_efficientnet", flops: int = 1000, params: str = "356196") -> str:
    return MODEL_YAML.format(name=name, flops=flops, params=params)


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
