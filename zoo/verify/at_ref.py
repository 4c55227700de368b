"""The zoo data as it was at a git revision: the cards, tolerances, waivers, pinned FLOPs
conventions and weights lock that ``zoo verify --changed-since REF`` compares with today's.

Each file is taken from git (``git archive`` of the index's folders, ``git show REF:path`` of the
other files), written under a temporary folder at the same place relative to the repository,
and read with zoo's own readers (:func:`zoo.index.load_index`, :func:`zoo.judge.policy.load_policy`,
:func:`zoo.judge.conventions_file.find_pinned`, :func:`zoo.weights.lockfile.load_lock`), so a
card is compared claim by claim as zoo reads it, never as text. git is run as a program (the
only dependency it needs is git itself, which a checkout has).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from zoo.errors import InputError
from zoo.records import ConventionTable, ModelCard

if TYPE_CHECKING:
    from zoo.judge.policy import Policy
    from zoo.weights.lockfile import WeightsLock


@dataclass(frozen=True)
class ZooAtRef:
    """What the zoo's files said at ``ref``."""

    ref: str
    commit: str
    cards: dict[str, ModelCard]
    """Model name -> its card at ``ref`` (a model absent there is new)."""
    policy: "Policy"
    conventions: ConventionTable
    """The pinned conventions with the tolerances file's declared ones (empty when none was pinned)."""
    lock: Optional["WeightsLock"]


def _git(repo: Path, *args: str, binary: bool = False) -> "subprocess.CompletedProcess":
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=not binary, timeout=120)
    except OSError as exc:
        raise InputError(f"--changed-since needs git: {exc}", hint="install git, or verify without --changed-since") from None


def repository_of(folder: Path) -> Path:
    """The top folder of the git work tree holding ``folder``."""
    done = _git(folder, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise InputError(
            f"--changed-since: {folder} is not in a git repository ({done.stderr.strip()})",
            hint="run zoo verify --changed-since in a checkout of the zoo's repository",
        )
    return Path(done.stdout.strip()).resolve()


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit ``ref`` names in ``repo``; an InputError saying what to fetch when it names none."""
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0 or not done.stdout.strip():
        raise InputError(
            f"--changed-since {ref}: not a commit of the git repository {repo}",
            hint="fetch it first (e.g. git fetch origin main, then --changed-since origin/main)",
        )
    return done.stdout.strip()


def _inside(path: Path, repo: Path) -> Optional[str]:
    """``path`` relative to ``repo`` (POSIX), or None when it lies outside it."""
    try:
        return path.resolve().relative_to(repo).as_posix()
    except ValueError:
        return None


def _extract_folder(repo: Path, commit: str, relative: str, into: Path) -> None:
    """The files under ``relative`` at ``commit`` written under ``into`` (nothing when it did not exist)."""
    listed = _git(repo, "ls-tree", "--name-only", commit, "--", relative or ".")
    if listed.returncode != 0 or not listed.stdout.strip():
        return
    done = _git(repo, "archive", "--format=tar", commit, "--", relative or ".", binary=True)
    if done.returncode != 0:
        raise InputError(f"--changed-since: git archive {commit} {relative} failed: {done.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse links and paths leaving the folder
            archive.extractall(into, filter="data")
        else:
            archive.extractall(into)


def _extract_file(repo: Path, commit: str, relative: str, into: Path) -> Optional[Path]:
    """``git show COMMIT:RELATIVE`` written to ``into/RELATIVE``; None when the file did not exist."""
    done = _git(repo, "show", f"{commit}:{relative}", binary=True)
    if done.returncode != 0:
        return None
    target = into / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(done.stdout)
    return target


def zoo_at_ref(
    ref: str,
    index_paths: Sequence[str],
    index_files: Sequence[str],
    *,
    tolerances: Optional[str],
    conventions: Optional[str],
    lock: Optional[str],
) -> ZooAtRef:
    """Read the index given by ``index_paths`` (today's files: ``index_files``), the tolerances
    file, the conventions file and the weights lock as they were at ``ref``.

    Paths are as the command got them (relative to the working directory); a file outside the
    repository has no past here and is read as it is now.
    """
    from zoo.index import load_index
    from zoo.judge.conventions import with_declared
    from zoo.judge.conventions_file import find_pinned
    from zoo.judge.policy import DEFAULT_POLICY_PATH, load_policy
    from zoo.weights.lockfile import load_lock

    given = [Path(p) for p in index_paths] or [Path("metadata")]
    repo = repository_of(given[0] if given[0].is_dir() else given[0].parent)
    commit = resolve_commit(repo, ref)
    with tempfile.TemporaryDirectory(prefix="zoo-at-ref-") as scratch:
        root = Path(scratch)
        then: list[str] = []
        for path in given:
            relative = _inside(path, repo)
            if relative is None:
                raise InputError(f"--changed-since: the index {path} is outside the git repository {repo}",
                                 hint="give an index inside the repository whose history --changed-since reads")
            folder = relative if path.is_dir() else str(Path(relative).parent)
            _extract_folder(repo, commit, "" if folder == "." else folder, root)
            if (root / relative).exists():
                then.append(str(root / relative))
        for file in index_files:  # files the index imports from elsewhere in the repository
            relative = _inside(Path(file), repo)
            if relative is not None and not (root / relative).exists():
                _extract_file(repo, commit, relative, root)
        try:
            cards = {card.name: card for card in load_index(then).models} if then else {}
        except InputError as exc:
            raise InputError(
                f"--changed-since {ref}: the index as it was at {commit[:10]} cannot be read: {_at(exc, root, ref)}",
                hint="give a REF whose cards zoo reads (or verify without --changed-since)",
            ) from None
        policy = _at_ref_policy(repo, commit, root, tolerances, DEFAULT_POLICY_PATH, load_policy)
        explicit = _at_ref_path(repo, commit, root, conventions) if conventions else None
        if conventions and explicit is None:
            pinned = None  # the file is new since REF (or outside the repository: read as now by the caller)
        else:
            pinned = find_pinned(then, explicit) if then else None
        table = with_declared(pinned.table if pinned is not None else ConventionTable(), policy.flops_conventions)
        lock_file = _at_ref_path(repo, commit, root, lock) if lock else None
        weights_lock = load_lock(lock_file) if lock_file is not None else None
    return ZooAtRef(ref=ref, commit=commit, cards=cards, policy=policy, conventions=table, lock=weights_lock)


def _at_ref_path(repo: Path, commit: str, root: Path, path: str) -> Optional[Path]:
    relative = _inside(Path(path), repo)
    if relative is None:
        return Path(path)  # outside the repository: no history here, read as it is now
    return _extract_file(repo, commit, relative, root)


def _at_ref_policy(repo: Path, commit: str, root: Path, tolerances: Optional[str], default: Path, load_policy) -> "Policy":
    """The tolerances and waivers at the revision (the built-in defaults where the file did not exist)."""
    from zoo.judge.policy import Policy

    path = _at_ref_path(repo, commit, root, tolerances or str(default))
    if path is None:
        return Policy()
    try:
        return load_policy(path)
    except InputError as exc:
        raise InputError(f"--changed-since: the tolerances file as it was at {commit[:10]} cannot be read: {_at(exc, root, commit[:10])}") from None


def _at(error: InputError, scratch: Path, ref: str) -> str:
    """The error's text with the temporary folder's paths shown as ``REF:path``."""
    return str(error).replace(str(scratch) + "/", f"{ref}:")


__all__ = ["ZooAtRef", "repository_of", "resolve_commit", "zoo_at_ref"]
