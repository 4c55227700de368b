"""Published throughput figures to compare a measurement with, as ``throughput`` claims.

Two sources, both only for the same hardware as the measurement:

* a card's own metadata key such as ``FPS (GPU RTX 3090)`` (the device is in the key);
* a timm-style benchmark CSV (columns ``model``, ``infer_samples_per_sec``,
  ``infer_batch_size``, ``infer_img_size``), whose device and settings are read from
  its file name (``benchmark-infer-amp-nhwc-pt240-cu124-rtx4090.csv``) unless given.

A figure for other hardware, another input size or other settings (AMP, NHWC,
torch.compile) is never returned: it would compare two different things.

Example::

    tables = [load_reference_table("metadata/benchmarks/benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv")]
    card = attach_reference(card, measurement, tables)   # card.claims["throughput"] when one fits
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from zoo.errors import InputError
from zoo.records import Claim, Measurement, Metric, ModelCard, SourceRef

REQUIRED_COLUMNS = ("model", "infer_samples_per_sec")

_VENDOR_WORDS = {"nvidia", "geforce", "amd", "intel", "r", "tm", "cpu", "gpu", "core", "processor", "radeon"}
_CARD_KEY = re.compile(r"^\s*(?:fps|throughput|images?\s*/\s*s(?:ec)?|img\s*/\s*s)\s*\((?P<device>.*)\)\s*$", re.I)
_NUMBER = re.compile(r"^\s*(?P<number>[0-9][0-9,_]*(?:\.[0-9]+)?)")
_FILE_NAME = re.compile(
    r"^benchmark-infer-(?P<dtype>amp_bf16|amp|bf16|fp16|fp32)-(?P<layout>nchw|nhwc)-pt\d+-(?:cu\d+|cpu)-"
    r"(?P<device>.+?)(?P<dynamo>-dynamo)?$"
)
_FILE_DTYPES = {"amp": "fp16", "amp_bf16": "bf16", "fp32": "fp32", "bf16": "bf16-weights", "fp16": "fp16-weights"}
"""timm's file-name precision -> zoo's --dtype ("bf16"/"fp16" there are whole-model casts, not AMP)."""


# --------------------------------------------------------------------------- device names


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", name.lower()) if t and t not in _VENDOR_WORDS]


def device_matches(reference: str, measured: str) -> bool:
    """Whether ``reference`` (``RTX 3090``, ``rtx3090``, ``i7_12700h``) names the ``measured`` device.

    Vendor words dropped, each word of the reference must equal a run of consecutive
    words of the measured name, in order: ``4090`` and ``rtx4090`` match
    ``NVIDIA GeForce RTX 4090``, ``A100 80GB`` matches ``NVIDIA A100-SXM4-80GB``,
    ``a10`` does not match ``NVIDIA A100-SXM4-80GB``.

    >>> device_matches("rtx4090", "NVIDIA GeForce RTX 4090")
    True
    """
    wanted = _tokens(reference)
    words = _tokens(measured)
    if not wanted:
        return False
    position = 0
    for token in wanted:
        found = _find_run(token, words, position)
        if found is None:
            return False
        position = found
    return True


def _find_run(token: str, words: list[str], start: int) -> Optional[int]:
    """Index just past the first run of ``words`` (from ``start``) that joins to ``token``."""
    for first in range(start, len(words)):
        joined = ""
        for last in range(first, len(words)):
            joined += words[last]
            if joined == token:
                return last + 1
            if len(joined) >= len(token):
                break
    return None


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class ReferenceRow:
    """One model's line in a reference table."""

    model: str
    samples_per_sec: float
    raw: str
    line: int
    batch_size: Optional[int] = None
    img_size: Optional[int] = None


@dataclass(frozen=True)
class ReferenceTable:
    """A published benchmark table for one device and one set of settings."""

    path: str
    device: str
    dtype: Optional[str] = None
    """zoo's --dtype the table was made with (None: unknown, not checked)."""
    channels_last: Optional[bool] = None
    compiled: Optional[bool] = None
    rows: dict[str, list[ReferenceRow]] = field(default_factory=dict)

    def rows_for(self, model: str) -> list[ReferenceRow]:
        """Rows for ``model``, also when the table uses an untagged name (``name.tag`` -> ``name``)."""
        return self.rows.get(model) or self.rows.get(model.split(".", 1)[0], [])


def load_reference_table(
    path: Union[str, Path],
    *,
    device: Optional[str] = None,
    dtype: Optional[str] = None,
    channels_last: Optional[bool] = None,
    compiled: Optional[bool] = None,
) -> ReferenceTable:
    """Read a timm-style benchmark CSV; settings not given are read from its file name.

    Raises :class:`InputError` naming the file (and line) when it cannot be used.
    """
    path = Path(path)
    parsed = _FILE_NAME.match(path.stem)
    if parsed is not None:
        device = device or parsed["device"]
        dtype = dtype or _FILE_DTYPES[parsed["dtype"]]
        channels_last = parsed["layout"] == "nhwc" if channels_last is None else channels_last
        compiled = bool(parsed["dynamo"]) if compiled is None else compiled
    if not device:
        raise InputError(
            "cannot tell which device this benchmark table was measured on",
            source=SourceRef(str(path), 1),
            hint="name it like benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv or pass device=",
        )
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = _read_rows(path, handle)
    except OSError as exc:
        raise InputError(f"cannot read benchmark table: {exc.strerror}", source=SourceRef(str(path), 1)) from exc
    return ReferenceTable(str(path), device, dtype, channels_last, compiled, rows)


def _read_rows(path: Path, handle: Iterable[str]) -> dict[str, list[ReferenceRow]]:
    reader = csv.DictReader(handle)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"benchmark table lacks column(s) {', '.join(missing)}",
            source=SourceRef(str(path), 1),
            hint="expected timm's benchmark.py CSV: model, infer_samples_per_sec, infer_batch_size, infer_img_size",
        )
    rows: dict[str, list[ReferenceRow]] = {}
    for record in reader:
        line = reader.line_num
        raw = (record.get("infer_samples_per_sec") or "").strip()
        try:
            value = float(raw)
        except ValueError:
            raise InputError(
                f"infer_samples_per_sec {raw!r} is not a number",
                source=SourceRef(str(path), line),
                model=record.get("model"),
                field="infer_samples_per_sec",
            ) from None
        row = ReferenceRow(
            model=record["model"].strip(),
            samples_per_sec=value,
            raw=raw,
            line=line,
            batch_size=_optional_int(record.get("infer_batch_size")),
            img_size=_optional_int(record.get("infer_img_size")),
        )
        rows.setdefault(row.model, []).append(row)
    return rows


def _optional_int(text: Optional[str]) -> Optional[int]:
    try:
        return int(float(text)) if text not in (None, "") else None
    except ValueError:
        return None


def find_reference_tables(folder: Union[str, Path]) -> list[ReferenceTable]:
    """Every ``benchmark-infer-*.csv`` under ``folder`` (none if the folder is absent)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [load_reference_table(p) for p in sorted(folder.rglob("benchmark-infer-*.csv"))]


# --------------------------------------------------------------------------- claims


def table_claim(card: ModelCard, measurement: Measurement, tables: Sequence[ReferenceTable]) -> Optional[Claim]:
    """The first table row for this model measured under the same conditions, as a claim."""
    if measurement.status != "ok":
        return None
    conditions = measurement.conditions
    measured_device = str(conditions.get("device_name") or "")
    side = _input_side(conditions.get("input_size"))
    for table in tables:
        if not device_matches(table.device, measured_device):
            continue
        if table.dtype is not None and table.dtype != conditions.get("dtype"):
            continue
        if table.channels_last is not None and table.channels_last != bool(conditions.get("channels_last")):
            continue
        if table.compiled is not None and table.compiled != bool(conditions.get("compile")):
            continue
        for row in table.rows_for(card.name):
            if row.img_size is not None and side is not None and row.img_size != side:
                continue
            settings = [f"device {table.device}"]
            if row.batch_size is not None:
                settings.append(f"batch {row.batch_size}")
            if row.img_size is not None:
                settings.append(f"img {row.img_size}")
            return Claim(
                metric=Metric.THROUGHPUT.value,
                field="infer_samples_per_sec",
                value=row.samples_per_sec,
                raw=f"{row.raw} ({', '.join(settings)})",
                source=SourceRef(table.path, row.line),
                unit="images/s",
                precision=_precision(row.raw),
            )
    return None


def card_claim(card: ModelCard, measurement: Measurement) -> Optional[Claim]:
    """A card metadata key like ``FPS (GPU RTX 3090)`` naming the measured device, as a claim."""
    if measurement.status != "ok":
        return None
    measured_device = str(measurement.conditions.get("device_name") or "")
    for key, value in _walk(card.metadata):
        matched = _CARD_KEY.match(key)
        if matched is None:
            continue
        device_text = matched["device"].split(",")[0]
        if not device_matches(device_text, measured_device):
            continue
        number = _NUMBER.match(str(value))
        if number is None:
            continue
        text = number["number"].replace(",", "").replace("_", "")
        return Claim(
            metric=Metric.THROUGHPUT.value,
            field=key,
            value=float(text),
            raw=str(value),
            source=_key_source(card, key),
            unit="images/s",
            precision=_precision(text),
        )
    return None


def _key_source(card: ModelCard, key: str) -> SourceRef:
    """Where the card wrote ``key`` (its Metadata line when known, else the model's entry)."""
    line = card.field_lines.get(f"Metadata.{key}") or card.field_lines.get(key)
    return SourceRef(card.source.path, line) if line else card.source


def reference_claim(
    card: ModelCard, measurement: Measurement, tables: Sequence[ReferenceTable] = ()
) -> Optional[Claim]:
    """The card's own figure for the measured device if it has one, else a table's."""
    return card_claim(card, measurement) or table_claim(card, measurement, tables)


def attach_reference(card: ModelCard, measurement: Measurement, tables: Sequence[ReferenceTable] = ()) -> ModelCard:
    """``card`` with a ``throughput`` claim added when a reference fits (a claim it has wins)."""
    if card.claim(Metric.THROUGHPUT) is not None:
        return card
    claim = reference_claim(card, measurement, tables)
    if claim is None:
        return card
    return dataclasses.replace(card, claims={**card.claims, Metric.THROUGHPUT.value: claim})


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every (key, value) in nested metadata (dicts inside dicts/lists), outermost first."""
    if depth > 4:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str) and not isinstance(inner, (dict, list)):
                yield key, inner
        for inner in value.values():
            if isinstance(inner, (dict, list)):
                yield from _walk(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, depth + 1)


def _input_side(text: Any) -> Optional[int]:
    """224 from "3x224x224"."""
    if not isinstance(text, str):
        return None
    parts = text.split("x")
    return int(parts[-1]) if parts and parts[-1].isdigit() else None


def _precision(text: str) -> float:
    """Unit of the last written digit: "10807.07" -> 0.01, "1234" -> 1."""
    decimals = text.split(".", 1)[1] if "." in text else ""
    return 10.0 ** -len(decimals)


__all__ = [
    "ReferenceRow",
    "ReferenceTable",
    "attach_reference",
    "card_claim",
    "device_matches",
    "find_reference_tables",
    "load_reference_table",
    "reference_claim",
    "table_claim",
]
