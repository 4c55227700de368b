"""Errors meant for people, each carrying the exit code the command line should use."""

from __future__ import annotations

from typing import Optional

from zoo.records import SourceRef

EXIT_OK = 0
"""Every checked claim passes or is waived."""
EXIT_DRIFT = 1
"""At least one gating claim drifted beyond its tolerance."""
EXIT_BAD_INPUT = 2
"""Bad usage or bad input: unreadable index, unknown model, bad option."""
EXIT_INCOMPLETE = 3
"""A measurement that was asked for could not be made, and nothing drifted."""
EXIT_INTERNAL = 4
"""zoo itself failed: a bug, never a verdict."""


class ZooError(Exception):
    """Base class: an error zoo explains; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_BAD_INPUT


class InputError(ZooError):
    """Bad input (index file, tolerances, run record, option), optionally with its place.

    The message reads ``file:line[:column]: [model: ][field: ]what happened. what to do``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: Optional[SourceRef] = None,
        column: Optional[int] = None,
        model: Optional[str] = None,
        field: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        self.source = source
        self.column = column
        self.model = model
        self.field = field
        self.hint = hint
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.source is not None:
            place = f"{self.source.path}:{self.source.line}"
            if self.column is not None:
                place += f":{self.column}"
            parts.append(place)
        if self.model:
            parts.append(f"model {self.model!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        text = ": ".join(parts + [self.detail]) if parts else self.detail
        if self.hint:
            text += f" ({self.hint})"
        return text


class UnknownModelError(InputError):
    """A model name that is not in the index (or that timm cannot build)."""


class OutOfSpaceError(ZooError):
    """The disk filled while zoo wrote a file (a report, a record, a lock file): incomplete, not bad
    input. The file was not left half-written (:mod:`zoo.atomic`)."""

    exit_code = EXIT_INCOMPLETE

    def __init__(self, path: object, detail: str = "") -> None:
        self.path = path
        super().__init__(
            f"no space left on the disk while writing {path}{': ' + detail if detail else ''}; nothing was left "
            "half-written there. Free space on that disk, or write to another folder, then run the command again"
        )
