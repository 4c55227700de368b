"""Click parameter types for option values zoo checks as they are parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

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


class HubRepoType(click.ParamType):
    """``MODEL=ORG/NAME[@REV]``: the Hugging Face Hub repo of one model."""

    name = "MODEL=ORG/NAME[@REV]"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        from zoo.weights.hub import parse_hub_ref

        model, sep, repo = str(value).partition("=")
        if not sep or not model.strip() or not repo.strip():
            self.fail(f"{value!r}: expected MODEL=ORG/NAME[@REV], e.g. mobilenetv2_100=timm/mobilenetv2_100.ra_in1k", param, ctx)
        try:
            parse_hub_ref(repo, origin="--hub-repo")
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)
        return model.strip(), repo.strip()


class PopulationType(click.ParamType):
    """A positive number of images, or "all"."""

    name = "N|all"

    def convert(self, value: Any, param: Any, ctx: Any) -> Union[int, str]:
        if isinstance(value, int) or str(value).strip().lower() == "all":
            return value if isinstance(value, int) else "all"
        try:
            number = int(str(value).replace(",", "").replace("_", ""))
        except ValueError:
            self.fail(f"{value!r} is neither a number of images nor 'all'", param, ctx)
        if number < 1:
            self.fail(f"{value!r} must be at least 1", param, ctx)
        return number


class BaselinesType(click.ParamType):
    """``--baselines``: an existing folder of stored baselines, or ``none``."""

    name = "DIR|none"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value).strip()
        if text.lower() == "none" or Path(text).expanduser().is_dir():
            return text
        self.fail(f"{text}: no such folder (create baselines with `zoo baseline save RUN`, or say none)", param, ctx)


__all__ = ["BaselinesType", "DeviceType", "HubRepoType", "LocalWeightsType", "MirrorType", "PopulationType"]
