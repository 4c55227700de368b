"""Fetching a model's file from the Hugging Face Hub: the file timm itself loads, proven by the Hub's own hash.

Online, the repo's file list at the revision (``HfApi.model_info`` with file metadata) names the
commit and each LFS file's SHA-256 and size; ``hf_hub_download`` fetches the file at that very
commit into huggingface_hub's own cache (shared with timm, never copied into zoo's); zoo hashes
the bytes and compares them with the Hub's hash, which came in another answer than the bytes.
A lock file entry (repo + commit + file + SHA-256 + size) pins the commit, so a later run checks
the same bytes even when the repo's branch moved on (and says that it moved).

Offline (``--offline``, ``ZOO_OFFLINE=1``, ``HF_HUB_OFFLINE=1``) the file must be in the Hub
cache: it is proven by the lock entry, else by its blob name in the cache (the LFS SHA-256 the
Hub announced when it was downloaded).

Every Hub answer is untrusted: :mod:`zoo.weights.hub.guard` checks them inside huggingface_hub's
client and holds every transfer to zoo's stall rule; bytes that fail the hash are deleted from
the Hub cache. Failures are named in zoo's one vocabulary (:mod:`zoo.weights.failures`).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Optional

from zoo import progress
from zoo.paths import UnsafePathError, inside
from zoo.records import ModelCard
from zoo.weights.errors import (
    HashMismatchError,
    NotFoundError,
    OfflineMissingError,
    SizeMismatchError,
    TimedOutError,
    UnreachableError,
    WeightsError,
)
from zoo.weights.failures import classify, to_error
from zoo.weights.hub.guard import SilentBar, Transfer, transfer
from zoo.weights.hub.refs import (
    CARD_KEY,
    COMMIT,
    DEFAULT_REVISION,
    SHA256,
    HubRef,
    HubSettings,
    candidate_files,
    hub_ref_for,
)
from zoo.weights.integrity import hash_file
from zoo.weights.lockfile import LockEntry, WeightsLock, load_lock
from zoo.weights.options import FetchOptions
from zoo.weights.results import FetchResult, HubFile, hub_lock_key
from zoo.weights.stall import answer_timeout

log = logging.getLogger(__name__)


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
    with transfer(options, card.name) as state:  # every answer checked, every transfer under the stall rule
        if settings.offline:
            return _from_cache(card.name, ref, settings, options, lock)
        return _from_hub(card.name, ref, settings, options, lock, state)


def _pinned(lock: Optional[WeightsLock], ref: HubRef) -> Optional[LockEntry]:
    if lock is None:
        return None
    for name in candidate_files(ref):
        entry = lock.get(hub_lock_key(ref.repo_id, name))
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
              lock: Optional[WeightsLock], state: Transfer) -> FetchResult:
    from huggingface_hub import HfApi, hf_hub_url

    pinned = _pinned(lock, ref)
    asked = ref.revision or DEFAULT_REVISION
    notes: list[str] = []
    if pinned is not None and COMMIT.fullmatch(asked) and asked != pinned.commit:
        # An explicit commit asked for wins; the lock's entry is about another one.
        notes.append(f"the lock pins {pinned.commit[:12]}, but {ref.origin} asks for commit {asked[:12]}: not pinned")
        pinned = None
    # A pinned commit wins over a branch name: the lock's bytes are the ones to check.
    target = pinned.commit if pinned is not None else asked
    api = HfApi(endpoint=settings.endpoint)
    where = f"{ref.repo_id}@{target}"
    with hub_errors(model, ref, where, timeout=answer_timeout(options)):
        info = api.model_info(ref.repo_id, revision=target, files_metadata=True, timeout=answer_timeout(options))
        commit = checked_commit(getattr(info, "sha", None), where)
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
        if not COMMIT.fullmatch(asked):
            moved = _branch_head(api, model, ref, asked, options, pinned.commit)
            if moved:
                notes.append(
                    f"the Hub's {asked} has moved to {moved[:12]}; the lock pins {pinned.commit[:12]}, which was "
                    f"checked (`zoo lock --update {model} --weights-source hub` moves the pin)"
                )
    _check_space(settings.cache_dir, expected_size, name)
    state.name, state.limit = name, expected_size
    path = _download(model, ref, name, commit, settings, options, notes)
    sha, size = hash_file(path)
    origin = f"the Hub ({settings.endpoint}) {ref.repo_id}@{commit}"
    _check_bytes(model, name, path, settings, sha, size, expected_sha, expected_size,
                 why=f"by the Hub's LFS metadata for {ref.repo_id}@{commit} {name}", origin=origin)
    if not COMMIT.fullmatch(asked) and pinned is None:
        remember_ref(settings.cache_dir, ref.repo_id, asked, commit)
    hub = HubFile(ref.repo_id, asked, commit, name, sha, size, "+".join(proof), ref.origin, moved)
    url = hf_hub_url(ref.repo_id, name, revision=commit, endpoint=settings.endpoint)
    return _result(model, hub, path, _lock_status(lock, pinned), url, notes)


def _download(model: str, ref: HubRef, name: str, commit: str, settings: HubSettings, options: FetchOptions,
              notes: list[str]) -> Path:
    """``hf_hub_download`` of ``name`` at ``commit``, tried again (from the start: huggingface_hub keeps no
    partial file) when the stall rule stopped it, as the card's path retries a stalled download."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.file_download import repo_folder_name

    where = f"{ref.repo_id}@{commit}"
    for attempt in range(options.retries + 1):
        try:
            with hub_errors(model, ref, where, timeout=answer_timeout(options), attempts=attempt + 1):
                path = Path(hf_hub_download(
                    ref.repo_id, name, revision=commit, cache_dir=settings.cache_dir, endpoint=settings.endpoint,
                    etag_timeout=options.connect_timeout, tqdm_class=SilentBar,
                ))
            break
        except TimedOutError as err:
            if attempt == options.retries:
                raise
            wait = min(options.backoff * 2**attempt, options.max_backoff)
            progress.note(f"zoo: {model}: {err.happened}; retry {attempt + 1} of {options.retries} in {wait:.1f} s")
            notes.append(f"attempt {attempt + 1}: {err.happened}")
            time.sleep(wait)
    # huggingface_hub files the bytes under the commit its HEAD answer named; the guard refuses one
    # that names another, and this makes sure of it: the record names the snapshot the file is in.
    expected = settings.cache_dir / repo_folder_name(repo_id=ref.repo_id, repo_type="model") / "snapshots" / commit / name
    if os.path.normpath(os.path.abspath(path)) != os.path.normpath(os.path.abspath(expected)):
        raise UnreachableError(
            f"{model}: {where} {name} was filed by huggingface_hub at {path}, not under commit {commit}",
            done=_discard(path, settings.cache_dir), cause="the Hub's answers named two commits",
            todo="fetch it again; if it happens again, check HF_ENDPOINT and any proxy", file_name=name,
        )
    return path


def remember_ref(cache_dir: Path, repo_id: str, revision: str, commit: str) -> None:
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
        commit = path.parent.name if COMMIT.fullmatch(path.parent.name) else revision
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
    set_by, leave = (options.offline_set_by(), options.going_online()) if options.offline else ("$HF_HUB_OFFLINE", "unset HF_HUB_OFFLINE")
    raise OfflineMissingError(
        f"{model}: {which} is not in the Hub cache ({settings.cache_dir}), and offline mode (set by {set_by}) "
        "forbids downloading it",
        done="nothing was downloaded",
        todo=f"run `zoo fetch --source hub {model}` on a machine with network and copy its Hub cache "
        f"(HF_HUB_CACHE, default ~/.cache/huggingface/hub) here, or {leave}",
    )


def _check_blob_name(model: str, name: str, path: Path, settings: HubSettings, sha: str, size: int, origin: str) -> None:
    """Offline and unpinned: the blob's name in the Hub cache is the hash the Hub announced for it
    (the LFS SHA-256, or the git blob id of a file kept without LFS); the bytes must match it."""
    blob = path.resolve()
    inside = blob.is_relative_to(settings.cache_dir.resolve()) and blob.parent.name == "blobs"
    if inside and SHA256.fullmatch(blob.name):
        _check_bytes(model, name, path, settings, sha, size, blob.name, None,
                     why="by its blob name in the Hub cache (the LFS SHA-256 the Hub announced)", origin=origin)
        return
    if inside and COMMIT.fullmatch(blob.name):
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
        with hub_errors(model, ref, f"{ref.repo_id}@{revision}", timeout=answer_timeout(options)):
            head = checked_commit(getattr(api.model_info(ref.repo_id, revision=revision, timeout=answer_timeout(options)),
                                           "sha", None), f"{ref.repo_id}@{revision}")
    except WeightsError as err:
        log.info("%s: could not tell where %s points now: %s", model, revision, err)
        return None
    return head if head != pinned else None


def checked_commit(value: Any, where: str) -> str:
    """The 40-hex commit a Hub answer names, or :class:`UnreachableError` (every Hub read: weights, model cards)."""
    if not isinstance(value, str) or not COMMIT.fullmatch(value):
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
    if not SHA256.fullmatch(sha) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
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


class hub_errors:
    """Turn what huggingface_hub and its transport raise into zoo's weights errors, naming the repo
    (through the one vocabulary, :func:`zoo.weights.failures.classify`)."""

    def __init__(self, model: str, ref: HubRef, where: str, *, timeout: float = 0.0, attempts: int = 0) -> None:
        self.model, self.ref, self.where, self.timeout, self.attempts = model, ref, where, timeout, attempts

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Optional[BaseException], tb: Any) -> bool:
        if exc is None or isinstance(exc, (WeightsError, KeyboardInterrupt)) or not isinstance(exc, Exception):
            return False
        failure = classify(exc, read_timeout=self.timeout)
        if failure is None:
            return False  # not a transfer failure: a bug, with its traceback
        model = self.model
        who = f"{model}: {self.where} ({self.ref.origin})" if self.ref.origin else f"{model}: {self.where}"
        other = f"name another repo with --hub-repo {model}=ORG/NAME[@REV], or use --weights-source card"
        todo = {
            "not-found": other, "http-status": other, "denied": "set HF_TOKEN to a token with access, or " + other,
            "offline": "unset HF_HUB_OFFLINE, or fill the Hub cache",
            "timeout": "run again later, or use --offline with a filled Hub cache",
            "stalled": "run again later, or use --offline with a filled Hub cache",
            "connect": "check the network and HF_ENDPOINT; offline, fill the Hub cache with `zoo fetch --source hub` elsewhere",
            "status": "run again later; offline, fill the Hub cache with `zoo fetch --source hub` elsewhere",
        }.get(failure.kind, "check HF_ENDPOINT and any proxy")
        done = {"not-found": "nothing was downloaded", "denied": "nothing was downloaded",
                "oversize": "the download was stopped and deleted"}.get(failure.kind, "nothing was kept")
        attempts = self.attempts if failure.kind in ("stalled", "timeout") and self.attempts > 1 else 0
        raise to_error(failure, who, done=done, todo=todo, attempts=attempts) from exc


__all__ = ["checked_commit", "fetch_hub", "hub_errors", "remember_ref"]
