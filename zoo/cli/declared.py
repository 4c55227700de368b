"""Click options made from the :class:`zoo.flags.Flag` declarations on an options dataclass.

``click_options(BenchOptions)`` is a decorator adding one click option per declared field
(flag, help with env vars and default, type); ``options_from(BenchOptions, kw)`` builds the
options record from a command's keyword arguments: the flags given, over the environment
(:func:`zoo.flags.from_environment`), over the defaults. It is the one way every command turns
its flags into ``BenchOptions``, ``EvalOptions`` or ``FetchOptions``. See :mod:`zoo.flags` for
how to declare a new option.

Usage::

    @click.command()
    @click_options(BenchOptions)
    def command(**kw):
        options = options_from(BenchOptions, kw)   # picks only its own keys
"""

from __future__ import annotations

from dataclasses import Field
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from zoo.cli.param_types import BaselinesType, DeviceType, HubRepoType, LocalWeightsType, MirrorType, PopulationType
from zoo.flags import Flag, field_default, flag_fields, from_environment, kind_of

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _click_type(kind: str, meta: Flag) -> Any:
    if kind == "int":
        return click.IntRange(min=meta.minimum) if meta.minimum is not None else int
    if kind == "float":
        return click.FloatRange(min=meta.minimum) if meta.minimum is not None else float
    if kind == "choice":
        return click.Choice(meta.choices)
    if kind == "device":
        return DeviceType()
    if kind == "file":
        return click.Path(exists=True, dir_okay=False)
    if kind == "dir":
        return click.Path(file_okay=False, path_type=Path)
    if kind == "path":
        return click.Path(dir_okay=False, path_type=Path)
    if kind == "mirror":
        return MirrorType()
    if kind == "model=path":
        return LocalWeightsType()
    if kind == "model=repo":
        return HubRepoType()
    if kind == "population":
        return PopulationType()
    if kind == "baselines":
        return BaselinesType()
    return None


def click_option(cls: type, field: Field, meta: Flag) -> Callable[[F], F]:
    """The click option for one declared field (default None: "not given")."""
    kind = kind_of(field, meta)
    help_text = meta.help_text(field_default(field))
    extra: dict[str, Any] = {}
    if meta.metavar:
        extra["metavar"] = meta.metavar
    if kind == "bool":
        off = meta.off or "--no-" + meta.flag.lstrip("-")
        return click.option(f"{meta.flag}/{off}", meta.name, default=None, help=help_text, **extra)
    if meta.multiple:
        return click.option(meta.flag, *meta.aliases, meta.name, type=_click_type(kind, meta), multiple=True, help=help_text, **extra)
    return click.option(meta.flag, *meta.aliases, meta.name, type=_click_type(kind, meta), default=None, help=help_text, **extra)


def click_options(cls: type) -> Callable[[F], F]:
    """A decorator adding every declared flag of ``cls``, in field order."""

    def decorate(func: F) -> F:
        for field, meta in reversed(flag_fields(cls)):
            func = click_option(cls, field, meta)(func)
        return func

    decorate.__doc__ = f"Add the command-line options of {cls.__name__}."
    return decorate


def options_from_cli(cls: type, kw: dict[str, Any]) -> dict[str, Any]:
    """Field name -> value for each declared flag of ``cls`` given in ``kw``.

    A flag not given (None, or an empty repeatable) is left out; other keys of ``kw`` (other
    classes' flags, the command's own arguments) are ignored.
    """
    values: dict[str, Any] = {}
    for field, meta in flag_fields(cls):
        value = kw.get(meta.name)
        if value is None or (meta.multiple and not value):
            continue
        values[field.name] = tuple(value) if meta.multiple else value
    return values


def options_from(cls: type[T], kw: dict[str, Any]) -> T:
    """``cls``'s options record from a command's keyword arguments (others' keys are ignored).

    For each field: its flag when given; else its env vars; else the option it falls back to
    (``Flag.fallback``: ``--eval-device`` takes ``--device``) when the command has it and it was
    given; else its command-line default (``Flag.cli_default``); else the field's default. Bad
    env values raise :class:`zoo.errors.InputError` (exit 2) naming the variable.
    """
    given = options_from_cli(cls, kw)
    under: dict[str, Any] = {}
    for field, meta in flag_fields(cls):
        if field.name in given:
            continue
        if meta.fallback and kw.get(meta.fallback) is not None:
            under[field.name] = kw[meta.fallback]
        elif meta.cli_default is not None:
            under[field.name] = meta.cli_default()
    return from_environment(cls, under=under, **given)


__all__ = ["click_option", "click_options", "options_from", "options_from_cli"]
