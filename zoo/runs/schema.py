"""Run record schema versions: older records on disk are upgraded on read, never rewritten.

Each upgrade turns the JSON of version N into version N + 1; :func:`upgrade` applies them in
turn, so a record written by any earlier zoo loads as today's :class:`~zoo.records.RunRecord`.
An upgrade only moves and derives fields; it never invents a measurement or a verdict.
Damaged input is passed on unchanged for validation to name the bad field.

Version 1 -> 2:
- the merge facts ``options["merged_from"|"merged_shards"|"shards_missing"|"merged_hosts"|
  "options_differ"]`` (comma-joined) become ``merge`` (:class:`~zoo.records.MergeInfo`);
- the gate facts ``options["gate_metrics"]`` and ``options["judged_on"]``, present together
  only on a record the gate re-judged, become ``gate`` (:class:`~zoo.records.GateInfo`);
- a verdict compared with the alternatives of its measurement (FLOPs conventions) gets
  ``convention``: the alternative whose value it was compared with.

Version 2 -> 3:
- ``judged_against`` (:class:`~zoo.records.JudgedAgainst`: the card files, tolerances, FLOPs
  conventions, lock and tables the verdicts were judged against) is new; a version-2 record
  has none, and views and the gate say that they cannot tell what it was judged against.
"""

from __future__ import annotations

from typing import Any, Callable

from zoo.records import SCHEMA_VERSION

MERGE_KEYS_V1 = {
    "merged_from": "merged_from",
    "merged_shards": "shards",
    "shards_missing": "missing",
    "merged_hosts": "hosts",
    "options_differ": "options_differ",
}
"""Version-1 option key -> the :class:`~zoo.records.MergeInfo` field it became."""


def _split(value: Any) -> list[str]:
    return [part for part in str(value).split(",") if part] if value else []


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    options = data.get("options")
    if isinstance(options, dict):
        options = dict(options)
        if "merged_from" in options:
            data["merge"] = {field: _split(options.pop(key, None)) for key, field in MERGE_KEYS_V1.items()}
        if "judged_on" in options:
            data["gate"] = {
                "gate_metrics": _split(options.pop("gate_metrics", None)),
                "judged_on": str(options.pop("judged_on")),
            }
        data["options"] = options
    models = data.get("models")
    if isinstance(models, list):
        data["models"] = [_v1_model(model) for model in models]
    data["schema_version"] = 2
    return data


def _v1_model(model: Any) -> Any:
    if not isinstance(model, dict) or not isinstance(model.get("verdicts"), list):
        return model
    return {**model, "verdicts": [_v1_verdict(v) for v in model["verdicts"]]}


def _v1_verdict(verdict: Any) -> Any:
    """The convention a v1 verdict was compared under: the alternative holding its compared value."""
    if not isinstance(verdict, dict) or verdict.get("convention") is not None:
        return verdict
    measurement = verdict.get("measurement")
    compared = verdict.get("compared_value")
    if not isinstance(measurement, dict) or not isinstance(compared, (int, float)):
        return verdict
    listed = measurement.get("alternatives")
    if not isinstance(listed, list):
        return verdict
    alternatives = [
        a for a in listed
        if isinstance(a, dict) and isinstance(a.get("value"), (int, float)) and isinstance(a.get("convention"), str)
    ]
    if not alternatives:
        return verdict
    best = min(alternatives, key=lambda a: abs(float(a["value"]) - float(compared)))
    return {**verdict, "convention": best["convention"]}


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 adds ``judged_against``; a version-2 record does not know it (None)."""
    return {**data, "schema_version": 3}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}
"""Schema version -> the function that turns such a record into the next version."""


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a run record's JSON) at :data:`~zoo.records.SCHEMA_VERSION`.

    Raises ``ValueError`` for a version no upgrade starts from (newer, or unknown).
    """
    version = data.get("schema_version")
    while version != SCHEMA_VERSION:
        step = UPGRADES.get(version) if isinstance(version, int) and not isinstance(version, bool) else None
        if step is None:
            raise ValueError(version)
        data = step(data)
        version = data["schema_version"]
    return data


__all__ = ["MERGE_KEYS_V1", "UPGRADES", "upgrade"]
