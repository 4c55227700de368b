"""Proving bytes are the right ones: the hash prefix in the file name, the lock file's
pinned SHA-256 and size, and the card's File Size when nothing else proves identity.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional

from zoo.weights.errors import HashMismatchError, SizeMismatchError, TruncatedError

_NAME_HASH = re.compile(r"[-_]([0-9a-fA-F]{8,64})\.[^-_]+$")
_READ_CHUNK = 1 << 20


def hash_prefix_from_name(file_name: str) -> Optional[str]:
    """The SHA-256 prefix a file name carries, torch.hub style, lower case; else ``None``.

    The hex run after the last ``-`` or ``_`` and before the extension counts when it is
    8 to 64 hex digits long.

    >>> hash_prefix_from_name("mobilenetv2_100_ra-b33bc2c4.pth")
    'b33bc2c4'
    >>> hash_prefix_from_name("model_best.pth.tar") is None
    True
    """
    match = _NAME_HASH.search(file_name)
    return match.group(1).lower() if match else None


def hash_stream(stream: BinaryIO, limit: Optional[int] = None) -> tuple["hashlib._Hash", int]:
    """A SHA-256 hasher fed with ``stream`` (up to ``limit`` bytes) and the byte count."""
    hasher = hashlib.sha256()
    count = 0
    while limit is None or count < limit:
        want = _READ_CHUNK if limit is None else min(_READ_CHUNK, limit - count)
        chunk = stream.read(want)
        if not chunk:
            break
        hasher.update(chunk)
        count += len(chunk)
    return hasher, count


class BackgroundHasher:
    """SHA-256 computed on a worker thread, fed chunks in order.

    hashlib releases the GIL while hashing large buffers, so the digest of a download
    is computed alongside the network reads and disk writes instead of after each of
    them (on this kind of machine SHA-256 runs at about the speed of a loopback
    transfer, so hashing inline would halve the throughput). Memory stays bounded: at
    most ``depth`` chunks wait.
    """

    _DONE = object()

    def __init__(self, start: Optional["hashlib._Hash"] = None, depth: int = 16) -> None:
        self._hasher = start or hashlib.sha256()
        self._queue: "queue.Queue[object]" = queue.Queue(maxsize=depth)
        self._digest: Optional[str] = None
        self._thread = threading.Thread(target=self._run, name="zoo-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is self._DONE:
                return
            self._hasher.update(chunk)  # type: ignore[arg-type]

    def update(self, chunk: bytes) -> None:
        if self._digest is not None:
            raise RuntimeError("hasher already finished")
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        """Wait for every chunk fed so far, then the hex digest (the thread ends)."""
        if self._digest is None:
            self._queue.put(self._DONE)
            self._thread.join()
            self._digest = self._hasher.hexdigest()
        return self._digest

    def stop(self) -> None:
        """End the worker thread (the digest is computed and kept)."""
        self.hexdigest()


def hash_file(path: Path) -> tuple[str, int]:
    """``(sha256 hex, size)`` of a file on disk, read once."""
    with open(path, "rb") as stream:
        hasher, size = hash_stream(stream)
    return hasher.hexdigest(), size


def human_bytes(count: float) -> str:
    """``14202571`` -> ``'13.5 MiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Expectation:
    """What the bytes of one weights file must be, and what says so."""

    file_name: str
    name_prefix: Optional[str] = None
    """SHA-256 prefix carried by the file name."""
    locked_sha256: Optional[str] = None
    """Full SHA-256 pinned in the lock file."""
    locked_size: Optional[int] = None
    """Byte size pinned in the lock file."""
    claimed_size: Optional[int] = None
    """The card's File Size claim; enforced only when nothing else proves identity."""
    lock_path: Optional[str] = None
    model: Optional[str] = None

    @classmethod
    def for_file(
        cls,
        file_name: str,
        *,
        claimed_size: Optional[int] = None,
        locked_sha256: Optional[str] = None,
        locked_size: Optional[int] = None,
        lock_path: Optional[str] = None,
        model: Optional[str] = None,
    ) -> "Expectation":
        return cls(
            file_name=file_name,
            name_prefix=hash_prefix_from_name(file_name),
            locked_sha256=locked_sha256,
            locked_size=locked_size,
            claimed_size=claimed_size,
            lock_path=lock_path,
            model=model,
        )

    @property
    def identity_proven(self) -> bool:
        """Whether a hash (file name or lock) proves which bytes are right."""
        return bool(self.name_prefix or self.locked_sha256)

    @property
    def enforced_size(self) -> Optional[int]:
        """The size the bytes must have: the pinned one, else the claim if nothing else proves them."""
        if self.locked_size is not None:
            return self.locked_size
        return None if self.identity_proven else self.claimed_size

    def verified_by(self) -> str:
        """Which checks prove these bytes, e.g. ``"lock+name-hash"``; ``""`` if none."""
        parts = []
        if self.locked_sha256:
            parts.append("lock")
        if self.name_prefix:
            parts.append("name-hash")
        if not parts and self.claimed_size is not None:
            parts.append("file-size-claim")
        return "+".join(parts)

    def check(self, sha256: str, size: int, *, origin: str, length_confirmed: bool = True) -> None:
        """Raise the matching error if ``sha256``/``size`` are not the expected bytes.

        ``origin`` names where the bytes came from, for the message. The caller adds
        what it did with the bytes (:meth:`WeightsError.amended`). ``length_confirmed``
        is False when a server sent no length, so bytes short of the expected size read
        as a cut-short transfer rather than another file.
        """
        who = f"{self.model}: " if self.model else ""
        short = not length_confirmed and self.enforced_size is not None and size < self.enforced_size
        claim_short = not length_confirmed and self.claimed_size is not None and size < self.claimed_size
        lock_note = f"the lock file {self.lock_path}" if self.lock_path else "the lock file"

        if self.locked_size is not None and size != self.locked_size:
            self._raise_size(who, size, self.locked_size, f"pinned by {lock_note}", origin, short)
        if self.locked_sha256 and sha256 != self.locked_sha256:
            raise self._hash_error(
                who, sha256, size, self.locked_sha256, f"pinned by {lock_note}", origin, claim_short,
                cause="the file changed upstream since `zoo lock` pinned it, or a wrong mirror served "
                "another file",
                todo=f"if the new file is expected, re-pin it with `zoo lock --update {self.model or 'MODEL'}` "
                "and review the change to the lock file",
            )
        if self.name_prefix and not sha256.startswith(self.name_prefix):
            raise self._hash_error(
                who, sha256, size, f"{self.name_prefix}...", "by the hash in its file name", origin,
                claim_short,
                cause="a wrong mirror or a proxy served other bytes, the transfer was corrupted, or "
                "the file was replaced upstream under the same name",
                todo="try again without --mirror, or check the mirror's copy",
            )
        enforced = self.enforced_size
        if enforced is not None and size != enforced and self.locked_size is None:
            self._raise_size(who, size, enforced, "claimed as File Size by the card", origin, short)

    def _raise_size(
        self, who: str, size: int, expected: int, why: str, origin: str, short: bool
    ) -> None:
        happened = (
            f"{who}{self.file_name} from {origin} is {size} bytes ({human_bytes(size)}), "
            f"expected {expected} bytes {why}"
        )
        if short:
            raise TruncatedError(
                happened,
                cause=f"the transfer was cut short ({expected - size} bytes missing)",
                todo="fetch it again; an interrupted download resumes where it stopped",
                file_name=self.file_name,
            )
        raise SizeMismatchError(
            happened,
            cause="the file changed upstream, a wrong mirror served another file, or the card's "
            "File Size is wrong",
            todo="check the mirror and the card; if the bytes are right and the card is wrong, fix "
            "the card's File Size",
            file_name=self.file_name,
        )

    def _hash_error(
        self,
        who: str,
        sha256: str,
        size: int,
        expected: str,
        why: str,
        origin: str,
        claim_short: bool,
        *,
        cause: str,
        todo: str,
    ) -> HashMismatchError | TruncatedError:
        happened = (
            f"{who}{self.file_name} from {origin} has SHA-256 {sha256} ({size} bytes), "
            f"expected {expected} {why}"
        )
        if claim_short:
            return TruncatedError(
                happened,
                cause=f"the transfer was cut short: {size} of the {self.claimed_size} bytes the card "
                "claims arrived",
                todo="fetch it again; an interrupted download resumes where it stopped",
                file_name=self.file_name,
            )
        return HashMismatchError(happened, cause=cause, todo=todo, file_name=self.file_name)


__all__ = ["BackgroundHasher", "Expectation", "hash_file", "hash_prefix_from_name", "hash_stream", "human_bytes"]
