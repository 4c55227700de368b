"""A dataset's fingerprint: its image count plus a hash of its image names and labels.

The hash is taken over the (name, label) pairs in name order, so the same images with
the same labels give the same fingerprint whatever their layout or listing order.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np


def fingerprint(names: Sequence[str], labels: np.ndarray) -> str:
    """``"<count>:<16 hex digits of sha256>"``, e.g. ``"50000:3f0c9a1e2b7d4c55"``."""
    digest = hashlib.sha256()
    for name, label in sorted(zip(names, (int(x) for x in labels))):
        digest.update(f"{name}\t{label}\n".encode())
    return f"{len(names)}:{digest.hexdigest()[:16]}"
