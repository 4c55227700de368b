"""Typed records that flow through zoo: claims -> measurements -> verdicts -> run record.

Every record is a plain dataclass. Run records are written to and read from JSON
with :func:`to_json_dict` / :func:`from_json_dict`, which use pydantic's
``TypeAdapter`` so a damaged file is rejected with the field that is wrong.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TypeVar, Union

from zoo.metrics import MEASUREMENT_KINDS, Metric, metrics_of  # noqa: F401  (re-exported: the metric table lives in zoo.metrics)

SCHEMA_VERSION = 3
"""Version 2 moved the merge and gate facts out of ``options`` into typed fields and gave
verdicts their convention; version 3 added ``judged_against``. Older records are upgraded on
read (:mod:`zoo.runs.schema`)."""

Scalar = Union[bool, int, float, str, None]
"""A value that can stand in a JSON record as is (conditions, extras)."""


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class SourceRef:
    """Where something was written: a file and a 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Claim:
    """One documented figure, as written in the model index.

    ``precision`` is the unit of the last digit the author wrote ("72.95%" -> 0.01,
    "3500000" -> 100000); ``None`` for text values.
    """

    metric: str
    field: str
    value: Union[int, float, str]
    raw: str
    source: SourceRef
    unit: str = ""
    precision: Optional[float] = None


@dataclass(frozen=True)
class CardProblem:
    """Bad input in one model's card: an ``error`` verdict of that model, not a refusal of the index."""

    message: str
    """What is wrong and what to do, with ``file:line``, model and field (an InputError's text)."""
    source: SourceRef
    field: str = ""
    metric: str = ""
    """The metric of a claim that could not be read; "" for the entry itself (an undefined collection)."""


@dataclass(frozen=True)
class UncheckedClaim:
    """A figure a card states that zoo does not measure (another metric, dataset or task): listed, never judged."""

    field: str
    raw: str
    source: SourceRef
    reason: str
    """Why zoo does not check it ("zoo does not measure f1", "dataset imagenet-v2 is not ImageNet-1k validation")."""


@dataclass(frozen=True)
class ModelCard:
    """A model as the index documents it: its claims plus everything else it said."""

    name: str
    source: SourceRef
    collection: Optional[str] = None
    claims: dict[str, Claim] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    """Every other key of the model's entry (Architecture, LR, Code, ...), kept verbatim."""
    field_lines: dict[str, int] = field(default_factory=dict)
    """Line of each entry key and each ``Metadata.<key>`` in ``source.path``, for claims found later."""
    origin: str = "model-index"
    """The claim source it was read from (:mod:`zoo.index.sources`): "model-index", "hf-model-card"."""
    library: str = ""
    """The library that builds it ("timm", "torchvision", ...), stated by the card or inferred by its
    source; "" (a card made in code) is timm's."""
    builds: str = ""
    """What the library builds when it is not ``name`` (``hf-hub:timm/mobilenetv2_100.ra_in1k``)."""
    not_claimed: tuple[str, ...] = ()
    """Fields written with no value (``FLOPs: null``, an empty ``Top 1 Accuracy:``): no claim."""
    unchecked: tuple[UncheckedClaim, ...] = ()
    """Figures the card states that zoo does not measure: listed as not checked, never judged."""
    problems: tuple[CardProblem, ...] = ()
    """Bad input in this model's entry, each judged an ``error`` of this model."""

    def claim(self, metric: str | Metric) -> Optional[Claim]:
        key = metric.value if isinstance(metric, Metric) else metric
        return self.claims.get(key)

    def number(self, metric: str | Metric) -> Optional[float]:
        """The claimed value of ``metric`` as a number, or ``None`` if absent or text."""
        claim = self.claim(metric)
        if claim is None or isinstance(claim.value, str):
            return None
        return float(claim.value)


# --------------------------------------------------------------------------- measurements


MeasurementStatus = Literal["ok", "unavailable", "error"]
"""ok: a value was measured. unavailable: it could not be made (network, data, OOM,
not implemented), with a reason. error: the model or its input is broken."""


@dataclass(frozen=True)
class Uncertainty:
    """A range around a measured value: a confidence interval or a run-to-run spread."""

    kind: str
    """e.g. "wilson-95", "iqr", "min-max"."""
    low: float
    high: float
    level: Optional[float] = None
    """Confidence level for an interval (0.95), None for a spread."""


@dataclass(frozen=True)
class Alternative:
    """One candidate reading of a measurement under another convention (e.g. FLOPs)."""

    convention: str
    value: float
    description: str = ""


@dataclass(frozen=True)
class ChangedPrediction:
    """An image whose top-1 prediction differs from a stored baseline's."""

    name: str
    label: int
    baseline_top1: int
    new_top1: int
    """-1 where the image could not be read in this run."""


@dataclass(frozen=True)
class PairedEstimate:
    """An accuracy paired with a stored baseline (zoo.measure.accuracy.paired), or why the baseline was not used.

    When ``used``, ``value`` / ``low`` / ``high`` estimate the full-set accuracy (percent) as
    the baseline's plus the change over the ``images`` scored by both.
    """

    baseline: str
    """The baseline file, as named in ``metadata/baselines/``."""
    used: bool
    reason: Optional[str] = None
    """Why the baseline was not used (checkpoint, transform or dataset differs, ...)."""
    baseline_run: str = ""
    baseline_images: int = 0
    baseline_value: Optional[float] = None
    """The baseline's accuracy over its whole population, percent."""
    images: int = 0
    gained: int = 0
    """Images wrong in the baseline and right now."""
    lost: int = 0
    changed_count: int = 0
    """Images whose top-1 prediction differs from the baseline's (also wrong -> other wrong)."""
    changed: list[ChangedPrediction] = field(default_factory=list)
    """Those images, on the top-1 measurement only."""
    value: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    level: Optional[float] = None
    population: Optional[int] = None
    method: str = ""


@dataclass(frozen=True)
class Measurement:
    """One measured quantity for one model, or why it could not be measured."""

    metric: str
    status: MeasurementStatus
    value: Union[int, float, str, None] = None
    unit: str = ""
    method: str = ""
    """How it was made: tool and version, convention (human readable)."""
    conditions: dict[str, Scalar] = field(default_factory=dict)
    """Input size, device, dtype, batch size, dataset fingerprint, images, ..."""
    uncertainty: Optional[Uncertainty] = None
    alternatives: list[Alternative] = field(default_factory=list)
    reason: Optional[str] = None
    """Why it could not be made (status != "ok")."""
    notes: list[str] = field(default_factory=list)
    paired: Optional[PairedEstimate] = None
    """Top-1/top-5 judged against a stored baseline (see :class:`PairedEstimate`)."""

    @classmethod
    def unavailable(cls, metric: str, reason: str, **kw: Any) -> "Measurement":
        return cls(metric=metric, status="unavailable", reason=reason, **kw)

    @classmethod
    def failed(cls, metric: str, reason: str, **kw: Any) -> "Measurement":
        return cls(metric=metric, status="error", reason=reason, **kw)


# --------------------------------------------------------------------------- judging


VerdictStatus = Literal["pass", "drift", "unverified", "error", "waived"]


@dataclass(frozen=True)
class Tolerance:
    """How far a measurement may sit from its claim and still pass.

    ``relative`` is a fraction of the claim (0.02 = 2%), ``absolute`` is in the
    metric's unit (percentage points for accuracy). Either may be zero.
    """

    metric: str
    relative: float = 0.0
    absolute: float = 0.0
    gate: bool = False
    """Whether a drift of this metric fails the CI gate (exit code 1)."""

    def allowed(self, claimed: float) -> float:
        return max(abs(claimed) * self.relative, self.absolute)


@dataclass(frozen=True)
class Waiver:
    """A known, accepted disagreement: it turns drift into waived until it expires."""

    model: str
    metric: str
    reason: str
    expires: str
    """ISO date (YYYY-MM-DD); the waiver stops waiving after this day."""
    source: Optional[SourceRef] = None


@dataclass(frozen=True)
class Verdict:
    """A claim set beside its measurement."""

    model: str
    metric: str
    status: VerdictStatus
    explanation: str
    claim: Optional[Claim] = None
    measurement: Optional[Measurement] = None
    compared_value: Optional[float] = None
    """The measured value the claim was compared with (for FLOPs, the closest convention's)."""
    difference: Optional[float] = None
    """compared_value - claimed, in the metric's unit."""
    relative_difference: Optional[float] = None
    """(measured - claimed) / claimed."""
    tolerance: Optional[Tolerance] = None
    waiver: Optional[Waiver] = None
    gating: bool = False
    """Whether this verdict takes part in the gate's exit code."""
    convention: Optional[str] = None
    """The reading of the measurement the claim was compared with, where it is not the primary
    value as it stands: the FLOPs convention of the model's collection (e.g. "1.279x fvcore @image"),
    or the setting a config claim matched ("test_input_size of efficientnet_b3.ra2_in1k")."""


# --------------------------------------------------------------------------- zoo data


@dataclass(frozen=True)
class Convention:
    """A FLOPs counting convention: a named counter at a size (``KEY``), times a scale (1 for a named one).

    ``key`` is ``COUNTER @image`` or ``COUNTER @resize``, with ``2x `` in front for doubled counts;
    a scale other than 1 is a ratio fitted over the whole zoo (:mod:`zoo.judge.conventions`).
    """

    key: str
    scale: float = 1.0
    scope: str = "the zoo's"
    """Whose it is: "the zoo's", "collection NAME's", or "declared in FILE:LINE"."""
    claims: int = 0
    """How many FLOPs claims it was fitted over."""
    explained: int = 0
    """How many of them it explains within the FLOPs tolerance."""
    spread: Optional[tuple[float, float]] = None
    """Interquartile range of claim/reference over the explained claims (a fitted scale)."""
    zoo_explained: Optional[int] = None
    """For a collection's departure: how many of its claims the zoo's convention explains."""
    models: list[str] = field(default_factory=list)
    """The models it was fitted on."""

    def label(self) -> str:
        return f"{self.scale:.4g}x {self.key}" if self.scale != 1.0 else self.key

    def describe(self) -> str:
        """The convention and its evidence: "1.279x fvcore @image (the zoo's fitted convention: 186 of 259 claims ...)"."""
        if self.scope.startswith("declared"):
            return f"{self.label()} ({self.scope})"
        fitted = "fitted " if self.scale != 1.0 else ""
        text = f"{self.label()} ({self.scope} {fitted}convention"
        if self.claims:
            text += f": explains {self.explained} of {self.claims} claims"
        if self.zoo_explained is not None:
            text += f", the zoo's convention {self.zoo_explained}"
        if self.spread:
            text += f"; claim/reference IQR {self.spread[0]:.3f}-{self.spread[1]:.3f}"
        return text + ")"


@dataclass(frozen=True)
class ConventionTable:
    """A zoo's FLOPs conventions: one for the zoo, and the collections that count another named way."""

    zoo: Optional[Convention] = None
    collections: dict[str, Convention] = field(default_factory=dict)
    source: str = ""
    """Where it comes from: the pinned file, or "fitted over every card of INDEX at run time"."""
    tolerance: float = 0.02
    """The relative tolerance "explains" was counted with."""

    def for_collection(self, collection: Optional[str]) -> Optional[Convention]:
        """The convention a model of ``collection`` is judged against."""
        if collection is not None and collection in self.collections:
            return self.collections[collection]
        return self.zoo


@dataclass(frozen=True)
class FileDigest:
    """A file zoo read: the path it was read at and the SHA-256 of its bytes."""

    path: str
    sha256: str


@dataclass(frozen=True)
class JudgedAgainst:
    """The zoo data a run's verdicts were judged against, by content: the index's card files, the
    tolerances, the FLOPs conventions (the table itself, and its file when pinned), the weights lock
    and the published benchmark tables."""

    cards: list[FileDigest] = field(default_factory=list)
    tolerances: Optional[FileDigest] = None
    conventions: ConventionTable = field(default_factory=ConventionTable)
    conventions_file: Optional[FileDigest] = None
    lock: Optional[FileDigest] = None
    reference_tables: list[FileDigest] = field(default_factory=list)


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Environment:
    """Where and with what a run was made."""

    python: str
    platform: str
    hostname: str
    cpu: str
    cpu_threads: int
    torch: str
    packages: dict[str, str] = field(default_factory=dict)
    """Versions of timm, fvcore, datasets, ... ("" if not installed)."""
    cuda: Optional[str] = None
    gpus: list[str] = field(default_factory=list)
    git_commit: Optional[str] = None
    git_dirty: Optional[bool] = None
    allocator: Optional[str] = None
    """The malloc the process started with (``glibc-default``, ``jemalloc``, ...; zoo.measure.allocator)."""


@dataclass(frozen=True)
class ModelResult:
    """Everything a run learned about one model."""

    card: ModelCard
    measurements: list[Measurement] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def measurement(self, metric: str) -> Optional[Measurement]:
        return next((m for m in self.measurements if m.metric == metric), None)


@dataclass(frozen=True)
class MergeInfo:
    """How a run record was put together from the records of its CI shards."""

    merged_from: list[str]
    """Run ids of the shard records, in shard order."""
    shards: list[str]
    """The shards present, "K/N"."""
    missing: list[str] = field(default_factory=list)
    """Shards of the run that no record held, "K/N": their models were not checked."""
    hosts: list[str] = field(default_factory=list)
    """The machines the shards ran on, when more than one."""
    options_differ: list[str] = field(default_factory=list)
    """Options the shards did not agree on (left out of the merged ``options``)."""


@dataclass(frozen=True)
class GateInfo:
    """How ``zoo gate`` re-judged a run's stored measurements."""

    gate_metrics: list[str]
    """The metrics whose drift failed the gate."""
    judged_on: str
    """ISO date the waivers were judged against."""


@dataclass(frozen=True)
class CarriedOver:
    """A ``zoo verify --changed-since REF`` run: the models measured, and those whose
    measurements were taken from an earlier full run (then judged again with the rest)."""

    changed_since: str
    """The git revision given (REF), and the commit it named."""
    commit: str
    from_run: str
    """The run id of the run measurements were taken from (a merged id for shards)."""
    from_records: list[str] = field(default_factory=list)
    """The run ids of that run's records (its shards)."""
    carried: list[str] = field(default_factory=list)
    """Models whose measurements come from ``from_run``."""
    measured: dict[str, str] = field(default_factory=dict)
    """Model -> why it was measured in this run."""
    everything: Optional[str] = None
    """Why every model was measured (the run's environment or options differ), else None."""


@dataclass(frozen=True)
class RunRecord:
    """One run of zoo: the single source of every view (table, report, gate)."""

    run_id: str
    started: str
    finished: str
    environment: Environment
    index: list[str]
    """The index paths the cards were read from."""
    measurements_requested: list[str]
    options: dict[str, Scalar] = field(default_factory=dict)
    """The command-line options of the run, by parameter name."""
    models: list[ModelResult] = field(default_factory=list)
    shard: Optional[str] = None
    """"K/N" when this run covered one shard of the models."""
    artifacts: dict[str, str] = field(default_factory=dict)
    """Files written beside the record (e.g. per-image predictions), by name."""
    schema_version: int = SCHEMA_VERSION
    merge: Optional[MergeInfo] = None
    """Set on a record merged from shards (:mod:`zoo.runs.merge`)."""
    gate: Optional[GateInfo] = None
    """Set on a record re-judged by the gate (:mod:`zoo.judge.gate`)."""
    judged_against: Optional[JudgedAgainst] = None
    """The zoo data its verdicts were judged against (None on records older than schema 3)."""
    carried: Optional[CarriedOver] = None
    """Set on a ``zoo verify --changed-since`` run: which models were measured, which carried over."""

    def verdicts(self) -> list[Verdict]:
        return [v for m in self.models for v in m.verdicts]


# --------------------------------------------------------------------------- JSON

T = TypeVar("T")


@functools.lru_cache(maxsize=None)
def _adapter(kind: type) -> Any:
    """pydantic's validator and serializer for ``kind``, built once: building one costs tens of
    milliseconds, more than validating a run record of fifty models."""
    from pydantic import TypeAdapter

    return TypeAdapter(kind)


def to_json_dict(record: Any) -> Any:
    """A JSON-ready structure for any record above."""
    return _adapter(type(record)).dump_python(record, mode="json")


def from_json_dict(kind: type[T], data: Any) -> T:
    """Rebuild a record of type ``kind`` from :func:`to_json_dict` output.

    Raises ``pydantic.ValidationError`` naming the bad field.
    """
    return _adapter(kind).validate_python(data)
