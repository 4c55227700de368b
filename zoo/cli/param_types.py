"""Click parameter types for option values zoo checks as they are parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo.weights.options import is_url, mirror_folder


class DeviceType(click.ParamType):
    """A device flag's value: auto, cpu, cuda or cuda:N (lower-cased)."""

    name = "auto|cpu|cuda[:N]"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value).strip().lower()
        if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
            return text
        self.fail(f"{value!r} is not a device; use auto, cpu, cuda or cuda:N", param, ctx)


class MirrorType(click.ParamType):
    """A weights mirror: an http(s) base URL or an existing folder."""

    name = "URL|FOLDER"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value).strip()
        if is_url(text):
            return text
        if "://" in text and not text.startswith("file://"):
            self.fail(f"{text!r}: a mirror is an http(s) URL or a folder", param, ctx)
        if not mirror_folder(text).is_dir():
            self.fail(f"mirror folder {text!r} does not exist", param, ctx)
        return text


class LocalWeightsType(click.ParamType):
    """``MODEL=PATH``: a local checkpoint file for one model."""

    name = "MODEL=PATH"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, Path]:
        if isinstance(value, tuple):
            return value
        model, sep, path = str(value).partition("=")
        if not sep or not model.strip() or not path.strip():
            self.fail(f"{value!r}: expected MODEL=PATH, e.g. mobilenetv2_100=~/Downloads/m.pth", param, ctx)
        file = Path(path.strip()).expanduser()
        if not file.is_file():
            self.fail(f"{value!r}: {file} is not a file", param, ctx)
        return model.strip(), file


__all__ = ["DeviceType", "LocalWeightsType", "MirrorType"]
