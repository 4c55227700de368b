"""``--limit N``: a deterministic, class-stratified subset of a dataset.

Each class gets its share of N in proportion to its size (largest remainders, ties to
the lower class index), and within a class the images ranked first by
``sha256(seed:name)`` are taken. The choice depends only on the names, labels, N and
the seed - not on listing order, layout, batch size or the machine.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np


def class_quotas(class_sizes: dict[int, int], limit: int) -> dict[int, int]:
    """How many images each class contributes to a subset of ``limit`` images."""
    total = sum(class_sizes.values())
    if limit >= total:
        return dict(class_sizes)
    exact = {c: limit * n / total for c, n in class_sizes.items()}
    quotas = {c: int(e) for c, e in exact.items()}
    left = limit - sum(quotas.values())
    by_remainder = sorted(exact, key=lambda c: (-(exact[c] - quotas[c]), c))
    for c in by_remainder[:left]:
        quotas[c] += 1
    return quotas


def stratified_subset(names: Sequence[str], labels: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """Positions (ascending, i.e. in dataset order) of the ``limit``-image stratified subset."""
    labels = np.asarray(labels)
    if limit >= len(names):
        return np.arange(len(names))
    members: dict[int, list[int]] = {}
    for position, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(position)
    quotas = class_quotas({c: len(p) for c, p in members.items()}, limit)
    chosen: list[int] = []
    for label, positions in members.items():
        ranked = sorted(positions, key=lambda p: _rank(seed, names[p]))
        chosen.extend(ranked[: quotas[label]])
    return np.asarray(sorted(chosen), dtype=np.int64)


def _rank(seed: int, name: str) -> bytes:
    return hashlib.sha256(f"{seed}:{name}".encode()).digest()
