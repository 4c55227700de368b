"""Hugging Face model cards: the ``model-index`` key of a README.md's YAML front matter.

The Hub's documented schema (huggingface_hub's ``ModelCardData`` / ``EvalResult``)::

    ---
    library_name: timm
    base_model: timm/mobilenetv2_100.ra_in1k
    model-index:
    - name: mobilenetv2_100
      results:
      - task: {type: image-classification, name: Image Classification}
        dataset: {type: imagenet-1k, name: ImageNet-1k, config: default, split: validation}
        metrics:
        - {type: accuracy, value: 72.95, name: Top 1 Accuracy}
        - {type: accuracy, value: 91.0, name: Top 5 Accuracy}
    ---

Each entry of ``model-index`` is one card, named by its ``name``. A metric of an image
classification result on ImageNet-1k's validation split becomes a claim when zoo measures it
(:func:`metric_of`: ``accuracy`` named "Top 1 Accuracy", ``top-1 accuracy``, ``acc@1``,
``top_5_accuracy``, ...), read by the same rules as every card (written precision, a fraction
in (0, 1] read as its percentage), at the line of its ``value:``. Every other figure (another
metric, dataset, split or task) is kept as not checked, with the reason; a ``value`` left empty
is no claim.

The model a card means: ``library_name`` (else ``timm`` when the card is tagged so) names the
library; the repo the card was read from (``hf:ORG/NAME``) gives timm's ``hf-hub:ORG/NAME``
name, else ``base_model``, else the entry's name. The repo is also where its weights are
(``Weights Hub``, for ``--weights-source hub``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

from zoo.errors import InputError
from zoo.index.claims import ClaimReader, IMAGENET_NAMES, is_unclaimed, plain, problem_of
from zoo.index.documents import display_path, front_matter
from zoo.yaml_input import LocatedMap, error_position, load_located
from zoo.index.sources.base import Reading, SourceInput
from zoo.index.sources.model_index import file_digest
from zoo.metrics import MetricSpec, spec
from zoo.records import CardProblem, Claim, ModelCard, SourceRef, UncheckedClaim

KIND = "hf-model-card"
INDEX_KEY = "model-index"
WEIGHTS_HUB_KEY = "Weights Hub"
"""The metadata key naming the card's Hub repo (read by :mod:`zoo.weights.hub`)."""
_OWNS = re.compile(r"^model-index\s*:", re.M)

IMAGENET_DATASETS = frozenset(
    {*IMAGENET_NAMES, "ilsvrc/imagenet-1k", "timm/imagenet-1k-wds", "imagenet_1k", "ilsvrc-2012", "ilsvrc 2012", "ilsvrc2012 val"}
)
"""Dataset types and names (lower case) that mean ImageNet-1k (ILSVRC 2012) classification."""
VALIDATION_SPLITS = frozenset({"", "validation", "val", "valid"})
CLASSIFICATION_TASKS = frozenset({"image-classification", "image classification"})


def _squash(text: Any) -> str:
    """Lower case, letters and digits only: "Top-1 Accuracy" -> "top1accuracy", "acc@5" -> "acc5"."""
    return re.sub(r"[^0-9a-z]+", "", str(text or "").lower())


def metric_of(metric_type: Any, name: Any) -> Optional[MetricSpec]:
    """The zoo metric an HF metric entry claims, or None when zoo does not measure it.

    >>> metric_of("accuracy", "Top 1 Accuracy").name, metric_of("acc@5", None).name
    ('top1', 'top5')
    >>> metric_of("f1", "F1") is None
    True
    """
    words = f"{_squash(metric_type)} {_squash(name)}"
    if "err" in words or "loss" in words:
        return None
    if re.search(r"top5|(acc|accuracy)(at)?5\b", words):
        return spec("top5")
    if re.search(r"top1|(acc|accuracy)(at)?1\b", words):
        return spec("top1")
    if _squash(metric_type) in ("accuracy", "acc") and not re.search(r"top\d", _squash(name)):
        return spec("top1")  # classification accuracy is top-1 unless the name says otherwise
    return None


class HfCardSource:
    """The :class:`~zoo.index.sources.base.ClaimSource` of README.md front matter with ``model-index``."""

    kind = KIND

    def owns_spec(self, given: str) -> bool:
        return False

    def owns_file(self, path: Path, text: str) -> bool:
        found = front_matter(text) if path.suffix.lower() not in (".yml", ".yaml", ".json") else None
        return found is not None and bool(_OWNS.search(found[0]))

    def read(self, inputs: Sequence[SourceInput]) -> Reading:
        reading = Reading()
        for item in inputs:
            assert item.path is not None
            shown = display_path(item.path)
            reading.files.append(shown)
            reading.digests.append(file_digest(item.path))
            cards, problems = cards_from_text(item.text, shown, default_name=item.path.parent.name)
            reading.cards += cards
            reading.problems += problems
        return reading


def cards_from_text(
    text: str, shown: str, *, default_name: str = "", repo_id: str = "", revision: str = ""
) -> tuple[list[ModelCard], list[InputError]]:
    """The cards of one README's front matter (``shown`` names it in every claim's place).

    ``repo_id``/``revision``: the Hub repo (and commit) the README was read from.
    """
    found = front_matter(text)
    if found is None:
        return [], [InputError("no YAML front matter (--- lines at the top)", source=SourceRef(shown, 1), hint="a model card starts with its metadata between --- lines")]
    body, offset = found
    try:
        data = load_located(body, offset)
    except yaml.YAMLError as exc:
        line, column = error_position(exc, offset)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], [InputError(f"malformed YAML front matter: {problem}", source=SourceRef(shown, line or offset + 1), column=column, hint="fix the YAML syntax at that place")]
    if not isinstance(data, LocatedMap) or INDEX_KEY not in data:
        return [], [InputError(f"the front matter has no {INDEX_KEY} key", source=SourceRef(shown, 1), hint="evaluation results go under model-index: in the card's metadata")]
    entries = data.get(INDEX_KEY)
    where = SourceRef(shown, data.line_of(INDEX_KEY))
    if is_unclaimed(entries):
        return [], []
    if not isinstance(entries, list):
        return [], [InputError(f"{INDEX_KEY} must be a list of {{name, results}}", source=where, field=INDEX_KEY, hint="see the Hub's model card metadata docs")]
    card_meta = _card_metadata(data, repo_id, revision)
    problems: list[InputError] = []
    cards = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, LocatedMap):
            problems.append(InputError(f"each entry of {INDEX_KEY} must be a mapping", source=where, field=INDEX_KEY))
            continue
        name = _text(entry.get("name")) or (repo_id.split("/")[-1] if repo_id else default_name)
        if not name:
            problems.append(InputError("a model-index entry has no name", source=SourceRef(shown, entry.line), field="name", hint="add `name: <model name>`"))
            continue
        cards.append(_card(name, entry, shown, data, card_meta, repo_id))
    return cards, problems


def _card(name: str, entry: LocatedMap, shown: str, data: LocatedMap, card_meta: dict[str, Any], repo_id: str) -> ModelCard:
    own: list[CardProblem] = []
    reader = ClaimReader(shown, name, own)
    claims: dict[str, Claim] = {}
    unchecked: list[UncheckedClaim] = []
    results = entry.get("results")
    if results is not None and not isinstance(results, list):
        own.append(problem_of(InputError("results must be a list of {task, dataset, metrics}", source=SourceRef(shown, entry.line_of("results")), model=name, field="results")))
        results = []
    for result in results or []:
        if not isinstance(result, LocatedMap):
            continue
        why_not = _not_imagenet_classification(result)
        metrics = result.get("metrics")
        if not isinstance(metrics, list):
            if metrics is not None:
                own.append(problem_of(InputError("metrics must be a list of {type, value, name}", source=SourceRef(shown, result.line_of("metrics")), model=name, field="metrics")))
            continue
        for metric in metrics:
            if not isinstance(metric, LocatedMap) or "value" not in metric:
                continue
            label = _text(metric.get("name")) or _text(metric.get("type")) or "metric"
            place = SourceRef(shown, metric.line_of("value"))
            chosen = metric_of(metric.get("type"), metric.get("name"))
            reason = why_not or ("" if chosen else f"zoo does not measure {_text(metric.get('type')) or label!r}")
            if chosen is not None and not reason and chosen.name in claims:
                reason = f"a second {chosen.label} claim for ImageNet-1k (the first is at {claims[chosen.name].source})"
            if reason:
                if not is_unclaimed(metric.get("value")):
                    unchecked.append(UncheckedClaim(label, metric.raw.get("value", str(metric.get("value"))), place, reason))
                continue
            assert chosen is not None
            claim = reader.claim(metric, "value", chosen)
            if claim is not None:
                claims[chosen.name] = replace(claim, field=label)
            elif reader.not_claimed and reader.not_claimed[-1] == "value":
                reader.not_claimed[-1] = label
    library = _text(data.get("library_name")).lower() or ("timm" if "timm" in _tags(data) else "")
    base = data.get("base_model")
    base = _text(base[0] if isinstance(base, list) and base else base)
    builds = f"hf-hub:{repo_id}" if repo_id else (f"hf-hub:{base}" if "/" in base else base)
    return ModelCard(
        name=name, source=SourceRef(shown, entry.line), claims=claims, metadata=dict(card_meta),
        field_lines={"model-index": entry.line, **({WEIGHTS_HUB_KEY: data.line_of(INDEX_KEY)} if repo_id else {})},
        origin=KIND, library=library, builds=builds, not_claimed=tuple(reader.not_claimed), unchecked=tuple(unchecked),
        problems=tuple(own),
    )


def _not_imagenet_classification(result: LocatedMap) -> str:
    """Why a result is not one zoo checks ("" when it is ImageNet-1k validation image classification)."""
    task, dataset = result.get("task"), result.get("dataset")
    task_type = _text(task.get("type") if isinstance(task, dict) else task).lower()
    task_name = _text(task.get("name") if isinstance(task, dict) else "").lower()
    if task_type not in CLASSIFICATION_TASKS and task_name not in CLASSIFICATION_TASKS:
        return f"task {task_type or task_name or 'unstated'!r} is not image classification"
    if not isinstance(dataset, dict):
        dataset = {"type": dataset}
    names = {_text(dataset.get("type")).lower(), _text(dataset.get("name")).lower()} - {""}
    if not names & IMAGENET_DATASETS:
        return f"dataset {' / '.join(sorted(names)) or 'unstated'} is not ImageNet-1k"
    split = _text(dataset.get("split")).lower()
    if split not in VALIDATION_SPLITS:
        return f"split {split!r}: zoo measures ImageNet-1k's validation split"
    return ""


def _card_metadata(data: LocatedMap, repo_id: str, revision: str) -> dict[str, Any]:
    """What the card says besides its results (library, base model, datasets, license), and its Hub repo."""
    kept = {k: plain(v) for k, v in data.items() if k != INDEX_KEY and isinstance(k, str)}
    if repo_id:
        kept[WEIGHTS_HUB_KEY] = f"{repo_id}@{revision}" if revision else repo_id
    return kept


def _tags(data: LocatedMap) -> list[str]:
    tags = data.get("tags")
    return [str(t).lower() for t in tags] if isinstance(tags, list) else []


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


SOURCE = HfCardSource()

__all__ = ["HfCardSource", "IMAGENET_DATASETS", "KIND", "SOURCE", "cards_from_text", "metric_of"]
