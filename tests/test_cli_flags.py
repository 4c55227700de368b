"""Options declared once on their dataclass fields: the flags, help and env vars follow from it."""

from __future__ import annotations

import dataclasses
from typing import Optional

import click
import pytest
from click.testing import CliRunner

from zoo.cli.declared import click_options, options_from_cli
from zoo.flags import declared, field_default, flag_fields, option
from zoo.measure.accuracy.options import EvalOptions
from zoo.measure.throughput.options import BenchOptions
from zoo.weights.options import FetchOptions

CLASSES = (BenchOptions, EvalOptions, FetchOptions)


def _help(cls: type) -> str:
    @click.command()
    @click_options(cls)
    def command(**kw):
        pass

    return " ".join(CliRunner().invoke(command, ["--help"], terminal_width=10_000).output.split())


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_help_states_each_fields_own_default_and_env(cls: type) -> None:
    text = _help(cls)
    for field, meta in flag_fields(cls):
        assert meta.flag in text
        assert meta.help_text(field_default(field)) in text
        if meta.default_text is None and field_default(field) not in (None, False, ()):
            assert f"default {field_default(field)}" in text
        for var in meta.env if meta.env_text is None else ():
            assert var in text


def test_a_changed_default_changes_the_help_and_the_value() -> None:
    @dataclasses.dataclass(frozen=True)
    class Demo:
        rounds: int = option(7, flag="--rounds", env="ZOO_DEMO", help="Timed rounds.", minimum=1)
        label: Optional[str] = option(None, flag="--label", help="A name.")
        fast: bool = option(False, flag="--fast", help="Go.")

    seen: dict = {}

    @click.command()
    @click_options(Demo)
    def command(**kw):
        seen.update(kw)

    text = CliRunner().invoke(command, ["--help"]).output
    assert "[env ZOO_DEMO; default 7]" in " ".join(text.split())
    assert "--fast / --no-fast" in text
    assert CliRunner().invoke(command, ["--rounds", "0"]).exit_code == 2
    CliRunner().invoke(command, ["--fast"])
    assert options_from_cli(Demo, seen) == {"fast": True}
    assert Demo(**options_from_cli(Demo, seen)).rounds == 7


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_declared_env_var_is_read_by_from_env(cls: type, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for field in dataclasses.fields(cls):
        meta = declared(field)
        if meta is None or not meta.env:
            continue
        default = field_default(field)
        if meta.choices:
            raw, expected = meta.choices[-1], meta.choices[-1]
        elif "bool" in str(field.type):
            raw, expected = ("0", False) if default else ("1", True)
        elif "int" in str(field.type):
            raw, expected = "7", 7
        elif "float" in str(field.type):
            raw, expected = "2.5", 2.5
        elif meta.kind == "device":
            raw, expected = "cpu", "cpu"
        elif meta.kind in ("dir", "path"):
            raw, expected = str(tmp_path), tmp_path
        elif meta.kind == "mirror":
            raw, expected = "https://a.example/w, /srv/w", ("https://a.example/w", "/srv/w")
        else:
            raw, expected = str(tmp_path), str(tmp_path)
        assert expected != default
        monkeypatch.setenv(meta.env[0], raw)
        assert getattr(cls.from_env(), field.name) == expected, meta.env[0]
        monkeypatch.delenv(meta.env[0])


def test_fetch_env_vars_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for var in ("ZOO_CACHE", "ZOO_MIRROR", "ZOO_OFFLINE", "HF_HUB_OFFLINE", "ZOO_LOCK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("ZOO_MIRROR", "https://m.example/w")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_LOCK", str(tmp_path / "w.lock"))
    options = FetchOptions.from_env()
    assert options.cache_dir == tmp_path / "c" and options.mirrors == ("https://m.example/w",)
    assert options.offline is True and options.lock_path == tmp_path / "w.lock"


@pytest.mark.parametrize("module", ["zoo/measure/throughput/options.py", "zoo/measure/accuracy/options.py", "zoo/weights/options.py"])
def test_options_modules_read_no_environment_of_their_own(module: str) -> None:
    # The declarations are the only place an env var is named; zoo.flags.from_environment reads them.
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / module).read_text()
    assert "os.environ" not in text and "getenv" not in text


def test_a_value_set_by_an_env_var_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    options = FetchOptions.from_env()
    assert options.offline and options.set_by["offline"] == "$HF_HUB_OFFLINE"
    assert options.going_online() == "unset HF_HUB_OFFLINE"
    assert FetchOptions.from_env(offline=True).going_online() == "drop --offline"


def test_a_fallback_flag_stands_below_the_fields_own_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.cli.declared import options_from

    monkeypatch.delenv("ZOO_EVAL_ALLOCATOR", raising=False)
    assert options_from(EvalOptions, {"allocator": "default", "device": "cpu"}).allocator == "default"
    assert options_from(EvalOptions, {"allocator": "default", "device": "cpu"}).device == "cpu"
    monkeypatch.setenv("ZOO_EVAL_ALLOCATOR", "tuned")
    assert options_from(EvalOptions, {"allocator": "default"}).allocator == "tuned"
    assert options_from(EvalOptions, {"allocator": "default", "eval_allocator": "default"}).allocator == "default"


def test_a_bad_env_value_of_any_class_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.errors import InputError

    monkeypatch.setenv("ZOO_STALL_SECONDS", "soon")
    with pytest.raises(InputError, match="ZOO_STALL_SECONDS='soon' is not a number"):
        FetchOptions.from_env()
    monkeypatch.setenv("ZOO_EVAL_WORKERS", "-2")
    with pytest.raises(InputError, match="ZOO_EVAL_WORKERS='-2' is not at least 0"):
        EvalOptions.from_env()
