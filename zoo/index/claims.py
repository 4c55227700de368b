"""Turning a model's model-index entry into typed claims with their sources."""

from __future__ import annotations

from typing import Any, Optional

from zoo.errors import InputError
from zoo.yaml_input import LocatedMap
from zoo.index.values import read_number, round_float_artifact
from zoo.metrics import MetricSpec, card_fields
from zoo.records import CardProblem, Claim, SourceRef

METADATA_FIELDS: dict[str, MetricSpec] = card_fields("metadata")
"""Metadata fields of a model entry, by the name cards use (from :data:`zoo.metrics.METRICS`)."""
RESULT_FIELDS: dict[str, MetricSpec] = card_fields("results")
"""Results -> Metrics fields for ImageNet image classification."""
ENTRY_FIELDS: dict[str, MetricSpec] = card_fields("entry")
"""Keys of the model entry itself (Weights)."""
PERCENT_PRECISION_LIMIT = 1.0
"""The coarsest precision a percentage is read with (one percentage point)."""
IMAGENET_NAMES = {"imagenet", "imagenet-1k", "imagenet1k", "imagenet 1k", "ilsvrc2012", "imagenet-1k val"}


def problem_of(exc: InputError, metric: str = "") -> CardProblem:
    """An error in one model's entry, kept with the card (judged an ``error`` of that model)."""
    return CardProblem(str(exc), exc.source or SourceRef("?", 0), exc.field or "", metric)


def is_unclaimed(value: Any) -> bool:
    """Whether a card's value states nothing: YAML's null (``FLOPs: null``, ``FLOPs:``) or empty text."""
    return value is None or (isinstance(value, str) and not value.strip())


class ClaimReader:
    """Reads claims of one model, with errors that name file, line, model and field.

    Strict (the default), a value that cannot be read raises :class:`InputError`; with
    ``problems`` given, it is appended there (the card's own error) and the claim left out.
    A field written with no value is no claim: its name goes to :attr:`not_claimed`.
    """

    def __init__(self, path: str, model: str, problems: Optional[list[CardProblem]] = None) -> None:
        self.path = path
        self.model = model
        self.problems = problems
        self.not_claimed: list[str] = []

    def claim(self, mapping: LocatedMap, key: str, spec: MetricSpec) -> Optional[Claim]:
        """:meth:`read`, except that an empty value is no claim and, when collecting problems, a bad one neither."""
        if is_unclaimed(mapping[key]):
            self.not_claimed.append(str(key))
            return None
        try:
            return self.read(mapping, key, spec)
        except InputError as exc:
            if self.problems is None:
                raise
            self.problems.append(problem_of(exc, metric=spec.name))
            return None

    def _fail(self, mapping: LocatedMap, key: str, message: str, hint: str) -> InputError:
        return InputError(
            message,
            source=SourceRef(self.path, mapping.line_of(key)),
            model=self.model,
            field=key,
            hint=hint,
        )

    def read(self, mapping: LocatedMap, key: str, spec: MetricSpec) -> Claim:
        """The claim ``mapping[key]`` makes about ``spec``'s metric, read as the table says (:data:`zoo.metrics.ReadAs`)."""
        value = mapping[key]
        raw = mapping.raw.get(key, str(value))
        source = SourceRef(self.path, mapping.line_of(key))
        if spec.read == "url":
            if not isinstance(value, str):
                raise self._fail(mapping, key, f"expected one URL, found {value!r}", "write the checkpoint's URL as text")
            return Claim(spec.name, key, value, raw, source, spec.unit, None)
        if spec.read == "text":
            if isinstance(value, (dict, list)) or value is None:
                raise self._fail(mapping, key, f"expected text, found {value!r}", "write a single word such as 'bicubic'")
            return Claim(spec.name, key, str(value), raw, source, spec.unit, None)
        number = read_number(raw, spec.scales) if value is not None and not isinstance(value, (dict, list)) else None
        if number is None:
            units = f", or in {', '.join(word for word, _ in spec.scales)} ('97.781 MiB')" if spec.scales else ""
            raise self._fail(
                mapping, key, f"cannot read {raw!r} as a number",
                f"write a plain number such as 3500000, 0.875 or '72.95%'{units}",
            )
        if spec.read == "percent":
            percent, precision = number.value, number.precision
            if not number.is_percent and 0 < number.value <= 1:
                # A bare fraction (0.7295) is the same claim written as a ratio.
                percent, precision = number.value * 100, number.precision * 100
            if not 0 <= percent <= 100:
                raise self._fail(mapping, key, f"{raw!r} is not a percentage between 0 and 100", "write it as '72.95%'")
            # A percentage is written to the unit at most: "90%" is 90 +/- 0.5, not 90 +/- 5
            # (the trailing-zero rule of counts would read it as rounded to the tens).
            precision = min(precision, PERCENT_PRECISION_LIMIT)
            return Claim(spec.name, key, round(percent, 10), raw, source, spec.unit, precision)
        if spec.read == "bytes" and number.unit:  # "97.781 MiB": holds to half its last digit, in bytes
            return Claim(spec.name, key, int(round(number.value)), raw, source, spec.unit, number.precision)
        if spec.read in ("count", "bytes", "size"):
            if not number.is_integer:
                raise self._fail(mapping, key, f"{raw!r} is not a whole number", "write a whole count such as 3500000 or 3.5M")
            if spec.read == "count":
                number = round_float_artifact(raw) or number
                precision = number.precision
            else:  # bytes and sizes are exact: "224" is 224, not "to the unit of its last non-zero digit"
                precision = 1.0 if spec.read == "bytes" else 0.0
            return Claim(spec.name, key, int(number.value), raw, source, spec.unit, precision)
        # decimal: holds to half a unit of its last written digit ("0.897" for 0.8975)
        return Claim(spec.name, key, number.value, raw, source, spec.unit, number.precision)


def collect_claims(entry: LocatedMap, metadata: LocatedMap, reader: ClaimReader) -> dict[str, Claim]:
    """All claims of one model entry (its merged Metadata, Weights and ImageNet Results).

    Throughput figures (``FPS (GPU ...)`` keys) stay in the card's metadata: they hold only
    for the device they name, so zoo.index.reference turns them into a claim once the
    measuring device is known. A field with no value is no claim (``reader.not_claimed``).
    """
    claims: dict[str, Claim] = {}

    def add(mapping: LocatedMap, key: str, spec: Optional[MetricSpec]) -> None:
        if spec is None:
            return
        claim = reader.claim(mapping, key, spec)
        if claim is not None:
            claims[spec.name] = claim

    for key in metadata:
        add(metadata, key, METADATA_FIELDS.get(key))
    for key in entry:
        add(entry, key, ENTRY_FIELDS.get(key))
    for result in _imagenet_results(entry, reader):
        metrics = result.get("Metrics")
        if not isinstance(metrics, LocatedMap):
            continue
        for key in metrics:
            add(metrics, key, RESULT_FIELDS.get(key))
    return claims


def _imagenet_results(entry: LocatedMap, reader: ClaimReader) -> list[LocatedMap]:
    results = entry.get("Results") or []
    if not isinstance(results, list):
        error = InputError(
            "Results must be a list of {Task, Dataset, Metrics}",
            source=SourceRef(reader.path, entry.line_of("Results")), model=reader.model, field="Results",
        )
        if reader.problems is None:
            raise error
        reader.problems.append(problem_of(error))
        return []
    chosen = []
    for result in results:
        if not isinstance(result, LocatedMap):
            continue
        dataset = str(result.get("Dataset", "")).strip().lower()
        task = str(result.get("Task", "Image Classification")).strip().lower()
        if dataset in IMAGENET_NAMES and task == "image classification":
            chosen.append(result)
    return chosen


def plain(value: Any) -> Any:
    """A located structure as plain dicts and lists (for ModelCard.metadata)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)
