"""A run's measured results as a Hugging Face model card's front matter (``zoo report --format hf-model-index``).

Written in the Hub's own schema by huggingface_hub (``EvalResult`` ->
``eval_results_to_model_index``), so a zoo can publish zoo's measurements on its model cards:
one ``model-index`` entry per model, with the top-1 and top-5 accuracy measured (the figure
the verdict judged, to the precision the card claimed, at least two decimals) on ImageNet-1k's
validation split as ``accuracy`` metrics named "Top 1 Accuracy" / "Top 5 Accuracy", marked
unverified by the Hub. These are the figures zoo's card reader checks
(:mod:`zoo.index.sources.hf_card`), so the output read back with ``zoo list`` gives the same
numbers; a model without a measured accuracy gets an entry with no results.
"""

from __future__ import annotations

from typing import Any, Optional

import yaml

from zoo.records import ModelResult, RunRecord
from zoo.views.rows import judged_value

TASK = ("image-classification", "Image Classification")
DATASET = ("imagenet-1k", "ImageNet-1k", "validation")
METRIC_NAMES = {"top1": "Top 1 Accuracy", "top5": "Top 5 Accuracy"}


def _decimals(precision: Optional[float]) -> int:
    """Decimals of a claim's written precision (0.01 -> 2), at least two."""
    if not precision or precision >= 1:
        return 2
    return max(2, len(f"{precision:.10f}".rstrip("0").split(".")[1]))


def model_entry(result: ModelResult, run_id: str) -> dict[str, Any]:
    """One model's ``model-index`` entry (only accuracy measured ``ok``)."""
    from huggingface_hub import EvalResult
    from huggingface_hub.repocard_data import eval_results_to_model_index

    found = []
    for metric, name in METRIC_NAMES.items():
        measurement = result.measurement(metric)
        value = judged_value(result, metric)
        if measurement is None or measurement.status != "ok" or not isinstance(value, (int, float)):
            continue
        claim = result.card.claim(metric)
        images = measurement.conditions.get("images")
        found.append(EvalResult(
            task_type=TASK[0], task_name=TASK[1], dataset_type=DATASET[0], dataset_name=DATASET[1], dataset_split=DATASET[2],
            metric_type="accuracy", metric_name=name, metric_value=round(float(value), _decimals(claim.precision if claim else None)),
            metric_args={"images": images, "zoo_run": run_id} if images else {"zoo_run": run_id}, verified=False,
        ))
    if not found:
        return {"name": result.card.name, "results": []}
    return eval_results_to_model_index(result.card.name, found)[0]


def render_hf_model_index(run: RunRecord) -> str:
    """A README.md front matter holding every model's measured results (see the module doc)."""
    libraries = {result.card.library or "timm" for result in run.models}
    data: dict[str, Any] = {}
    if len(libraries) == 1:
        data["library_name"] = libraries.pop()
    data["model-index"] = [model_entry(result, run.run_id) for result in run.models]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{body}---\n\nMeasured by zoo, run {run.run_id} ({run.finished}).\n"
