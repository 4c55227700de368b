"""Sharding: a deterministic share of the models, so a CI matrix can split a large zoo.

Models are dealt round-robin in name order: the i-th name (sorted) goes to shard
``i % N + 1``. Every machine of a CI matrix sees the same index, so all agree without
coordination, whatever order the index lists the models in, and shard sizes differ by at
most one (hashing names would keep a model's shard fixed as the zoo grows, but leaves
small zoos badly unbalanced: the four MobileNet V2 models all hash into one of two shards).

The ``K/N`` a run records is :class:`zoo.runs.shard.Shard`.
"""

from __future__ import annotations

import os
from typing import Mapping, Optional, Sequence

from zoo.records import ModelCard
from zoo.runs.shard import Shard, parse_shard

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
