"""Data exports of a run record: CSV (one row per claim or measurement) and model-index JSON.

The JSON is in model-index style: each model's measured values under the field names its
card uses ("Parameters", "FLOPs", "File Size"; Results -> Metrics -> "Top 1 Accuracy"),
so a zoo can publish them back in place of, or beside, its claims.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Optional, Union

from zoo.metrics import METRICS
from zoo.records import Measurement, Metric, ModelResult, RunRecord, Verdict
from zoo.atomic import write_atomic
from zoo.inert import csv_row
from zoo.views.rows import judged_reading, judged_value

CSV_COLUMNS = (
    "run_id", "model", "metric", "field", "verdict", "gating", "claimed", "claimed_raw", "measured", "measured_primary",
    "convention", "unit",
    "difference", "relative_difference", "tolerance_relative", "tolerance_absolute", "allowed",
    "interval_low", "interval_high", "interval_kind", "measurement_status", "method", "conditions",
    "reason", "explanation", "source", "waiver_expires",
)


def _scalar(value: Any) -> Any:
    return "" if value is None else value


def _verdict_row(run: RunRecord, verdict: Verdict) -> dict[str, Any]:
    claim, measurement, tolerance = verdict.claim, verdict.measurement, verdict.tolerance
    row = _measurement_part(measurement)
    judged = judged_reading(verdict)
    if judged is not None:  # the value the verdict judged (a FLOPs convention, a paired estimate); the primary beside it
        row.update(measured=judged[0], convention=judged[1])
    allowed: Any = ""
    if tolerance is not None and claim is not None and isinstance(claim.value, (int, float)) and not isinstance(claim.value, bool):
        allowed = tolerance.allowed(float(claim.value))
    row.update(
        run_id=run.run_id, model=verdict.model, metric=verdict.metric, field=claim.field if claim else "",
        verdict=verdict.status, gating=verdict.gating,
        claimed=_scalar(claim.value if claim else None), claimed_raw=claim.raw if claim else "",
        difference=_scalar(verdict.difference), relative_difference=_scalar(verdict.relative_difference),
        tolerance_relative=_scalar(tolerance.relative if tolerance else None),
        tolerance_absolute=_scalar(tolerance.absolute if tolerance else None), allowed=allowed,
        explanation=verdict.explanation, source=str(claim.source) if claim else "",
        waiver_expires=verdict.waiver.expires if verdict.waiver else "",
    )
    return row


def _measurement_part(measurement: Optional[Measurement]) -> dict[str, Any]:
    if measurement is None:
        return {"measurement_status": "missing"}
    interval = measurement.uncertainty
    return {
        "measured": _scalar(measurement.value), "measured_primary": _scalar(measurement.value), "unit": measurement.unit,
        "interval_low": _scalar(interval.low if interval else None), "interval_high": _scalar(interval.high if interval else None),
        "interval_kind": interval.kind if interval else "", "measurement_status": measurement.status,
        "method": measurement.method, "conditions": json.dumps(measurement.conditions, sort_keys=True) if measurement.conditions else "",
        "reason": measurement.reason or "",
    }


def csv_rows(run: RunRecord) -> list[dict[str, Any]]:
    """One row per verdict, then one per measurement no claim covers (e.g. throughput)."""
    rows = []
    for result in run.models:
        judged = {v.metric for v in result.verdicts}
        rows += [_verdict_row(run, v) for v in result.verdicts]
        for measurement in result.measurements:
            if measurement.metric not in judged:
                row = _measurement_part(measurement)
                row.update(run_id=run.run_id, model=result.card.name, metric=measurement.metric)
                rows.append(row)
    return [{column: row.get(column, "") for column in CSV_COLUMNS} for row in rows]


def render_csv(run: RunRecord) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_row(row) for row in csv_rows(run))  # no cell a spreadsheet would run (zoo.inert)
    return buffer.getvalue()


def write_csv(run: RunRecord, path: Union[str, Path]) -> Path:
    """Write :func:`render_csv` to ``path`` atomically."""
    return write_atomic(path, render_csv(run))


# --------------------------------------------------------------------------- model-index JSON

_SECTIONS = {"metadata": "Metadata", "results": "Metrics"}
_CARD_FIELDS: dict[str, tuple[str, str, str]] = {
    m.name: (_SECTIONS[m.section], m.field, m.read) for m in METRICS if m.section in _SECTIONS and m.card_fields
}
"""metric -> (section, the field name cards use, how cards write it), from :data:`zoo.metrics.METRICS`."""


def _decimals(precision: Optional[float], default: int = 2) -> int:
    if not precision or precision >= 1:
        return default if precision is None else 0
    return max(0, -math.floor(math.log10(precision) + 1e-9))


def _card_value(measurement: Measurement, kind: str, precision: Optional[float], value: Any) -> Any:
    if kind == "percent" and isinstance(value, (int, float)):
        return f"{value:.{max(_decimals(precision), 2)}f}%"
    if kind in ("count", "bytes", "size") and isinstance(value, (int, float)):
        return int(round(value))
    return value


def _results_block(result: ModelResult) -> dict[str, str]:
    """Task and Dataset as the card wrote them for its ImageNet result."""
    for entry in result.card.metadata.get("Results") or []:
        if isinstance(entry, dict) and str(entry.get("Dataset", "")).strip().lower().startswith(("imagenet", "ilsvrc")):
            return {"Task": str(entry.get("Task", "Image Classification")), "Dataset": str(entry["Dataset"])}
    return {"Task": "Image Classification", "Dataset": "ImageNet"}


def model_index_entry(result: ModelResult) -> dict[str, Any]:
    """One model's measured values in its card's shape (only values measured ``ok``).

    A value goes under the field name the card's claim used, else the usual name; a
    measurement no card field describes (latency, an unclaimed throughput) is left out.
    """
    metadata: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for measurement in result.measurements:
        if measurement.status != "ok" or measurement.metric == Metric.WEIGHTS.value:
            continue
        claim = result.card.claim(measurement.metric)
        known = _CARD_FIELDS.get(measurement.metric)
        if known is None and claim is None:
            continue
        section, name, kind = known if known is not None else ("Metadata", "", "number")
        if claim is not None and claim.field:
            name = claim.field
        # The value the verdict judged (a FLOPs card gets back the convention it matched).
        value = _card_value(measurement, kind, claim.precision if claim else None, judged_value(result, measurement.metric))
        (metrics if section == "Metrics" else metadata)[name] = value
    entry: dict[str, Any] = {"Name": result.card.name}
    if result.card.collection:
        entry["In Collection"] = result.card.collection
    if metadata:
        entry["Metadata"] = metadata
    if metrics:
        entry["Results"] = [{**_results_block(result), "Metrics": metrics}]
    return entry


def model_index(run: RunRecord) -> dict[str, Any]:
    """``{"Models": [...]}``: every model of the run with its measured values."""
    return {"Models": [model_index_entry(result) for result in run.models]}


def render_model_index_json(run: RunRecord) -> str:
    """:func:`model_index` as indented JSON text."""
    return json.dumps(model_index(run), indent=2, ensure_ascii=False) + "\n"


def write_model_index_json(run: RunRecord, path: Union[str, Path]) -> Path:
    """Write :func:`render_model_index_json` to ``path`` atomically."""
    return write_atomic(path, render_model_index_json(run))
