"""A run's shard: ``K/N``, shard K (1-based) of N, as ``--shard`` takes it and a run record keeps it.

>>> parse_shard("2/4")
Shard(k=2, n=4)
"""

from __future__ import annotations

import re
from typing import NamedTuple

from zoo.errors import InputError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class Shard(NamedTuple):
    """Shard ``k`` (1-based) of ``n``."""

    k: int
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` -> ``Shard(K, N)``: shard K (1..N) of N.

    Raises :class:`InputError` (exit code 2) for anything else, saying what to write.
    """
    match = _SHARD.match(text or "")
    if match is None:
        raise InputError(
            f"--shard {text!r} is not of the form K/N",
            field="--shard",
            hint="write e.g. --shard 2/4 for the second of four shards; in a CI matrix: --shard ${{ matrix.shard }}/4",
        )
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise InputError(f"--shard {text!r}: the number of shards must be at least 1", field="--shard", hint="write e.g. --shard 1/4")
    if not 1 <= index <= count:
        raise InputError(
            f"--shard {text!r}: shard {index} does not exist; shards are numbered 1 to {count}",
            field="--shard",
            hint=f"write one of 1/{count} ... {count}/{count}",
        )
    return Shard(index, count)
