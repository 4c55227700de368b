"""Command-line metadata of an options dataclass, declared once on the field itself.

Each field of an options record (``BenchOptions``, ``EvalOptions``, ``FetchOptions``) that a
person may set says its flag, environment variables and help with :func:`option`; its default
is the field's own default, so help text and behaviour cannot disagree. ``zoo.cli.declared``
turns these declarations into click options; this module does not import click, so the
library never depends on the command line.

To add an option (e.g. ``--allocator``), add one field to the options dataclass::

    allocator: str = option(
        "default",
        flag="--allocator",
        env="ZOO_ALLOCATOR",            # read by the class's from_env; shown in --help
        help="Memory allocator for CPU runs.",
        choices=("default", "jemalloc"),
    )
    \"\"\"Docstring of the field, as before.\"\"\"

Every command decorated with that class's options (``@bench_options`` = ``click_options(BenchOptions)``)
now has ``--allocator``, its help ends ``[env ZOO_ALLOCATOR; default default]`` and
``options_from_cli(BenchOptions, kw)`` passes the value on. A class's ``from_env`` reads the
variables through :func:`env_vars` (or the same constants the declaration names).

>>> from dataclasses import dataclass, fields
>>> @dataclass(frozen=True)
... class Demo:
...     rounds: int = option(5, flag="--rounds", env="ZOO_DEMO_ROUNDS", help="Timed rounds.", minimum=1)
>>> declared(fields(Demo)[0]).help_text(5)
'Timed rounds. [env ZOO_DEMO_ROUNDS; default 5]'
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, Field, dataclass
from typing import Any, Optional, Sequence, Union

_KEY = "zoo.flag"

KINDS = ("value", "int", "float", "bool", "choice", "device", "file", "dir", "path", "mirror", "model=path", "model=repo", "population")
"""What a flag's value is; ``zoo.cli.declared`` maps each kind to a click type."""


@dataclass(frozen=True)
class Flag:
    """How one options field is set from outside: flag, environment variables, help."""

    flag: Optional[str]
    """``--name`` (a bool field gets ``--name/--no-name`` unless ``off`` says otherwise);
    None for a field set only from the environment."""
    help: str = ""
    """What the option does; the env vars and the default are appended by :meth:`help_text`."""
    env: tuple[str, ...] = ()
    """Environment variables read when the flag is not given, in order of precedence."""
    aliases: tuple[str, ...] = ()
    """Other spellings of the flag (``--source`` for ``--weights-source``)."""
    param: Optional[str] = None
    """The keyword argument click passes (default: the flag's name with ``_``); it is also
    the key under which ``RunRecord.options`` records the flag."""
    kind: str = "value"
    """One of :data:`KINDS`; ``int`` and ``bool`` fields get their kind from the annotation."""
    choices: tuple[str, ...] = ()
    minimum: Optional[int] = None
    multiple: bool = False
    """Repeatable; the values arrive as a tuple."""
    metavar: Optional[str] = None
    default_text: Optional[str] = None
    """What the default is, when the field's default value does not say it (e.g. None
    meaning "256 on GPU, 32 on CPU"); "" shows no default."""
    env_text: Optional[str] = None
    """How the environment is read, when the variable names do not say it."""
    off: Optional[str] = None
    """The negative flag of a bool (default ``--no-<name>``)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown flag kind {self.kind!r}; use one of {', '.join(KINDS)}")

    @property
    def name(self) -> str:
        """The keyword argument click passes for this flag."""
        if self.param:
            return self.param
        if not self.flag:
            raise ValueError("an environment-only option has no command-line name")
        return self.flag.lstrip("-").replace("-", "_")

    def help_text(self, default: Any) -> str:
        """The help line: the declared help, then ``[env ...; default ...]``."""
        notes = []
        if self.env_text is not None:
            notes.append(f"env {self.env_text}")
        elif self.env:
            notes.append("env " + " or ".join(self.env))
        shown = self.default_text if self.default_text is not None else _default_text(default)
        if shown:
            notes.append(f"default {shown}")
        return f"{self.help} [{'; '.join(notes)}]" if notes else self.help


def option(
    default: Any = MISSING,
    *,
    flag: Optional[str] = None,
    env: Union[str, Sequence[str]] = (),
    help: str = "",
    default_factory: Any = MISSING,
    **details: Any,
) -> Any:
    """A dataclass field carrying its :class:`Flag` (see the module doc for an example)."""
    envs = (env,) if isinstance(env, str) else tuple(env)
    meta = {_KEY: Flag(flag=flag, help=help, env=envs, **details)}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def declared(field: Field) -> Optional[Flag]:
    """The :class:`Flag` a field was declared with, or None."""
    return field.metadata.get(_KEY)


def flag_fields(cls: type) -> list[tuple[Field, Flag]]:
    """The fields of ``cls`` that have a command-line flag, in declaration order."""
    out = []
    for field in dataclasses.fields(cls):
        meta = declared(field)
        if meta is not None and meta.flag:
            out.append((field, meta))
    return out


def flag_names(cls: type) -> tuple[str, ...]:
    """The keyword arguments the command-line options of ``cls`` add to a command."""
    return tuple(meta.name for _, meta in flag_fields(cls))


def env_vars(cls: type) -> dict[str, str]:
    """Field name -> the (first) environment variable declared for it."""
    out = {}
    for field in dataclasses.fields(cls):
        meta = declared(field)
        if meta is not None and meta.env:
            out[field.name] = meta.env[0]
    return out


def field_default(field: Field) -> Any:
    """A field's default value (None when it has none or a factory)."""
    if field.default is not MISSING:
        return field.default
    return None


def _default_text(default: Any) -> str:
    if default is None or default is MISSING:
        return ""
    if isinstance(default, bool):
        return "on" if default else "off"
    return str(default)


__all__ = ["Flag", "KINDS", "declared", "env_vars", "field_default", "flag_fields", "flag_names", "option"]
