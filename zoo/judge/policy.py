"""Tolerances and waivers: the rules a verdict is judged by, read from ``metadata/tolerances.yml``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Optional, Union


from zoo.errors import InputError
from zoo.index.documents import display_path
from zoo.index.loader import file_digest
from zoo.yaml_input import LocatedMap, read_yaml_mapping
from zoo.metrics import METRIC_NAMES, METRICS, gating_by_default
from zoo.records import Convention, FileDigest, SourceRef, Tolerance, Waiver

DEFAULT_POLICY_PATH = Path("metadata") / "tolerances.yml"
DEFAULT_GATE = gating_by_default()
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    m.name: Tolerance(m.name, relative=m.relative, absolute=m.absolute) for m in METRICS if m.relative or m.absolute
}
"""Used when no tolerances file is found (from :data:`zoo.metrics.METRICS`); the same figures as the shipped metadata/tolerances.yml."""
KNOWN_METRICS = METRIC_NAMES


@dataclass(frozen=True)
class Policy:
    """Tolerances per metric, the metrics that gate, and the waivers in force."""

    tolerances: dict[str, Tolerance] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    gate_metrics: frozenset[str] = frozenset(DEFAULT_GATE)
    waivers: tuple[Waiver, ...] = ()
    source: Optional[str] = None
    flops_conventions: dict[str, Convention] = field(default_factory=dict)
    """Declared FLOPs conventions: "*" (the zoo) or a collection name -> its convention."""
    digest: Optional[FileDigest] = None
    """The tolerances file read, by content (None: the built-in defaults)."""

    def tolerance(self, metric: str) -> Tolerance:
        """The tolerance for ``metric`` (zero if none is configured), with its gate flag."""
        base = self.tolerances.get(metric, Tolerance(metric))
        return replace(base, gate=metric in self.gate_metrics)

    def waiver(self, model: str, metric: str) -> Optional[Waiver]:
        """The newest waiver naming this model and metric, live or expired."""
        matches = [w for w in self.waivers if w.model == model and w.metric == metric]
        return max(matches, key=lambda w: w.expires) if matches else None

    def with_gate_metrics(self, metrics: Iterable[str]) -> "Policy":
        return replace(self, gate_metrics=frozenset(metrics))


def waiver_is_live(waiver: Waiver, today: dt.date) -> bool:
    """A waiver waives up to and including its expiry day."""
    return today <= dt.date.fromisoformat(waiver.expires)


def load_policy(path: Union[str, Path, None] = None) -> Policy:
    """Read tolerances and waivers; with no file at the default place, built-in defaults."""
    chosen = Path(path) if path is not None else DEFAULT_POLICY_PATH
    if not chosen.is_file():
        if path is not None:
            raise InputError(f"tolerances file {display_path(chosen)} does not exist", hint="pass an existing file with --tolerances")
        return Policy()
    shown = display_path(chosen)
    data = read_yaml_mapping(
        chosen, shown, what="tolerances file", expected="a mapping with tolerances, gate and waivers",
        hint="fix the file, or pass another with --tolerances",
    )
    return Policy(
        tolerances=_tolerances(data, shown),
        gate_metrics=frozenset(_gate(data, shown)),
        waivers=tuple(_waivers(data, shown)),
        source=shown,
        flops_conventions=_conventions(data, shown),
        digest=file_digest(chosen),
    )


def _conventions(data: LocatedMap, shown: str) -> dict:
    """``flops_conventions: {"*": "macs+norm+pool @image", COLLECTION: "2x macs @resize"}``."""
    from dataclasses import replace as with_fields

    from zoo.judge.conventions import parse_convention

    section = data.get("flops_conventions") or {}
    if not isinstance(section, dict):
        raise InputError("flops_conventions must map a collection name (or \"*\") to a convention", source=SourceRef(shown, data.line_of("flops_conventions")), field="flops_conventions")
    found = {}
    for scope, text in section.items():
        where = SourceRef(shown, section.line_of(scope) if isinstance(section, LocatedMap) else 1)
        try:
            convention = parse_convention(str(text))
        except ValueError as exc:
            raise InputError(str(exc), source=where, field=f"flops_conventions.{scope}", hint="write e.g. '1.283x macs+norm+pool @image' or '2x macs @resize'") from None
        found[str(scope)] = with_fields(convention, scope=f"declared in {shown}:{where.line}")
    return found


def _number(mapping: LocatedMap, key: str, shown: str, owner: str) -> float:
    value = mapping.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise InputError(f"{key} must be a number >= 0, found {value!r}", source=SourceRef(shown, mapping.line_of(key)), field=f"{owner}.{key}")
    return float(value)


def _tolerances(data: LocatedMap, shown: str) -> dict[str, Tolerance]:
    section = data.get("tolerances") or LocatedMap()
    if not isinstance(section, dict):
        raise InputError("tolerances must be a mapping of metric -> {relative, absolute}", source=SourceRef(shown, data.line_of("tolerances")), field="tolerances")
    result = {}
    for metric, spec in section.items():
        _check_metric(metric, SourceRef(shown, section.line_of(metric)), "tolerances")
        if not isinstance(spec, LocatedMap):
            raise InputError("expected {relative: ..., absolute: ...}", source=SourceRef(shown, section.line_of(metric)), field=f"tolerances.{metric}")
        unknown = set(spec) - {"relative", "absolute"}
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}", source=SourceRef(shown, spec.line), field=f"tolerances.{metric}", hint="use relative and/or absolute")
        result[str(metric)] = Tolerance(
            str(metric), relative=_number(spec, "relative", shown, str(metric)), absolute=_number(spec, "absolute", shown, str(metric))
        )
    return result


def _gate(data: LocatedMap, shown: str) -> list[str]:
    gate = data.get("gate", list(DEFAULT_GATE))
    if not isinstance(gate, list) or not all(isinstance(m, str) for m in gate):
        raise InputError("gate must be a list of metric names", source=SourceRef(shown, data.line_of("gate")), field="gate")
    for metric in gate:
        _check_metric(metric, SourceRef(shown, data.line_of("gate")), "gate")
    return gate


def _check_metric(metric: object, source: SourceRef, field: str) -> None:
    """A metric name in the policy must be one zoo judges; a typo would silently judge nothing."""
    if metric not in KNOWN_METRICS:
        raise InputError(f"unknown metric {metric!r}", source=source, field=field, hint=f"use one of {', '.join(KNOWN_METRICS)}")


def _waivers(data: LocatedMap, shown: str) -> list[Waiver]:
    entries = data.get("waivers") or []
    if not isinstance(entries, list):
        raise InputError("waivers must be a list", source=SourceRef(shown, data.line_of("waivers")), field="waivers")
    waivers = []
    for entry in entries:
        if not isinstance(entry, LocatedMap):
            raise InputError("each waiver must be a mapping", source=SourceRef(shown, data.line_of("waivers")), field="waivers")
        for key in ("model", "metric", "reason", "expires"):
            if not entry.get(key):
                raise InputError(f"waiver is missing {key!r}", source=SourceRef(shown, entry.line), field=key, hint="a waiver needs model, metric, reason and expires (YYYY-MM-DD)")
        _check_metric(entry["metric"], SourceRef(shown, entry.line_of("metric")), "metric")
        expires = entry["expires"]
        try:
            expires_date = expires if isinstance(expires, dt.date) else dt.date.fromisoformat(str(expires))
        except ValueError:
            raise InputError(f"expires {expires!r} is not a date", source=SourceRef(shown, entry.line_of("expires")), field="expires", hint="write YYYY-MM-DD") from None
        waivers.append(
            Waiver(
                model=str(entry["model"]), metric=str(entry["metric"]), reason=str(entry["reason"]),
                expires=expires_date.isoformat(), source=SourceRef(shown, entry.line),
            )
        )
    return waivers


def parse_gate_metrics(text: str) -> list[str]:
    """``"top1,top5"`` -> ``["top1", "top5"]``; ``""`` or ``"none"`` -> nothing gates."""
    if text.strip().lower() in ("", "none"):
        return []
    metrics = [m.strip() for m in text.split(",") if m.strip()]
    known = list(KNOWN_METRICS)
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise InputError(
            f"--gate-metrics: unknown metric {', '.join(map(repr, unknown))}",
            field="--gate-metrics",
            hint=f"choose from {', '.join(known)}, or 'none'",
        )
    return metrics
