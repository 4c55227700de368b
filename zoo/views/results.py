"""One row per model for machines: ``zoo verify --format json|csv`` and ``zoo bench``.

The field names are the ones timm's ``validate.py`` and ``benchmark.py`` write (``top1``,
``top1_err``, ``param_count`` in millions, ``img_size``, ``crop_pct``, ``interpolation``,
``infer_samples_per_sec``, ``infer_step_time``, ``infer_batch_size``, ``infer_gmacs``,
``infer_macts``), so scripts written
for their CSVs read these. zoo's own figures follow: exact parameters, the FLOPs the
verdict judged with its convention (the primary fvcore reading beside it), file size,
SHA-256, latency, and each claim's verdict as ``<metric>_verdict``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Optional

from zoo.inert import csv_row
from zoo.judge.gate import requested_metrics, run_exit_code
from zoo.records import Measurement, ModelResult, RunRecord
from zoo.views.rows import METRIC_ORDER, VERDICT_ORDER, judged_convention, judged_value

TIMM_FIELDS = (
    "model", "top1", "top1_err", "top5", "top5_err", "param_count", "img_size", "crop_pct", "interpolation",
    "infer_samples_per_sec", "infer_step_time", "infer_batch_size", "infer_img_size", "infer_gmacs", "infer_macts",
)
ZOO_FIELDS = (
    "top1_primary", "top1_reading", "top5_primary", "top5_reading",
    "parameters", "flops", "flops_convention", "flops_primary", "file_size", "weights_sha256",
    "infer_samples_per_sec_iqr_low", "infer_samples_per_sec_iqr_high", "infer_latency_p50_ms", "infer_latency_p90_ms",
    "infer_device", "infer_dtype", "infer_threads", "accuracy_images", "verdict",
)
VERDICT_FIELDS = tuple(f"{metric}_verdict" for metric in METRIC_ORDER)
FIELDS = TIMM_FIELDS + ZOO_FIELDS + VERDICT_FIELDS


def _ok(result: ModelResult, metric: str) -> Optional[Measurement]:
    m = result.measurement(metric)
    return m if m is not None and m.status == "ok" else None


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _rounded(value: Any, digits: int) -> Optional[float]:
    number = _number(value)
    return round(number, digits) if number is not None else None


def model_row(result: ModelResult, requested: set[str]) -> dict[str, Any]:
    """One model's figures and verdicts (None where nothing was measured)."""
    row: dict[str, Any] = {name: None for name in FIELDS}
    row["model"] = result.card.name
    for metric in ("top1", "top5"):
        value = _rounded(judged_value(result, metric), 4)
        row[metric] = value
        row[f"{metric}_err"] = round(100 - value, 4) if value is not None else None
        own = _ok(result, metric)
        row[f"{metric}_primary"] = _rounded(own.value, 4) if own is not None else None  # the images scored, as measured
        row[f"{metric}_reading"] = judged_convention(result, metric)
    params = _number(judged_value(result, "parameters"))
    row["parameters"] = int(params) if params is not None else None
    row["param_count"] = round(params / 1e6, 2) if params is not None else None
    image_size = judged_value(result, "image_size")
    row["img_size"] = int(image_size) if _number(image_size) is not None else image_size  # type: ignore[arg-type]
    row["crop_pct"] = judged_value(result, "crop_pct")
    row["interpolation"] = judged_value(result, "interpolation")
    flops = _number(judged_value(result, "flops"))
    primary = _ok(result, "flops")
    row["flops"] = int(flops) if flops is not None else None
    verdict = next((v for v in result.verdicts if v.metric == "flops"), None)
    row["flops_convention"] = (verdict.convention if verdict is not None else None) or judged_convention(result, "flops")
    row["flops_primary"] = primary.value if primary is not None else None
    if primary is not None and _number(primary.value) is not None:
        row["infer_gmacs"] = round(float(primary.value) / 1e9, 2)  # type: ignore[arg-type]  # fvcore MACs, as benchmark.py
    if primary is not None and _number(primary.conditions.get("activations")):
        row["infer_macts"] = round(float(primary.conditions["activations"]) / 1e6, 2)  # type: ignore[arg-type]
    size = _ok(result, "file_size")
    row["file_size"] = size.value if size is not None else None
    weights = _ok(result, "weights")
    row["weights_sha256"] = weights.value if weights is not None and weights.unit == "sha256" else None
    throughput = _ok(result, "throughput")
    if throughput is not None:
        conditions = throughput.conditions
        row["infer_samples_per_sec"] = _rounded(throughput.value, 2)
        row["infer_batch_size"] = conditions.get("batch_size")
        batch = _number(conditions.get("batch_size"))
        if batch and _number(throughput.value):  # ms per batch, as benchmark.py's step_time
            row["infer_step_time"] = round(1000 * batch / float(throughput.value), 3)  # type: ignore[arg-type]
        input_size = str(conditions.get("input_size") or "")
        row["infer_img_size"] = int(input_size.rsplit("x", 1)[-1]) if input_size.rsplit("x", 1)[-1].isdigit() else None
        row["infer_device"] = conditions.get("device")
        row["infer_dtype"] = conditions.get("dtype")
        row["infer_threads"] = conditions.get("threads")
        if throughput.uncertainty is not None:
            row["infer_samples_per_sec_iqr_low"] = round(throughput.uncertainty.low, 2)
            row["infer_samples_per_sec_iqr_high"] = round(throughput.uncertainty.high, 2)
    for metric in ("latency_p50", "latency_p90"):
        m = _ok(result, metric)
        row[f"infer_{metric}_ms"] = _rounded(m.value, 4) if m is not None else None
    top1 = _ok(result, "top1")
    row["accuracy_images"] = top1.conditions.get("images") if top1 is not None else None
    statuses = set()
    for verdict in result.verdicts:
        asked = verdict.metric in requested or verdict.status != "unverified"
        row[f"{verdict.metric}_verdict"] = verdict.status if asked else "not asked for"
        if asked:
            statuses.add(verdict.status)
    row["verdict"] = next((status for status in VERDICT_ORDER if status in statuses), None)
    return row


def result_rows(run: RunRecord) -> list[dict[str, Any]]:
    requested = requested_metrics(run)
    return [model_row(result, requested) for result in run.models]


def render_results_json(run: RunRecord) -> str:
    """``{"run_id", "exit_code", "results": [row, ...]}`` as indented JSON."""
    payload = {"run_id": run.run_id, "exit_code": run_exit_code(run), "results": result_rows(run)}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render_results_csv(run: RunRecord) -> str:
    """A header and one row per model; empty cells where nothing was measured. The columns are
    always :data:`FIELDS`, whatever was measured (``--only``), so scripts can rely on them."""
    rows = result_rows(run)
    used = list(FIELDS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=used, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(csv_row({key: "" if row[key] is None else row[key] for key in used}))  # zoo.inert's cell rule
    return buffer.getvalue()


__all__ = ["FIELDS", "TIMM_FIELDS", "model_row", "render_results_csv", "render_results_json", "result_rows"]
