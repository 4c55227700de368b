"""Errors for getting, proving and loading weights; each one says what happened,
what was done about it, the likely cause and what to do next.

Every class is a :class:`zoo.errors.ZooError`. Failures to *get* or *prove* the
bytes exit with code 3 (incomplete: a measurement could not be made); a checkpoint
that is unsafe or does not fit the architecture is bad input for that model.
"""

from __future__ import annotations

from typing import Optional

from zoo.errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, InputError, ZooError


class WeightsError(ZooError):
    """Base class. The message is built from four parts, each optional but the first."""

    what = "failed"
    """In a few words, for one-line summaries."""

    exit_code = EXIT_INCOMPLETE

    def __init__(
        self,
        happened: str,
        *,
        done: Optional[str] = None,
        cause: Optional[str] = None,
        todo: Optional[str] = None,
        file_name: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        self.happened = happened
        self.done = done
        self.cause = cause
        self.todo = todo
        self.file_name = file_name
        self.url = url
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.happened.rstrip(".") + "."
        if self.done:
            text += f" {_sentence(self.done)}"
        if self.cause:
            text += f" Likely cause: {self.cause.rstrip('.')}."
        if self.todo:
            text += f" {_sentence(self.todo)}"
        return text

    def amended(
        self, *, done: Optional[str] = None, also: Optional[str] = None, cause: Optional[str] = None,
        todo: Optional[str] = None,
    ) -> "WeightsError":
        """A copy (same class) that also says what was done, and/or one more sentence to act on;
        ``cause`` and ``todo`` replace the likely cause and what to do (the caller knows better)."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if done:
            clone.done = done
        if cause:
            clone.cause = cause
        if todo:
            clone.todo = todo
        if also:
            clone.todo = f"{clone.todo.rstrip('.')}. {also}" if clone.todo else also
        Exception.__init__(clone, clone._render())
        return clone


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


class NotFoundError(WeightsError):
    """The server answered 404 or 410, or a local file/mirror does not hold the file."""

    what = "not found"


class UnreachableError(WeightsError):
    """The host could not be reached: refused, DNS failure, reset, 5xx after every retry."""

    what = "unreachable"


class TimedOutError(UnreachableError):
    """The host accepted the connection but sent nothing for longer than the read timeout."""

    what = "timed out"


class TLSError(WeightsError):
    """The TLS handshake or certificate check failed (never retried)."""

    what = "TLS check failed"


class HTTPStatusError(WeightsError):
    """The server refused the request for a reason other than not found (401, 403, ...)."""

    what = "refused by the server"


class TruncatedError(WeightsError):
    """Fewer bytes arrived than the server announced or the file is known to have."""

    what = "cut short"


class HashMismatchError(WeightsError):
    """The SHA-256 of the bytes is not the one the file name or the lock file pins."""

    what = "SHA-256 differs"


class SizeMismatchError(WeightsError):
    """The byte size is not the one the lock file pins or the card claims."""

    what = "wrong size"


class UnverifiableError(WeightsError):
    """Nothing proves the bytes complete: no length or end marker from the server, and no
    hash or size to check them against (so they are neither kept nor pinned)."""

    what = "unverifiable"


class NoSpaceError(WeightsError):
    """The cache's disk is full."""

    what = "disk full"


class CacheError(WeightsError):
    """The cache folder cannot be created or written (permissions, read-only disk)."""

    what = "cache not writable"


class OfflineMissingError(WeightsError):
    """Offline mode is on and neither the cache nor a mirror holds the file."""

    what = "missing offline"


class UnsafeCheckpointError(WeightsError):
    """The checkpoint needs arbitrary unpickling; it was refused and never executed."""

    what = "unsafe checkpoint refused"

    exit_code = EXIT_BAD_INPUT


class CheckpointReadError(WeightsError):
    """The file is not a readable PyTorch checkpoint, or holds no state dict."""

    what = "unreadable checkpoint"

    exit_code = EXIT_BAD_INPUT


class BadSourceError(WeightsError):
    """The card's Weights names no usable file: a name that is not a plain file name
    (``..``, a separator, a control character), or a URL that is not http(s)."""

    what = "bad Weights URL"

    exit_code = EXIT_BAD_INPUT


class LockFileError(WeightsError, InputError):
    """The lock file cannot be used: unreadable, not YAML, or an entry that is malformed or names a
    path outside its repo or folder. Bad input (exit 2), named by file and line; it is an
    :class:`~zoo.errors.InputError` too, for callers that read the lock file outside a fetch."""

    exit_code = EXIT_BAD_INPUT


class CheckpointFitError(WeightsError):
    """The state dict does not fit the built architecture (names or shapes)."""

    what = "does not fit the model"

    exit_code = EXIT_BAD_INPUT


__all__ = [
    "BadSourceError",
    "CacheError",
    "CheckpointFitError",
    "CheckpointReadError",
    "HTTPStatusError",
    "HashMismatchError",
    "LockFileError",
    "NoSpaceError",
    "NotFoundError",
    "OfflineMissingError",
    "SizeMismatchError",
    "TLSError",
    "TimedOutError",
    "TruncatedError",
    "UnreachableError",
    "UnsafeCheckpointError",
    "UnverifiableError",
    "WeightsError",
]
