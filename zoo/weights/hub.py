"""The Hugging Face Hub as a weights source: the file timm itself loads, proven by the Hub's own hash.

Which repo: ``--hub-repo MODEL=ORG/NAME[@REV]``, else the card's ``Weights Hub:`` key, else
timm's pretrained config (``hf_hub_id``). Which file: ``model.safetensors`` where the repo has
it (no pickle at all), else ``pytorch_model.bin``.

Online, the repo's file list at the revision (``HfApi.model_info`` with file metadata) names the
commit and each LFS file's SHA-256 and size; ``hf_hub_download`` fetches the file at that very
commit into huggingface_hub's own cache (shared with timm, never copied into zoo's); zoo hashes
the bytes and compares them with the Hub's hash, which came in another response than the bytes.
A lock file entry (repo + commit + file + SHA-256 + size) pins the commit, so a later run checks
the same bytes even when the repo's branch moved on (and says that it moved).

Offline (``--offline``, ``ZOO_OFFLINE=1``, ``HF_HUB_OFFLINE=1``) the file must be in the Hub
cache: it is proven by the lock entry, else by its blob name in the cache (the LFS SHA-256 the
Hub announced when it was downloaded).

Every Hub answer is untrusted: the headers that huggingface_hub turns into cache paths are
checked before it uses them, a download may not outgrow the size the file list announced, and
bytes that fail the hash are deleted from the Hub cache.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from tqdm import tqdm

from zoo import progress
from zoo.errors import EXIT_BAD_INPUT
from zoo.paths import UnsafePathError, inside
from zoo.records import ModelCard
from zoo.weights.errors import (
    HashMismatchError,
    HTTPStatusError,
    NotFoundError,
    OfflineMissingError,
    SizeMismatchError,
    UnreachableError,
    WeightsError,
)
from zoo.weights.integrity import hash_file
from zoo.weights.lockfile import LockEntry, WeightsLock, load_lock
from zoo.weights.options import FetchOptions
from zoo.weights.sources import FetchResult

log = logging.getLogger(__name__)

SAFETENSORS_NAME = "model.safetensors"
PICKLE_NAME = "pytorch_model.bin"
CARD_KEY = "Weights Hub"
"""The card key naming a model's Hub repo, e.g. ``Weights Hub: timm/mobilenetv2_100.ra_in1k``."""
DEFAULT_REVISION = "main"

_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# A revision names a branch, tag or commit; it also becomes a file name under the cache's refs/.
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*")
# huggingface_hub names cache blobs after the ETag it is sent: one path component, never a dot name.
_SAFE_ETAG = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,254}")


# --------------------------------------------------------------------------- which repo


class HubRefError(WeightsError):
    """The Hub repo a card or ``--hub-repo`` names is malformed (bad input for that model)."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class HubRef:
    """A model's repo on the Hub, the revision asked for, and who said so."""

    repo_id: str
    revision: Optional[str] = None
    """Branch, tag or commit; ``None`` is the repo's default branch."""
    origin: str = ""
    """"--hub-repo", "card key Weights Hub at FILE:LINE" or "timm pretrained config"."""
    filename: Optional[str] = None
    """The file timm's config names (``hf_hub_filename``), when it names one."""

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.revision}" if self.revision else self.repo_id


def parse_hub_ref(text: str, *, origin: str) -> HubRef:
    """``"ORG/NAME[@REV]"`` -> :class:`HubRef`; ``ValueError`` saying what is wrong.

    Written by hand rather than with timm's ``hf_split``, which asserts instead of explaining,
    and both parts are checked because each becomes a folder name in the Hub cache.

    >>> parse_hub_ref("timm/mobilenetv2_100.ra_in1k@main", origin="x").revision
    'main'
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    repo, sep, revision = str(text).strip().partition("@")
    if "/" not in repo:
        raise ValueError(f"{text!r} is not ORG/NAME (e.g. timm/mobilenetv2_100.ra_in1k)")
    try:
        validate_repo_id(repo)
    except HFValidationError as exc:
        raise ValueError(f"{repo!r} is not a Hub repo id: {exc}") from None
    if sep and (not _REVISION.fullmatch(revision) or ".." in revision or len(revision) > 200):
        raise ValueError(f"{revision!r} is not a revision (a branch, tag or 40-hex commit)")
    return HubRef(repo_id=repo, revision=revision or None, origin=origin)


def hub_ref_for(card: ModelCard, options: FetchOptions) -> Optional[HubRef]:
    """Where ``card``'s model lives on the Hub: ``--hub-repo``, the card's key, else timm's config.

    Raises :class:`NotFoundError` for a malformed ``--hub-repo`` or card value (naming where it
    was written); ``None`` when nothing names a repo.
    """
    given = options.hub_repos.get(card.name)
    if given:
        return _parse_or_fail(card, given, "--hub-repo")
    written = card.metadata.get(CARD_KEY)
    if written is None and isinstance(card.metadata.get("Metadata"), dict):
        written = card.metadata["Metadata"].get(CARD_KEY)
    if written is not None:
        line = card.field_lines.get(CARD_KEY) or card.field_lines.get(f"Metadata.{CARD_KEY}") or card.source.line
        return _parse_or_fail(card, str(written), f"card key {CARD_KEY} at {card.source.path}:{line}")
    return _ref_from_timm(card.name)


def _parse_or_fail(card: ModelCard, text: str, origin: str) -> HubRef:
    try:
        return parse_hub_ref(text, origin=origin)
    except ValueError as exc:
        raise HubRefError(
            f"{card.name}: the Hub repo given by {origin} is unusable: {exc}",
            done="nothing was downloaded",
            todo="write it as ORG/NAME or ORG/NAME@REVISION, e.g. timm/mobilenetv2_100.ra_in1k",
        ) from None


def _ref_from_timm(name: str) -> Optional[HubRef]:
    try:
        from timm.models import get_pretrained_cfg

        cfg = get_pretrained_cfg(name)
    except Exception:  # timm raises RuntimeError/KeyError for names it does not know
        return None
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not hub_id:
        return None
    try:
        ref = parse_hub_ref(str(hub_id), origin=f"timm {_timm_version()} pretrained config of {name}")
    except ValueError:
        return None
    return replace(ref, filename=getattr(cfg, "hf_hub_filename", None) or None)


def _timm_version() -> str:
    import timm

    return timm.__version__


def candidate_files(ref: HubRef) -> list[str]:
    """Files to look for, safest first: safetensors before any pickle (timm's own order)."""
    names: list[str] = []
    if ref.filename:
        if ref.filename.endswith(".bin"):
            names.append(ref.filename[: -len(".bin")] + ".safetensors")
        names.append(ref.filename)
    for name in (SAFETENSORS_NAME, PICKLE_NAME):
        if name not in names:
            names.append(name)
    return names


# --------------------------------------------------------------------------- the file fetched


@dataclass(frozen=True)
class HubFile:
    """The Hub file that was verified, and what proved it."""

    repo_id: str
    revision: str
    """The revision asked for (a branch, tag or commit)."""
    commit: str
    """The commit it resolved to: the bytes are those of this commit."""
    filename: str
    sha256: str
    size: int
    proof: str
    """"hub-lfs-sha256" (the Hub's file metadata), "lock" (the lock entry), "hub-cache-name"
    (the blob name the Hub cache gave it), joined with "+" when several agree; "" if none."""
    origin: str = ""
    """Who named the repo (see :attr:`HubRef.origin`)."""
    branch_moved_to: Optional[str] = None
    """Set when the lock pinned an older commit and the revision asked for now points here."""

    @property
    def format(self) -> str:
        return "safetensors" if self.filename.endswith(".safetensors") else "pickle (weights_only)"

    @property
    def lock_key(self) -> str:
        return lock_key(self.repo_id, self.filename)

    def describe(self) -> str:
        """``timm/mobilenetv2_100.ra_in1k@0123456789ab model.safetensors``."""
        return f"{self.repo_id}@{self.commit[:12]} {self.filename}"


def lock_key(repo_id: str, filename: str) -> str:
    """The lock file's key for a Hub file: ``ORG/NAME/FILE`` (file names repeat across repos)."""
    return f"{repo_id}/{filename}"


@dataclass(frozen=True)
class HubSettings:
    """huggingface_hub's settings, read when a fetch starts (the library reads them at import)."""

    endpoint: str
    cache_dir: Path
    offline: bool

    @classmethod
    def current(cls, options: FetchOptions) -> "HubSettings":
        """``HF_ENDPOINT``, ``HF_HUB_CACHE`` (else ``HF_HOME``/hub), offline from ``options`` or
        ``HF_HUB_OFFLINE``; each falls back to what huggingface_hub read when it was imported."""
        from huggingface_hub import constants

        endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
        if os.environ.get("HF_HUB_CACHE"):
            cache = os.environ["HF_HUB_CACHE"]
        elif os.environ.get("HF_HOME"):
            cache = os.path.join(os.environ["HF_HOME"], "hub")
        else:
            cache = constants.HF_HUB_CACHE
        offline = options.offline or constants.HF_HUB_OFFLINE
        return cls(endpoint=endpoint, cache_dir=Path(os.path.expandvars(cache)).expanduser(), offline=offline)


# --------------------------------------------------------------------------- fetching


def fetch_hub(card: ModelCard, options: FetchOptions, *, lock: Optional[WeightsLock] = None) -> FetchResult:
    """Get ``card``'s model file from the Hub, verified against the Hub's SHA-256 (or the lock).

    Raises a :class:`~zoo.weights.errors.WeightsError` subclass saying what failed and what to do.

    Example::

        result = fetch_hub(card, FetchOptions.from_env(source="hub"))
        print(result.hub.describe(), result.sha256)
    """
    ref = hub_ref_for(card, options)
    if ref is None:
        raise NotFoundError(
            f"{card.name}: no Hub repo is known for it (timm has no pretrained config with an hf_hub_id "
            f"for this name, and the card has no {CARD_KEY} key)",
            done="nothing was downloaded",
            todo=f"pass --hub-repo {card.name}=ORG/NAME[@REV], or add `{CARD_KEY}: ORG/NAME` to the card",
        )
    if lock is None and options.lock_path is not None:
        lock = load_lock(options.lock_path)
    settings = HubSettings.current(options)
    _guard_hub_answers()
    if settings.offline:
        return _from_cache(card.name, ref, settings, options, lock)
    return _from_hub(card.name, ref, settings, options, lock)


def _pinned(lock: Optional[WeightsLock], ref: HubRef) -> Optional[LockEntry]:
    if lock is None:
        return None
    for name in candidate_files(ref):
        entry = lock.get(lock_key(ref.repo_id, name))
        if entry is not None and entry.commit:
            return entry
    return None


def _lock_status(lock: Optional[WeightsLock], pinned: Optional[LockEntry]) -> str:
    if lock is None:
        return "lock off"
    if pinned is not None:
        return "pinned"
    return "unpinned" if lock.exists else "no lock file"


def _from_hub(model: str, ref: HubRef, settings: HubSettings, options: FetchOptions,
              lock: Optional[WeightsLock]) -> FetchResult:
    from huggingface_hub import HfApi, hf_hub_download, hf_hub_url

    pinned = _pinned(lock, ref)
    asked = ref.revision or DEFAULT_REVISION
    notes: list[str] = []
    if pinned is not None and _COMMIT.fullmatch(asked) and asked != pinned.commit:
        # An explicit commit asked for wins; the lock's entry is about another one.
        notes.append(f"the lock pins {pinned.commit[:12]}, but {ref.origin} asks for commit {asked[:12]}: not pinned")
        pinned = None
    # A pinned commit wins over a branch name: the lock's bytes are the ones to check.
    target = pinned.commit if pinned is not None else asked
    api = HfApi(endpoint=settings.endpoint)
    where = f"{ref.repo_id}@{target}"
    with _hub_errors(model, ref, where):
        info = api.model_info(ref.repo_id, revision=target, files_metadata=True, timeout=options.read_timeout)
        commit = _checked_commit(getattr(info, "sha", None), where)
        files = {s.rfilename: s for s in (getattr(info, "siblings", None) or [])}
    names = [pinned.file] if pinned is not None else candidate_files(ref)
    name = next((n for n in names if n in files), None)
    if name is None:
        raise NotFoundError(
            f"{model}: the Hub repo {where} ({ref.origin}) has none of {', '.join(names)}",
            done="nothing was downloaded",
            todo=f"check the repo, or name another with --hub-repo {model}=ORG/NAME[@REV]",
        )
    expected_sha, expected_size = _lfs_identity(model, files[name], where, name)
    proof = ["hub-lfs-sha256"]
    moved: Optional[str] = None
    if pinned is not None:
        if (pinned.sha256, pinned.size) != (expected_sha, expected_size):
            raise HashMismatchError(
                f"{model}: the Hub's metadata for {ref.repo_id}@{commit} {name} gives SHA-256 {expected_sha} "
                f"({expected_size} bytes), but the lock file {lock.path if lock else ''} pins {pinned.sha256} "
                f"({pinned.size} bytes) for that commit",
                done="nothing was downloaded",
                cause="the endpoint is not the Hub the lock was written against, or the lock was edited by hand",
                todo=f"check HF_ENDPOINT; if the new file is expected, re-pin with `zoo lock --update {model}`",
                file_name=name,
            )
        proof.insert(0, "lock")
        if not _COMMIT.fullmatch(asked):
            moved = _branch_head(api, model, ref, asked, options, pinned.commit)
            if moved:
                notes.append(
                    f"the Hub's {asked} has moved to {moved[:12]}; the lock pins {pinned.commit[:12]}, which was "
                    f"checked (`zoo lock --update {model} --weights-source hub` moves the pin)"
                )
    _check_space(settings.cache_dir, expected_size, name)
    with _hub_errors(model, ref, f"{ref.repo_id}@{commit}"):
        path = Path(
            hf_hub_download(
                ref.repo_id, name, revision=commit, cache_dir=settings.cache_dir, endpoint=settings.endpoint,
                etag_timeout=options.connect_timeout, tqdm_class=_bounded_bar(expected_size, name, options.progress),
            )
        )
    sha, size = hash_file(path)
    origin = f"the Hub ({settings.endpoint}) {ref.repo_id}@{commit}"
    _check_bytes(model, name, path, settings, sha, size, expected_sha, expected_size,
                 why=f"by the Hub's LFS metadata for {ref.repo_id}@{commit} {name}", origin=origin)
    if not _COMMIT.fullmatch(asked) and pinned is None:
        _remember_ref(settings.cache_dir, ref.repo_id, asked, commit)
    hub = HubFile(ref.repo_id, asked, commit, name, sha, size, "+".join(proof), ref.origin, moved)
    url = hf_hub_url(ref.repo_id, name, revision=commit, endpoint=settings.endpoint)
    return _result(model, hub, path, _lock_status(lock, pinned), url, notes)


def _remember_ref(cache_dir: Path, repo_id: str, revision: str, commit: str) -> None:
    """Record ``revision -> commit`` in the Hub cache's ``refs/`` (its documented layout), so an
    offline run finds the file by branch name; zoo downloads by commit, which records no ref."""
    from huggingface_hub.file_download import repo_folder_name

    from zoo.atomic import write_atomic

    refs = cache_dir / repo_folder_name(repo_id=repo_id, repo_type="model") / "refs"
    target = refs / revision
    try:
        inside(cache_dir, target)
    except UnsafePathError:
        return  # a folder linked out of the cache: write nothing there
    try:
        # a damaged ref (not UTF-8) reads as something else and is written again
        if not target.is_file() or target.read_text(encoding="utf-8", errors="replace") != commit:
            write_atomic(target, commit.encode("ascii"))
    except OSError as exc:  # a read-only cache still serves; the next online run records it
        log.info("could not record %s@%s in the Hub cache: %s", repo_id, revision, exc)


def _from_cache(model: str, ref: HubRef, settings: HubSettings, options: FetchOptions,
                lock: Optional[WeightsLock]) -> FetchResult:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    pinned = _pinned(lock, ref)
    attempts = [(pinned.file, pinned.commit)] if pinned is not None else [
        (name, ref.revision or DEFAULT_REVISION) for name in candidate_files(ref)
    ]
    for name, revision in attempts:
        try:
            path = Path(hf_hub_download(ref.repo_id, name, revision=revision, cache_dir=settings.cache_dir,
                                        local_files_only=True))
        except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
            continue
        commit = path.parent.name if _COMMIT.fullmatch(path.parent.name) else revision
        sha, size = hash_file(path)
        origin = f"the Hub cache ({settings.cache_dir}) {ref.repo_id}@{commit}"
        if pinned is not None:
            _check_bytes(model, name, path, settings, sha, size, pinned.sha256, pinned.size,
                         why=f"pinned by the lock file for {ref.repo_id}@{pinned.commit} {name}", origin=origin)
            proof = "lock"
        else:
            _check_blob_name(model, name, path, settings, sha, size, origin)
            proof = "hub-cache-name"
        hub = HubFile(ref.repo_id, revision, commit, name, sha, size, proof, ref.origin)
        return _result(model, hub, path, _lock_status(lock, pinned), None, ["offline: from the Hub cache"])
    which = f"{ref.repo_id}@{pinned.commit} {pinned.file}" if pinned else f"{ref} ({' or '.join(candidate_files(ref))})"
    raise OfflineMissingError(
        f"{model}: {which} is not in the Hub cache ({settings.cache_dir}), and offline mode (--offline, "
        "ZOO_OFFLINE=1 or HF_HUB_OFFLINE=1) forbids downloading it",
        done="nothing was downloaded",
        todo=f"run `zoo fetch --source hub {model}` on a machine with network and copy its Hub cache "
        "(HF_HUB_CACHE, default ~/.cache/huggingface/hub) here, or drop --offline",
    )


def _check_blob_name(model: str, name: str, path: Path, settings: HubSettings, sha: str, size: int, origin: str) -> None:
    """Offline and unpinned: the blob's name in the Hub cache is the hash the Hub announced for it
    (the LFS SHA-256, or the git blob id of a file kept without LFS); the bytes must match it."""
    blob = path.resolve()
    inside = blob.is_relative_to(settings.cache_dir.resolve()) and blob.parent.name == "blobs"
    if inside and _SHA256.fullmatch(blob.name):
        _check_bytes(model, name, path, settings, sha, size, blob.name, None,
                     why="by its blob name in the Hub cache (the LFS SHA-256 the Hub announced)", origin=origin)
        return
    if inside and _COMMIT.fullmatch(blob.name):
        git_id = _git_blob_id(path)
        if git_id == blob.name:
            return
        _check_bytes(model, name, path, settings, git_id, size, blob.name, None,
                     why="as git blob id by its blob name in the Hub cache", origin=origin)
    raise HashMismatchError(
        f"{model}: {name} from {origin} links to {blob}, which is not a blob named by its hash in the Hub "
        "cache, so nothing proves its bytes",
        done=_discard(path, settings.cache_dir),
        cause="the Hub cache was altered by hand or by another program",
        todo=f"fetch it again online (`zoo fetch --source hub {model}`), or pin it with `zoo lock --source hub {model}`",
        file_name=name,
    )


def _git_blob_id(path: Path) -> str:
    """The git object id of a file (SHA-1 of ``blob <size>\0`` and the bytes), as the Hub names non-LFS files."""
    import hashlib

    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _result(model: str, hub: HubFile, path: Path, lock_status: str, url: Optional[str], notes: list[str]) -> FetchResult:
    return FetchResult(
        model=model, file_name=hub.filename, path=path, source=f"hub {hub.repo_id}@{hub.commit[:12]}",
        sha256=hub.sha256, size=hub.size, verified_by=hub.proof, lock_status=lock_status, url=url,
        notes=tuple(notes), hub=hub,
    )


def _branch_head(api: Any, model: str, ref: HubRef, revision: str, options: FetchOptions, pinned: str) -> Optional[str]:
    """The commit ``revision`` points at now, when it is not the pinned one (best effort)."""
    try:
        with _hub_errors(model, ref, f"{ref.repo_id}@{revision}"):
            head = _checked_commit(getattr(api.model_info(ref.repo_id, revision=revision, timeout=options.read_timeout),
                                           "sha", None), f"{ref.repo_id}@{revision}")
    except WeightsError as err:
        log.info("%s: could not tell where %s points now: %s", model, revision, err)
        return None
    return head if head != pinned else None


def _checked_commit(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _COMMIT.fullmatch(value):
        raise UnreachableError(
            f"the Hub's answer for {where} names no commit (got {str(value)[:60]!r})",
            done="nothing was downloaded",
            cause="HF_ENDPOINT points at something that is not a Hub-compatible server",
            todo="check HF_ENDPOINT",
        )
    return value


def _lfs_identity(model: str, sibling: Any, where: str, name: str) -> tuple[str, int]:
    lfs = getattr(sibling, "lfs", None) or {}
    sha = str(lfs.get("sha256", "")).lower() if isinstance(lfs, dict) else ""
    size = lfs.get("size") if isinstance(lfs, dict) else None
    if not _SHA256.fullmatch(sha) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise HashMismatchError(
            f"{model}: the Hub gives no LFS SHA-256 and size for {where} {name}, so nothing independent "
            "could prove the downloaded bytes",
            done="nothing was downloaded",
            cause="the file is not stored with LFS, or the endpoint is not the Hub",
            todo=f"use the card's file (--weights-source card) or pass a local file with --weights {model}=PATH",
            file_name=name,
        )
    return sha, size


def _check_bytes(model: str, name: str, path: Path, settings: HubSettings, sha: str, size: int,
                 expected_sha: str, expected_size: Optional[int], *, why: str, origin: str) -> None:
    """Raise (after deleting the file from the Hub cache) unless the bytes are the expected ones."""
    if sha == expected_sha and (expected_size is None or size == expected_size):
        return
    done = _discard(path, settings.cache_dir)
    if sha != expected_sha:
        raise HashMismatchError(
            f"{model}: {name} from {origin} has SHA-256 {sha} ({size} bytes), expected {expected_sha} {why}",
            done=done,
            cause="the server or a proxy served other bytes than the Hub's metadata names, or the cache was altered",
            todo="fetch it again; if it happens again, check HF_ENDPOINT and any proxy",
            file_name=name,
        )
    raise SizeMismatchError(
        f"{model}: {name} from {origin} is {size} bytes, expected {expected_size} {why}",
        done=done, todo="fetch it again", file_name=name,
    )


def _discard(path: Path, cache_dir: Path) -> str:
    """Delete a rejected file (its snapshot link and the blob it points at), only inside the Hub cache."""
    link = Path(os.path.abspath(path))
    try:
        blob = path.resolve()
        removed = 0
        for candidate in (link, blob):
            try:
                owned = inside(cache_dir, candidate)
            except UnsafePathError:
                continue
            if owned.is_symlink() or owned.exists():
                owned.unlink()
                removed += 1
    except OSError as exc:
        return f"the rejected file could not be deleted from the Hub cache ({exc.strerror or exc})"
    return "the rejected file was deleted from the Hub cache" if removed else "nothing was kept"


def _check_space(cache_dir: Path, size: int, name: str) -> None:
    from zoo.weights.cache import no_space_error

    folder = cache_dir
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if size > free:
        raise no_space_error(name, cache_dir, needed=size, done="nothing was downloaded")


# --------------------------------------------------------------------------- guarding the library


class _HubAnswerRefused(Exception):
    """Raised inside huggingface_hub's HTTP client for an answer zoo will not let it act on."""


class _Oversize(Exception):
    """A download sent more bytes than the Hub's file list announced."""


def _bounded_bar(limit: int, name: str, show: bool) -> type:
    """A progress bar class for ``hf_hub_download`` that also stops a body longer than ``limit``.

    huggingface_hub checks the length only after the whole body arrived; a server streaming
    without end would fill the disk first. Its progress hook sees every chunk before it is written.
    """

    class BoundedBar(tqdm):
        # huggingface_hub asks for a tqdm class; tqdm itself stays silent and the bytes go to
        # zoo's one progress channel (bars on a terminal, lines when piped, nothing with -q).
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs.update(file=sys.stderr, disable=True, leave=False, desc=name)
            super().__init__(*args, **kwargs)
            self.received = int(kwargs.get("initial") or 0)
            self._task = progress.task(f"download {name}", total=kwargs.get("total"), unit="B",
                                       initial=self.received, enabled=show)

        def update(self, n: float = 1) -> Optional[bool]:
            self.received += int(n)
            if self.received > limit:
                raise _Oversize(f"the server sent more than the {limit} bytes the Hub's file list announced for {name}")
            self._task.update(n)
            return super().update(n)

        def close(self) -> None:
            task = getattr(self, "_task", None)
            if task is not None:
                task.close()
            super().close()

    return BoundedBar


def _check_answer(response: Any) -> None:
    """Response hook: the commit and ETag of a file's metadata become cache paths; refuse odd ones."""
    request = getattr(response, "request", None)
    if request is None or request.method != "HEAD" or "/resolve/" not in str(request.url.path):
        return
    headers = response.headers
    commit = headers.get("X-Repo-Commit")
    if commit is not None and not _COMMIT.fullmatch(commit):
        raise _HubAnswerRefused(f"the server's X-Repo-Commit {commit[:80]!r} is not a 40-hex commit")
    etag = headers.get("X-Linked-Etag") or headers.get("ETag")
    if etag is not None:
        plain = etag.strip()
        plain = plain[2:] if plain.startswith("W/") else plain
        plain = plain.strip('"')
        if not _SAFE_ETAG.fullmatch(plain):
            raise _HubAnswerRefused(f"the server's ETag {etag[:80]!r} could name a path outside the Hub cache")


_GUARDED = False


def _guard_hub_answers() -> None:
    """Install :func:`_check_answer` in huggingface_hub's HTTP client (once per process).

    ``set_client_factory`` is the library's way to configure its client; the default factory is
    kept (offline blocking, request ids) and only the response hook is added.
    """
    global _GUARDED
    if _GUARDED:
        return
    from huggingface_hub.utils import _http, set_client_factory

    base = _http.default_client_factory

    def factory() -> Any:
        client = base()
        client.event_hooks["response"].append(_check_answer)
        return client

    set_client_factory(factory)
    _GUARDED = True


class _hub_errors:
    """Turn huggingface_hub and transport errors into zoo's weights errors, naming the repo."""

    def __init__(self, model: str, ref: HubRef, where: str) -> None:
        self.model, self.ref, self.where = model, ref, where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Optional[BaseException], tb: Any) -> bool:
        if exc is None or isinstance(exc, (WeightsError, KeyboardInterrupt)) or not isinstance(exc, Exception):
            return False
        raise _translate(exc, self.model, self.ref, self.where) from exc


def _translate(exc: Exception, model: str, ref: HubRef, where: str) -> WeightsError:
    import httpx2
    from huggingface_hub import errors as hf

    who = f"{model}: {where} ({ref.origin})" if ref.origin else f"{model}: {where}"
    todo_other = f"name another repo with --hub-repo {model}=ORG/NAME[@REV], or use --weights-source card"
    if isinstance(exc, _Oversize):
        return SizeMismatchError(f"{who}: {exc}", done="the download was stopped and deleted",
                                 cause="a misbehaving server or proxy", todo="check HF_ENDPOINT and any proxy")
    if isinstance(exc, _HubAnswerRefused):
        return UnreachableError(f"{who}: refused the server's answer: {exc}", done="nothing was written",
                                cause="HF_ENDPOINT points at a server that is not the Hub, or a tampering proxy",
                                todo="check HF_ENDPOINT and any proxy")
    if isinstance(exc, hf.GatedRepoError) or (isinstance(exc, hf.HfHubHTTPError) and _status(exc) in (401, 403)):
        return HTTPStatusError(f"{who}: the Hub refused access ({_status(exc)})", done="nothing was downloaded",
                               cause="a gated or private repo, or a missing or wrong token",
                               todo="set HF_TOKEN to a token with access, or " + todo_other)
    if isinstance(exc, (hf.RepositoryNotFoundError, hf.RevisionNotFoundError, hf.RemoteEntryNotFoundError)):
        what = {hf.RevisionNotFoundError: "revision", hf.RemoteEntryNotFoundError: "file"}.get(type(exc), "repo")
        return NotFoundError(f"{who}: the Hub has no such {what}", done="nothing was downloaded", todo=todo_other)
    if isinstance(exc, (hf.OfflineModeIsEnabled,)):
        return OfflineMissingError(f"{who}: huggingface_hub is in offline mode (HF_HUB_OFFLINE)",
                                   done="nothing was downloaded", todo="unset HF_HUB_OFFLINE, or fill the Hub cache")
    if isinstance(exc, (httpx2.TimeoutException,)):
        return UnreachableError(f"{who}: the Hub did not answer in time ({_root(exc)})", done="nothing was kept",
                                cause="a slow or stalled server or network", todo="run again later, or use --offline with a filled Hub cache")
    if isinstance(exc, (httpx2.HTTPError, hf.LocalEntryNotFoundError, hf.FileMetadataError, ConnectionError)):
        return UnreachableError(f"{who}: the Hub could not be reached or answered badly ({_root(exc)})",
                                done="nothing was kept", cause="no network, a proxy or firewall, or HF_ENDPOINT is wrong",
                                todo="check the network and HF_ENDPOINT; offline, fill the Hub cache with `zoo fetch --source hub` elsewhere")
    if isinstance(exc, hf.HfHubHTTPError):
        return HTTPStatusError(f"{who}: the Hub answered {_status(exc)}", done="nothing was downloaded", todo=todo_other)
    if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)):
        return UnreachableError(f"{who}: the Hub's answer is not what huggingface_hub expects ({type(exc).__name__}: {_root(exc)})",
                                done="nothing was kept", cause="HF_ENDPOINT points at a server that is not the Hub",
                                todo="check HF_ENDPOINT")
    if isinstance(exc, OSError):
        return UnreachableError(f"{who}: {exc}", done="nothing was kept", todo="check the Hub cache folder and the network")
    raise exc


def _status(exc: Exception) -> Optional[int]:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _root(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


guard_hub_answers = _guard_hub_answers
"""Install zoo's checks of every Hub answer in huggingface_hub's client (for other Hub reads: model cards)."""
hub_errors = _hub_errors
"""Turn huggingface_hub's errors into zoo's, naming the repo (for other Hub reads: model cards)."""
remember_ref = _remember_ref
"""Record ``revision -> commit`` in the Hub cache, so an offline run finds a file by branch name."""

__all__ = [
    "CARD_KEY",
    "HubFile",
    "HubRef",
    "HubRefError",
    "HubSettings",
    "candidate_files",
    "fetch_hub",
    "guard_hub_answers",
    "hub_errors",
    "hub_ref_for",
    "lock_key",
    "parse_hub_ref",
    "remember_ref",
]
