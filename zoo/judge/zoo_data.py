"""What a zoo decides, read from its files: the data every verdict is judged against.

:class:`ZooData` holds the tolerances, gating metrics and waivers (:mod:`zoo.judge.policy`), the
pinned FLOPs conventions (:mod:`zoo.judge.conventions_file`), the weights lock and the published
benchmark tables, each with the digest of the file it came from, so a run record can name the
zoo data its verdicts were judged against. :func:`load_zoo_data` reads them for an index; it
never fits: where nothing is pinned, ``conventions`` is left empty and ``pinned`` False, and the
caller either fits over the whole index (:mod:`zoo.verify.fit`) or takes the table a run
record stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

from zoo.index.loader import file_digest
from zoo.judge.conventions import with_declared
from zoo.judge.conventions_file import find_pinned
from zoo.judge.policy import Policy, load_policy
from zoo.records import ConventionTable, FileDigest, JudgedAgainst

if TYPE_CHECKING:
    from zoo.index.reference import ReferenceTable
    from zoo.weights.lockfile import WeightsLock

DEFAULT_TABLES = Path("metadata") / "benchmarks"


@dataclass(frozen=True)
class ZooData:
    """What a zoo decides and a verdict is judged against (design: "Zoo data, run data")."""

    policy: Policy = field(default_factory=Policy)
    conventions: ConventionTable = field(default_factory=ConventionTable)
    pinned: bool = False
    """Whether ``conventions`` comes from a pinned file (else it is fitted at run time or stored)."""
    conventions_file: Optional[FileDigest] = None
    lock: Optional["WeightsLock"] = None
    lock_file: Optional[FileDigest] = None
    reference_tables: Sequence["ReferenceTable"] = ()
    reference_files: Sequence[FileDigest] = ()
    cards: Sequence[FileDigest] = ()
    """The index files the cards were read from, by content."""

    def judged_against(self) -> JudgedAgainst:
        """What a run record keeps of this zoo data."""
        return JudgedAgainst(
            cards=list(self.cards), tolerances=self.policy.digest, conventions=self.conventions,
            conventions_file=self.conventions_file, lock=self.lock_file, reference_tables=list(self.reference_files),
        )


def load_zoo_data(
    index_roots: Sequence[str],
    cards: Sequence[FileDigest] = (),
    *,
    tolerances: Union[str, Path, None] = None,
    conventions: Union[str, Path, None] = None,
    lock: Union[str, Path, None] = None,
    tables: Union[str, Path, None] = None,
    policy: Optional[Policy] = None,
) -> ZooData:
    """The zoo data for an index: tolerances (``tolerances`` or ``metadata/tolerances.yml``), the
    pinned FLOPs conventions (``conventions``, ``$ZOO_CONVENTIONS`` or the file beside the index),
    the weights lock (``lock``, ``$ZOO_LOCK`` or ``metadata/weights.lock``) and the benchmark
    tables (``tables`` or ``metadata/benchmarks/``). Declared conventions in the tolerances file
    win over pinned ones. ``policy`` replaces the tolerances file (an override from the command line)."""
    from zoo.index.reference import find_reference_tables
    from zoo.weights.lockfile import load_lock
    from zoo.weights.options import DEFAULT_LOCK_PATH

    policy = policy or load_policy(tolerances)
    found = find_pinned(index_roots, conventions)
    table, pinned, conventions_file = ConventionTable(), False, None
    if found is not None:
        table, pinned, conventions_file = found.table, True, found.digest
    table = with_declared(table, policy.flops_conventions)
    lock_path = Path(lock or os.environ.get("ZOO_LOCK") or DEFAULT_LOCK_PATH)
    weights_lock = load_lock(lock_path) if lock_path.is_file() else None
    table_folder = Path(tables) if tables else DEFAULT_TABLES
    reference = find_reference_tables(table_folder)
    return ZooData(
        policy=policy, conventions=table, pinned=pinned or bool(policy.flops_conventions.get("*")),
        conventions_file=conventions_file, lock=weights_lock, lock_file=file_digest(lock_path) if weights_lock else None,
        reference_tables=reference, reference_files=[file_digest(Path(t.path)) for t in reference], cards=list(cards),
    )
