"""Hugging Face model cards written in the Hub's documented schema (README.md front matter), for the card tests."""

from __future__ import annotations

from pathlib import Path

MOBILENET_README = """\
---
language: en
license: apache-2.0
library_name: timm
tags:
- image-classification
- timm
datasets:
- imagenet-1k
base_model: timm/mobilenetv2_100.ra_in1k
model-index:
- name: mobilenetv2_100
  results:
  - task:
      type: image-classification
      name: Image Classification
    dataset:
      type: imagenet-1k
      name: ImageNet-1k
      config: default
      split: validation
    metrics:
    - type: accuracy
      value: 72.95
      name: Top 1 Accuracy
      verified: false
    - type: accuracy
      value: 91.0
      name: Top 5 Accuracy
      verified: false
---

# Model card for mobilenetv2_100

A MobileNet-v2 image classification model, trained on ImageNet-1k.
"""
"""timm's mobilenetv2_100 with the claims timm's own card makes (72.95 / 91.0)."""


def readme(name: str, metrics: str, *, library: str = "timm", dataset: str = "imagenet-1k", split: str = "validation",
           task: str = "image-classification", extra: str = "") -> str:
    """A card with one model and one result; ``metrics`` is the YAML list under ``metrics:`` (indented 4)."""
    return (
        f"---\nlibrary_name: {library}\n{extra}model-index:\n- name: {name}\n  results:\n  - task:\n      type: {task}\n"
        f"    dataset:\n      type: {dataset}\n      name: {dataset}\n      split: {split}\n    metrics:\n{metrics}---\n\nProse.\n"
    )


def write_card(folder: Path, text: str, name: str = "README.md") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str, after: str = "") -> int:
    """1-based line of the first line containing ``needle`` (after the first containing ``after``)."""
    started = not after
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        started = started or after in line
        if started and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
