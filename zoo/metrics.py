"""Every quantity zoo claims, measures, judges and shows, declared once.

A :class:`MetricSpec` says everything the stages need to know about one metric: the card
fields that claim it and where in a model entry they sit, its unit, how a written value and
its precision are read, the measurement kind that makes it, whether it gates and its default
tolerance, and how views name, format, tabulate and plot it. The index reader, the judge,
the policy, every view and the command line read this table; adding a measured quantity
means one declaration here, one measurer, and tests.

>>> spec("top1").card_fields
('Top 1 Accuracy',)
>>> [m.name for m in metrics_of_kind("config")]
['image_size', 'crop_pct', 'interpolation', 'resize_size']
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Iterable, Literal, Optional

ReadAs = Literal["count", "bytes", "size", "decimal", "percent", "text", "url", "rate"]
"""How a card's value is read, and so how precise a claim is:

- ``count``: a rounded count; the written precision ("3500000" is to the 100,000) and float
  artifacts ("66349999" is 66,350,000);
- ``bytes``: an exact whole number of bytes; or a figure in one of the metric's larger units
  (:attr:`MetricSpec.scales`: ``97.781 MiB``), which holds to half a unit of its last written
  digit in that unit (0.001 MiB = 1,048.576 bytes, so +/- 524.288 bytes);
- ``size``: an exact whole number (a setting such as the image size is not a rounded figure);
- ``decimal``: a number that holds to half a unit of its last written digit ("0.897" holds
  for 0.8975);
- ``percent``: a percentage to its written precision, read to the unit at most ("90%" is
  +/- 0.5 pp), a bare fraction in (0, 1] read as its percentage;
- ``text``: a word compared without case (``bicubic``);
- ``url``: the checkpoint's address;
- ``rate``: a published figure to its written precision (images/s).
"""
Section = Literal["metadata", "results", "entry", "reference"]
"""Where a card claims the metric: a key of the model's (or its collection's) ``Metadata``, a
key of an ImageNet ``Results -> Metrics`` entry, a key of the model entry itself, or a
published reference for the measuring device (``FPS (<device>)`` keys, benchmark tables)."""
Better = Literal["higher", "lower"]


class Metric(str, enum.Enum):
    """The canonical names of the metrics (the ``name`` of each :class:`MetricSpec`)."""

    PARAMETERS = "parameters"
    FLOPS = "flops"
    FILE_SIZE = "file_size"
    TOP1 = "top1"
    TOP5 = "top5"
    IMAGE_SIZE = "image_size"
    CROP_PCT = "crop_pct"
    INTERPOLATION = "interpolation"
    RESIZE_SIZE = "resize_size"
    WEIGHTS = "weights"
    THROUGHPUT = "throughput"
    LATENCY_P50 = "latency_p50"
    LATENCY_P90 = "latency_p90"


def _giga(value: float) -> str:
    return f"{value / 1e9:.3g}"


def _megabytes(value: float) -> str:
    return f"{value / 1e6:.1f} MB"


def _two_decimals(value: float) -> str:
    return f"{value:.2f}"


def _rate(value: float) -> str:
    return f"{value:,.1f}"


def _milliseconds(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


BYTE_SCALES: tuple[tuple[str, float], ...] = (
    ("B", 1.0), ("kB", 1e3), ("KB", 1e3), ("KiB", 1024.0), ("MB", 1e6), ("MiB", 1024.0**2),
    ("GB", 1e9), ("GiB", 1024.0**3),
)
"""The byte units a file size may be written in (decimal and binary prefixes, as written)."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric, declared once (see the module doc)."""

    name: str
    label: str
    """A person's name for it in reports ("Top-1 accuracy")."""
    kind: str
    """The measurement kind that makes it (``--only``/``--skip``)."""
    unit: str
    """The unit its claims are read in."""
    read: ReadAs
    section: Section
    card_fields: tuple[str, ...] = ()
    """The field names cards claim it under."""
    gates: bool = False
    """Whether its drift fails the CI gate by default."""
    relative: float = 0.0
    """Default tolerance, as a fraction of the claim."""
    absolute: float = 0.0
    """Default tolerance, in the metric's unit."""
    checkpoint: bool = False
    """A claim about the card's checkpoint file: judged only when the measured file is that file."""
    short: str = ""
    """Its column in the terminal's one-row-per-model summary ("" for none)."""
    summary: Optional[Callable[[float], str]] = None
    """How the summary formats a measured number."""
    column: str = ""
    """Its field in the one-row-per-model CSV/JSON (``zoo verify --format csv|json``)."""
    primary_column: str = ""
    """Where the judged figure can be another reading than the measurement's own (a FLOPs
    convention, a paired full-set estimate): the field holding the measurement's own figure."""
    reading_column: str = ""
    """... and the field naming the reading the verdict judged."""
    plot: bool = False
    """A measured-vs-claimed scatter in the HTML report."""
    better: Optional[Better] = None
    """For figures compared across runs: which direction is an improvement."""
    listed: bool = False
    """A column of ``zoo list``."""
    scales: tuple[tuple[str, float], ...] = ()
    """Unit words a value may be written with after the number, each with how many of :attr:`unit`
    it is (``("MiB", 1048576.0)``); the written precision is then the last digit's unit in that unit."""

    @property
    def field(self) -> str:
        """The field name cards usually write ("Top 1 Accuracy"), else the label."""
        return self.card_fields[0] if self.card_fields else self.label


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "parameters", "Parameters", "params", "parameters", "count", "metadata", ("Parameters",),
        short="params", summary=lambda v: f"{v:,.0f}", column="parameters", plot=True, listed=True,
    ),
    MetricSpec(
        "flops", "FLOPs", "flops", "FLOPs (convention unstated)", "count", "metadata", ("FLOPs",), relative=0.02,
        short="GFLOPs", summary=_giga, column="flops", primary_column="flops_primary", reading_column="flops_convention",
        plot=True, listed=True,
    ),
    MetricSpec(
        "file_size", "File size", "weights", "bytes", "bytes", "metadata", ("File Size",), checkpoint=True,
        short="file size", summary=_megabytes, column="file_size", plot=True, listed=True, scales=BYTE_SCALES,
    ),
    MetricSpec(
        "top1", "Top-1 accuracy", "accuracy", "%", "percent", "results", ("Top 1 Accuracy",), gates=True, absolute=0.25,
        checkpoint=True, short="top-1", summary=_two_decimals, column="top1", primary_column="top1_primary",
        reading_column="top1_reading", plot=True, listed=True,
    ),
    MetricSpec(
        "top5", "Top-5 accuracy", "accuracy", "%", "percent", "results", ("Top 5 Accuracy",), gates=True, absolute=0.25,
        checkpoint=True, short="top-5", summary=_two_decimals, column="top5", primary_column="top5_primary",
        reading_column="top5_reading", plot=True, listed=True,
    ),
    MetricSpec("image_size", "Image size", "config", "pixels", "size", "metadata", ("Image Size",), column="img_size"),
    MetricSpec("crop_pct", "Crop pct", "config", "fraction", "decimal", "metadata", ("Crop Pct",), column="crop_pct"),
    MetricSpec("interpolation", "Interpolation", "config", "", "text", "metadata", ("Interpolation",), column="interpolation"),
    MetricSpec("resize_size", "Resize size", "config", "pixels", "size", "metadata", ("Resize Size",)),
    MetricSpec("weights", "Weights", "weights", "URL", "url", "entry", ("Weights",), checkpoint=True, column="weights_sha256"),
    MetricSpec(
        "throughput", "Throughput", "throughput", "images/s", "rate", "reference", relative=0.10, short="img/s",
        summary=_rate, column="infer_samples_per_sec", plot=True, better="higher",
    ),
    MetricSpec(
        "latency_p50", "Latency p50", "throughput", "ms", "rate", "reference", short="p50 ms", summary=_milliseconds,
        column="infer_latency_p50_ms", plot=True, better="lower",
    ),
    MetricSpec(
        "latency_p90", "Latency p90", "throughput", "ms", "rate", "reference", column="infer_latency_p90_ms", plot=True,
        better="lower",
    ),
)
"""Every metric, in the order views list them."""

KINDS: tuple[str, ...] = ("config", "params", "flops", "weights", "throughput", "accuracy")
"""The measurement kinds, in the order a run makes them."""

_BY_NAME = {m.name: m for m in METRICS}
METRIC_NAMES: tuple[str, ...] = tuple(_BY_NAME)
METRIC_ORDER: list[str] = list(METRIC_NAMES)

MEASUREMENT_KINDS: dict[str, tuple[str, ...]] = {kind: tuple(m.name for m in METRICS if m.kind == kind) for kind in KINDS}
"""Measurement kind (``--only``/``--skip``) -> the metrics it produces."""


def spec(metric: str | Metric) -> MetricSpec:
    """The declaration of ``metric``; KeyError for a name zoo does not know."""
    return _BY_NAME[metric.value if isinstance(metric, Metric) else metric]


def known(metric: str) -> bool:
    return metric in _BY_NAME


def metrics_of_kind(kind: str) -> list[MetricSpec]:
    return [m for m in METRICS if m.kind == kind]


def metrics_of(kinds: Iterable[str]) -> set[str]:
    """Every metric the given kinds produce."""
    return {metric for kind in kinds for metric in MEASUREMENT_KINDS.get(kind, ())}


def card_fields(section: Section) -> dict[str, MetricSpec]:
    """Card field name -> its metric, for the fields of one section of a model entry."""
    return {name: m for m in METRICS if m.section == section for name in m.card_fields}


def label(metric: str) -> str:
    """A person's name for a metric ("top1" -> "Top-1 accuracy"); unknown names made readable."""
    found = _BY_NAME.get(metric)
    return found.label if found is not None else metric.replace("_", " ").capitalize()


def sort_key(metric: str) -> tuple[int, str]:
    """Table order, unknown metrics last."""
    return (METRIC_ORDER.index(metric) if metric in _BY_NAME else len(METRIC_ORDER), metric)


def gating_by_default() -> tuple[str, ...]:
    return tuple(m.name for m in METRICS if m.gates)


def timing_metrics() -> tuple[str, ...]:
    """The figures compared across runs (throughput and latency), in table order."""
    return tuple(m.name for m in METRICS if m.better is not None)
