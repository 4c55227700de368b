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

Every command decorated with ``@click_options(BenchOptions)`` now has ``--allocator``, its help
ends ``[env ZOO_ALLOCATOR; default default]`` and ``options_from(BenchOptions, kw)`` (the one
wrapper, :mod:`zoo.cli.declared`) builds the record: the flag, else ``$ZOO_ALLOCATOR``, else the
default. ``BenchOptions.from_env()`` does the same without a command line. Both read the
variables through :func:`from_environment`, the one reader: every declared ``env`` of every
class is read there, parsed by the field's kind, a bad value named by its variable.

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
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar, Union

_KEY = "zoo.flag"
T = TypeVar("T")
SET_BY = "set_by"
"""An options class with a field of this name gets, from :func:`from_environment`, where each
value that is not the default came from (field name -> ``--flag`` or ``$VAR``), so a message can
say "unset HF_HUB_OFFLINE" rather than "drop --offline"."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

KINDS = ("value", "int", "float", "bool", "choice", "device", "file", "dir", "path", "mirror", "model=path", "model=repo", "population",
         "baselines")
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
    env_parse: Optional[Callable[[str], Any]] = None
    """Turns an env var's text into the value, where the kind does not say how (mirrors: a
    comma-separated list); raises ValueError on bad text."""
    fallback: Optional[str] = None
    """Another command-line option (by keyword name, e.g. ``device``) whose value stands in when
    neither this flag nor its env vars are given: ``--eval-device`` falls back to ``--device``."""
    cli_default: Optional[Callable[[], Any]] = None
    """The value a command line uses when nothing sets the option (``--baselines``: the default
    folder when it exists); code that builds the options itself keeps the field's default."""

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


def kind_of(field: Field, meta: Flag) -> str:
    """The field's kind: the declared one, else ``choice``/``bool``/``int``/``float`` from the
    declaration and the annotation (``Optional[int]`` is ``int``), else ``value``."""
    if meta.kind != "value":
        return meta.kind
    if meta.choices:
        return "choice"
    hint = str(field.type)
    for kind in ("bool", "int", "float"):
        if kind in hint:
            return kind
    return "value"


def parse_env(field: Field, meta: Flag, var: str, raw: str) -> Any:
    """The value of ``field`` that the text ``raw`` of the variable ``var`` gives.

    Raises :class:`zoo.errors.InputError` naming the variable when the text is not one.
    """
    from zoo.errors import InputError

    text = raw.strip()
    kind = kind_of(field, meta)
    what = {"bool": "1/0, true/false, yes/no or on/off", "int": "a whole number", "float": "a number"}.get(kind, "valid")
    try:
        if meta.env_parse is not None:
            return meta.env_parse(text)
        if kind == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(text)
        if kind in ("int", "float"):
            number = int(text) if kind == "int" else float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(text)
            if meta.minimum is not None and number < meta.minimum:
                what = f"at least {meta.minimum}"
                raise ValueError(text)
            return number
        if kind == "choice":
            if text.lower() not in meta.choices:
                what = "one of " + ", ".join(meta.choices)
                raise ValueError(text)
            return text.lower()
        if kind in ("dir", "path"):
            from pathlib import Path

            return Path(text).expanduser()
    except ValueError:
        hint = f"fix or unset {var}" + (f", or give {meta.flag}" if meta.flag else "")
        raise InputError(f"environment variable {var}={raw!r} is not {what}", hint=hint) from None
    return text


def read_environment(cls: type, environ: Optional[Mapping[str, str]] = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Field name -> value for every declared env var of ``cls`` that is set (the first of a
    field's variables that is set and not blank wins), and field name -> ``$VAR`` it came from."""
    import os

    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for field in dataclasses.fields(cls):
        meta = declared(field)
        if meta is None:
            continue
        for var in meta.env:
            raw = env.get(var)
            if raw is not None and raw.strip():
                values[field.name] = parse_env(field, meta, var, raw)
                origins[field.name] = f"${var}"
                break
    return values, origins


def from_environment(
    cls: type[T], environ: Optional[Mapping[str, str]] = None, /, *, under: Optional[Mapping[str, Any]] = None,
    **overrides: Any,
) -> T:
    """An options record of ``cls``: each field from its declared env vars, then ``overrides``
    (``None`` means "not given" and leaves the env or default value); the one reader of every
    options class (``BenchOptions.from_env`` and the others call it). ``under`` are values that
    stand in for the field's default where no env var is set (a command line's fallbacks).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     rounds: int = option(5, flag="--rounds", env="ZOO_DEMO_ROUNDS", minimum=1)
    >>> from_environment(Demo, {"ZOO_DEMO_ROUNDS": "7"}).rounds, from_environment(Demo, {}, rounds=3).rounds
    (7, 3)
    """
    known = {field.name: field for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise TypeError(f"{cls.__name__} has no option {', '.join(map(repr, unknown))}")
    values, origins = read_environment(cls, environ)
    for name, value in (under or {}).items():
        if name not in values and value is not None:
            values[name] = value
    for name, value in overrides.items():
        if value is None:
            continue
        values[name] = value
        meta = declared(known[name])
        origins[name] = meta.flag if meta is not None and meta.flag else name
    if SET_BY in known:
        values[SET_BY] = origins
    return cls(**values)


class FromEnvironment:
    """Gives an options dataclass ``from_env``: :func:`from_environment` for that class."""

    @classmethod
    def from_env(cls: type[T], environ: Optional[Mapping[str, str]] = None, /, **overrides: Any) -> T:
        """Options from the declared environment variables, then ``overrides`` (None = not given)."""
        return from_environment(cls, environ, **overrides)


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


__all__ = [
    "Flag", "FromEnvironment", "KINDS", "SET_BY", "declared", "env_vars", "field_default", "flag_fields", "flag_names",
    "from_environment", "kind_of", "option", "parse_env", "read_environment",
]
