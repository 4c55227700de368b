"""Sharding: a deterministic share of the models, so a CI matrix can split a large zoo.

Models are dealt round-robin in name order: the i-th name (sorted) goes to shard
``i % N + 1``. Every machine of a CI matrix sees the same index, so all agree without
coordination, whatever order the index lists the models in, and shard sizes differ by at
most one (hashing names would keep a model's shard fixed as the zoo grows, but leaves
small zoos badly unbalanced: the four MobileNet V2 models all hash into one of two shards).

>>> parse_shard("2/4")
Shard(k=2, n=4)
"""

from __future__ import annotations

import os
import re
from typing import Mapping, NamedTuple, Optional, Sequence

from zoo.errors import InputError
from zoo.records import ModelCard

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


def select_shard(cards: Sequence[ModelCard], k: int, n: int) -> list[ModelCard]:
    """The cards of shard ``k`` of ``n``, in their given order (see the module doc)."""
    shard = Shard(k, n) if 1 <= k <= n else parse_shard(f"{k}/{n}")
    ranked = sorted({card.name for card in cards})
    chosen = {name for i, name in enumerate(ranked) if i % shard.n == shard.k - 1}
    return [card for card in cards if card.name in chosen]


CI_RUN_IDS = (
    ("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "github"),
    ("CI_PIPELINE_ID", None, "gitlab"),
    ("BUILDKITE_BUILD_ID", None, "buildkite"),
    ("CIRCLE_WORKFLOW_ID", None, "circleci"),
    ("BUILD_TAG", None, "jenkins"),
)
"""CI variables naming one run of a whole job (every shard of a matrix sees the same value),
with the variable telling re-runs apart, and a prefix."""


def default_run_group(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The identity shards of one job share: ``$ZOO_RUN_GROUP``, else the CI run's id.

    >>> default_run_group({"GITHUB_RUN_ID": "123", "GITHUB_RUN_ATTEMPT": "2"})
    'github-123-2'
    """
    env = os.environ if environ is None else environ
    if env.get("ZOO_RUN_GROUP", "").strip():
        return env["ZOO_RUN_GROUP"].strip()
    for variable, attempt, prefix in CI_RUN_IDS:
        value = env.get(variable, "").strip()
        if value:
            again = env.get(attempt, "").strip() if attempt else ""
            return f"{prefix}-{value}" + (f"-{again}" if again else "")
    return None
