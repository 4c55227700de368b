"""A run record as display rows: the numbers every view shows, formatted once.

HTML, Markdown and JUnit read :class:`RunView`; CSV and JSON read the raw records the
rows keep (``ClaimRow.verdict``), so text and data never disagree.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union
from urllib.parse import quote, urlsplit

from zoo import metrics
from zoo.judge import tally
from zoo.judge.gate import missing_shards, requested_metrics, run_exit_code
from zoo.records import (
    Measurement,
    ModelResult,
    RunRecord,
    SourceRef,
    Tolerance,
    Uncertainty,
    Verdict,
    VerdictStatus,
)

VERDICT_ORDER = tally.VERDICT_ORDER

METRIC_ORDER = metrics.METRIC_ORDER

# Units as cards and measurements spell them -> the short suffix shown after a value.
# Units that only restate the metric ("parameters", "pixels") are not repeated.
UNIT_SUFFIXES: dict[str, str] = {
    "%": "%",
    "percent": "%",
    "bytes": "B",
    "B": "B",
    "images/s": "img/s",
    "img/s": "img/s",
    "ms": "ms",
    "s": "s",
    "parameters": "",
    "pixels": "",
    "px": "",
    "fraction": "",
    "URL": "",
}

GATE_OUTCOMES: dict[int, tuple[str, str]] = {
    0: ("pass", "every gating claim passes or is waived; every requested measurement was made"),
    1: ("drift", "a gating claim drifted beyond its tolerance: the claim is off"),
    2: ("error", "bad input: a model or its input is broken"),
    3: ("incomplete", "a requested measurement could not be made or could not decide a claim (download, data, memory, "
        "too few images, not the data or file the claim is about); nothing drifted"),
}


# --------------------------------------------------------------------------- formatting


metric_label = metrics.label
metric_sort_key = metrics.sort_key


def unit_suffix(unit: str) -> str:
    if unit in UNIT_SUFFIXES:
        return UNIT_SUFFIXES[unit]
    if unit.startswith("FLOPs") or unit.startswith("MACs"):
        return ""
    return unit


def is_percent(unit: str) -> bool:
    return unit_suffix(unit) == "%"


def _plain_number(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.2f}"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude == 0:
        return "0"
    return f"{value:.4g}"


_HASH = re.compile(r"^(?:sha256:)?[0-9a-fA-F]{32,}$")


def short_text(text: str) -> str:
    """A long text value as tables show it; the whole value stays in the record and exports.

    A hash keeps its first 8 digits (``b33bc2c4…``), a URL its file name (``…/w.pth``), an
    absolute path under the working directory becomes relative to it.
    """
    if _HASH.match(text):
        return text.split(":", 1)[-1][:8] + "…"
    if text.startswith(("http://", "https://")):
        return "…/" + text.rstrip("/").rsplit("/", 1)[-1]
    return short_path(text) if os.path.isabs(text) else text


def short_path(path: str) -> str:
    """``path`` relative to the working directory when it lies inside it, else as given."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative


def short_source(source: Optional[SourceRef], roots: Sequence[str] = ()) -> str:
    """``file:line`` with the file relative to the working directory where it lies inside it,
    else to the folder holding one of the index ``roots`` (``metadata/zoo.yml:8``)."""
    if source is None:
        return ""
    shown = short_path(source.path)
    if os.path.isabs(shown):
        for root in roots:
            base = Path(root).parent if Path(root).suffix else Path(root)
            try:
                shown = Path(source.path).relative_to(base.parent).as_posix()
                break
            except ValueError:
                continue
    return f"{shown}:{source.line}"


def format_value(value: Union[int, float, str, bool, None], unit: str = "") -> str:
    """A value with its short unit: 3504872 -> "3,504,872", 72.951 % -> "72.95 %"; long
    texts shortened by :func:`short_text`."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return short_text(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    suffix = unit_suffix(unit)
    text = _plain_number(float(value) if isinstance(value, float) else value, is_percent(unit))
    return f"{text} {suffix}" if suffix else text


def format_difference(value: Optional[float], unit: str = "") -> str:
    """A signed difference in the metric's unit; percentage points for accuracies."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return ("+" if value > 0 else "−") + _magnitude(value, unit)


def format_relative(value: Optional[float]) -> str:
    """A signed relative difference as a percentage with enough digits to be non-zero."""
    if value is None:
        return ""
    pct = value * 100
    if pct == 0:
        return "0"
    digits = 2 if abs(pct) >= 0.01 else 4
    sign = "+" if pct > 0 else "−"
    return f"{sign}{abs(pct):.{digits}f} %"


def _magnitude(value: float, unit: str) -> str:
    suffix = "pp" if is_percent(unit) else unit_suffix(unit)
    text = _plain_number(abs(value), is_percent(unit))
    return f"{text} {suffix}".rstrip()


def format_tolerance(
    tolerance: Optional[Tolerance], claimed: Union[int, float, str, None], unit: str = "", precision: Optional[float] = None
) -> str:
    """How far a measurement may sit from ``claimed``: "±0.30 pp", "±70,000 (2 %)", or where the
    claim's written precision allows more (the judge takes the larger), "±50,000 (as written, to
    the 100,000)"; "exact" only where nothing is allowed."""
    if tolerance is None or isinstance(claimed, str):
        return ""
    written = (precision or 0.0) / 2
    if isinstance(claimed, (int, float)) and not isinstance(claimed, bool) and written > tolerance.allowed(float(claimed)):
        if not (isinstance(claimed, int) and (precision or 0.0) <= 1):  # a whole count written to the unit is exact
            digit = f"{precision:g} pp" if is_percent(unit) else _magnitude(precision or 0.0, unit)
            return f"±{_magnitude(written, unit)} (as written, to the {digit})"
    if not tolerance.relative and not tolerance.absolute:
        return "exact"
    relative = f"{tolerance.relative * 100:g} %" if tolerance.relative else ""
    absolute = _magnitude(tolerance.absolute, unit) if tolerance.absolute else ""
    if not isinstance(claimed, (int, float)) or isinstance(claimed, bool):
        return "±" + " or ".join(part for part in (relative, absolute) if part)
    allowed = _magnitude(tolerance.allowed(float(claimed)), unit)
    if relative and absolute:
        return f"±{allowed} (larger of {relative}, {absolute})"
    return f"±{allowed} ({relative})" if relative else f"±{allowed}"


def format_uncertainty(uncertainty: Optional[Uncertainty], unit: str = "") -> str:
    """"[72.56, 73.34] % (wilson-95)"."""
    if uncertainty is None:
        return ""
    percent = is_percent(unit)
    low = _plain_number(uncertainty.low, percent)
    high = _plain_number(uncertainty.high, percent)
    suffix = unit_suffix(unit)
    return f"[{low}, {high}]{' ' + suffix if suffix else ''} ({uncertainty.kind})"


def format_condition(value: object) -> str:
    if isinstance(value, float):
        return _plain_number(value, False)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return "—" if value is None else str(value)


def source_href(source: SourceRef, link_template: Optional[str], out_dir: Optional[Path]) -> str:
    """Where a claim's source link points.

    With ``link_template`` (e.g. ``https://github.com/o/r/blob/SHA/{path}?plain=1#L{line}``,
    or a prefix to which ``{path}#L{line}`` is added), the URL it makes. Without one, the
    file relative to ``out_dir`` (the report folder), so the link opens where it was built.
    """
    path = source.path.replace(os.sep, "/")
    if link_template:
        if "{path}" in link_template:
            return safe_href(link_template.replace("{path}", path).replace("{line}", str(source.line)))
        return safe_href(f"{link_template.rstrip('/')}/{path}#L{source.line}")
    return safe_href(f"{_relative_to(source.path, None if out_dir is None else str(out_dir), os.getcwd())}#L{source.line}")


@functools.lru_cache(maxsize=4096)
def _relative_to(path: str, out_dir: Optional[str], cwd: str) -> str:
    """``path`` relative to ``out_dir`` (as given when None), once per card file and working folder
    (``cwd``, which relative paths resolve against): a report links every claim of a card to the
    same file, and resolving it costs two walks of the file system."""
    target = Path(path)
    if out_dir is not None:
        try:
            target = Path(os.path.relpath(target.resolve(), Path(out_dir).resolve()))
        except ValueError:  # another drive on Windows: keep the absolute path
            target = target.resolve()
    return target.as_posix()


LINK_SCHEMES = ("http", "https")


def safe_href(href: str) -> str:
    """``href`` as a link that can only go to an http(s) page or a relative path.

    Any other scheme (``javascript:``, ``data:``) is made a relative path by a leading
    ``./``, so it opens nothing; characters that could end the attribute or the Markdown
    link target are percent-encoded.

    >>> safe_href("javascript:alert(1)")
    './javascript:alert(1)'
    """
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:  # unparseable ("http://[x"): a relative path, then
        scheme = "unparseable"
    if scheme and scheme not in LINK_SCHEMES:
        href = "./" + href
    elif not scheme and href.strip().lower().startswith(("javascript", "data", "vbscript")):
        href = "./" + href.strip()
    return quote(href, safe="/:?#[]@!$&'()*+,;=%~-._")


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class ClaimRow:
    """One verdict as it is shown: a claim, its measurement and the judgement."""

    model: str
    metric: str
    label: str
    field: str
    status: VerdictStatus
    gating: bool
    explanation: str
    claimed: str
    measured: str
    difference: str
    relative: str
    tolerance: str
    uncertainty: str
    measured_note: str
    """Set when the measured figure shown is another convention than the primary value."""
    measured_full: str
    """The measured value unshortened where the table shortens it (a SHA-256, a URL), else ""."""
    convention: str
    """The counting convention the verdict judged by, where it is not the primary reading."""
    source: Optional[SourceRef]
    source_href: str
    waiver: str
    reason: str
    """Why the measurement could not be made, for unverified and error rows."""
    verdict: Verdict
    requested: bool = True
    """Whether the run asked for this claim's measurement (``--only``/``--skip``)."""


@dataclass(frozen=True)
class MeasurementRow:
    """How one figure was measured (or why it could not be)."""

    metric: str
    label: str
    status: str
    value: str
    method: str
    conditions: list[tuple[str, str]]
    uncertainty: str
    reason: str
    notes: list[str]
    alternatives: list[str]
    measurement: Measurement


@dataclass(frozen=True)
class ModelView:
    name: str
    collection: Optional[str]
    source: SourceRef
    source_href: str
    rows: list[ClaimRow]
    measurements: list[MeasurementRow]
    counts: dict[str, int]
    """Claims by verdict, as :mod:`zoo.judge.tally` counts them (claims not asked for apart)."""
    evaluated: str = ""
    """The weights file this run checked and loaded (source, repo@commit, name, SHA-256), "" if none."""

    @property
    def worst(self) -> str:
        """The worst verdict of the model ("pass" when it has none); claims the run did not
        ask to measure do not count."""
        return next((status for status in VERDICT_ORDER if self.counts.get(status)), "pass")


@dataclass(frozen=True)
class GateOutcome:
    code: int
    label: str
    meaning: str


@dataclass(frozen=True)
class RunView:
    """A run record ready to show."""

    run: RunRecord
    models: list[ModelView]
    counts: dict[str, int]
    """Claims by verdict (:func:`zoo.judge.tally.tally`): the numbers every view shows."""
    gate: GateOutcome
    gating_metrics: list[str]
    missing_shards: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[ClaimRow]:
        return [row for model in self.models for row in model.rows]

    def with_status(self, *statuses: str) -> list[ClaimRow]:
        return [row for row in self.rows if row.status in statuses]

    @property
    def incomplete(self) -> list[ClaimRow]:
        """Unverified claims whose measurement was asked for: what makes a run incomplete."""
        return [row for row in self.rows if row.status == "unverified" and row.requested]

    @property
    def not_requested(self) -> list[ClaimRow]:
        """Unverified claims the run did not ask to measure (left out by ``--only``/``--skip``)."""
        return [row for row in self.rows if row.status == "unverified" and not row.requested]

    @property
    def not_requested_metrics(self) -> list[str]:
        return sorted({row.label for row in self.not_requested}, key=lambda text: text.lower())

    @property
    def claims_checked(self) -> int:
        return sum(self.counts.values())


PAIRED_READING = "paired full-set estimate"
OTHER_READING = "another reading of the measurement"


def judged_reading(verdict: Verdict) -> Optional[tuple[float, str]]:
    """(value, what it is) when the verdict judged a reading of the measurement, not its primary
    value as it stands: the FLOPs convention (always named, even where it equals the primary
    count), the paired full-set accuracy estimate, a tag's test setting; else None.

    The value is the verdict's own ``compared_value``: every view shows what was judged."""
    measurement = verdict.measurement
    if measurement is None or measurement.status != "ok":
        return None
    paired = measurement.paired
    if paired is not None and paired.used and paired.value is not None:  # the judge compares the paired estimate
        return float(paired.value), PAIRED_READING
    if verdict.compared_value is None:
        return None
    if verdict.convention:
        return float(verdict.compared_value), verdict.convention
    primary = measurement.value
    if isinstance(primary, (int, float)) and not isinstance(primary, bool) and float(primary) != verdict.compared_value:
        return float(verdict.compared_value), OTHER_READING
    return None


def measured_text(verdict: Verdict) -> tuple[str, str]:
    """(the judged figure as shown, a note naming its reading and the primary value beside it)."""
    measurement = verdict.measurement
    if measurement is None or measurement.status != "ok":
        return "", ""
    unit = measurement.unit or (verdict.claim.unit if verdict.claim else "")
    reading = judged_reading(verdict)
    if reading is None:
        return format_value(measurement.value, unit), ""
    value, name = reading
    primary = format_value(measurement.value, unit)
    if reading[1] == PAIRED_READING:
        return format_value(value, unit), f"{name}; this subset alone: {primary}"
    if isinstance(measurement.value, (int, float)) and float(measurement.value) == value:
        return format_value(value, unit), name
    return format_value(value, unit), f"{name}; primary reading {primary}"


def judged_value(result: ModelResult, metric: str) -> Union[int, float, str, None]:
    """The value every view shows for ``metric``: the one its verdict judged (the matched
    FLOPs convention, a paired estimate), else the measurement's own; None when nothing was measured."""
    measurement = result.measurement(metric)
    if measurement is None or measurement.status != "ok":
        return None
    verdict = next((v for v in result.verdicts if v.metric == metric), None)
    reading = judged_reading(verdict) if verdict is not None else None
    return reading[0] if reading is not None else measurement.value


def judged_convention(result: ModelResult, metric: str) -> Optional[str]:
    """What :func:`judged_value` is (a convention's name), where it is not the primary reading."""
    verdict = next((v for v in result.verdicts if v.metric == metric), None)
    reading = judged_reading(verdict) if verdict is not None else None
    return reading[1] if reading is not None else None


def _claimed_text(raw: str, value: Union[int, float, str], unit: str) -> str:
    """The claim as the card wrote it ("72.95%", "3500000": the precision shows), URLs shortened."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return format_value(value, unit)
    return raw or format_value(value, unit)


def _claim_row(verdict: Verdict, link_template: Optional[str], out_dir: Optional[Path], requested: set[str]) -> ClaimRow:
    claim, measurement = verdict.claim, verdict.measurement
    unit = (measurement.unit if measurement and measurement.unit else "") or (claim.unit if claim else "")
    claimed_unit = claim.unit if claim and claim.unit else unit
    measured, note, full, convention = "", "", "", ""
    if measurement is not None and measurement.status == "ok":
        # The figure the verdict judged (a FLOPs convention's, a paired estimate), the primary beside it.
        measured, note = measured_text(verdict)
        if isinstance(measurement.value, str) and short_text(measurement.value) != measurement.value:
            full = measurement.value  # shortened for the table; hover and copy get it whole
        reading = judged_reading(verdict)
        convention = reading[1] if reading is not None and reading[1] != PAIRED_READING else ""
    uncertainty = format_uncertainty(measurement.uncertainty, unit) if measurement else ""
    paired = measurement.paired if measurement is not None and measurement.status == "ok" else None
    if paired is not None and paired.used and paired.low is not None and paired.high is not None:
        uncertainty = format_uncertainty(
            Uncertainty(f"tango-{paired.level * 100:g}-paired", paired.low, paired.high, paired.level), unit
        )
    waiver = ""
    if verdict.waiver is not None:
        waiver = f"{verdict.waiver.reason} (until {verdict.waiver.expires})"
    return ClaimRow(
        model=verdict.model,
        metric=verdict.metric,
        label=metric_label(verdict.metric),
        field=claim.field if claim else "",
        status=verdict.status,
        gating=verdict.gating,
        explanation=verdict.explanation,
        claimed=_claimed_text(claim.raw, claim.value, claimed_unit) if claim else "",
        measured=measured,
        difference=format_difference(verdict.difference, unit),
        relative=format_relative(verdict.relative_difference),
        tolerance=format_tolerance(verdict.tolerance, claim.value if claim else None, unit, claim.precision if claim else None),
        uncertainty=uncertainty,
        measured_note=note,
        measured_full=full,
        convention=convention,
        source=claim.source if claim else None,
        source_href=source_href(claim.source, link_template, out_dir) if claim else "",
        waiver=waiver,
        reason=(measurement.reason or "") if measurement else "",
        verdict=verdict,
        requested=verdict.metric in requested,
    )


def _measurement_row(measurement: Measurement) -> MeasurementRow:
    return MeasurementRow(
        metric=measurement.metric,
        label=metric_label(measurement.metric),
        status=measurement.status,
        value=format_value(measurement.value, measurement.unit) if measurement.status == "ok" else "",
        method=measurement.method,
        conditions=[(key, format_condition(value)) for key, value in measurement.conditions.items()],
        uncertainty=format_uncertainty(measurement.uncertainty, measurement.unit),
        reason=measurement.reason or "",
        notes=list(measurement.notes),
        alternatives=[
            f"{alt.convention}: {format_value(alt.value, measurement.unit)}" + (f" ({alt.description})" if alt.description else "")
            for alt in measurement.alternatives
        ],
        measurement=measurement,
    )


def evaluated_file(result: ModelResult) -> str:
    """Which weights file the run checked: "hub timm/x@<commit> model.safetensors, sha256 ..." ("" if none)."""
    weights = result.measurement("weights")
    if weights is None or not isinstance(weights.value, str) or not weights.value:
        return ""
    c = weights.conditions
    if c.get("hub_repo"):  # the Hub file was loaded (its hash is hub_sha256 when the card's file was also checked)
        where = f"Hugging Face Hub {c.get('hub_repo')}@{c.get('hub_commit')} {c.get('hub_file')}"
        return f"{where}, sha256 {c.get('hub_sha256') or weights.value}"
    return f"{c.get('source') or 'file'}: {c.get('file_name') or '?'}, sha256 {weights.value}"


def _model_view(result: ModelResult, link_template: Optional[str], out_dir: Optional[Path], requested: set[str]) -> ModelView:
    verdicts = sorted(result.verdicts, key=lambda v: metric_sort_key(v.metric))
    rows = [_claim_row(v, link_template, out_dir, requested) for v in verdicts]
    measurements = sorted(result.measurements, key=lambda m: metric_sort_key(m.metric))
    return ModelView(
        name=result.card.name,
        collection=result.card.collection,
        source=result.card.source,
        source_href=source_href(result.card.source, link_template, out_dir),
        rows=rows,
        measurements=[_measurement_row(m) for m in measurements],
        counts=tally.tally_model(result, requested).by_status,
        evaluated=evaluated_file(result),
    )


def gate_outcome(run: RunRecord) -> GateOutcome:
    """The gate's outcome for the verdicts stored in ``run`` (no re-judging)."""
    code = run_exit_code(run)
    label, meaning = GATE_OUTCOMES.get(code, ("unknown", f"exit code {code}"))
    if code == 3 and missing_shards(run) and not any(v.status == "unverified" for v in run.verdicts()):
        meaning = f"shard(s) {', '.join(missing_shards(run))} of this run are missing"
    return GateOutcome(code, label, meaning)


def run_view(run: RunRecord, *, link_template: Optional[str] = None, out_dir: Optional[Path] = None) -> RunView:
    """Display rows for every model, claim and measurement of ``run``."""
    requested = requested_metrics(run)
    models = [_model_view(result, link_template, out_dir, requested) for result in run.models]
    counted = tally.tally(run)
    if run.gate is not None:
        gating_set = set(run.gate.gate_metrics)
    else:  # the run's own --gate-metrics, as given
        configured = run.options.get("gate_metrics")
        gating_set = {m.strip() for m in str(configured).split(",") if m.strip()} if configured else set()
    gating = sorted(gating_set | {v.metric for v in run.verdicts() if v.gating}, key=metric_sort_key)
    return RunView(
        run=run,
        models=models,
        counts=dict(counted.by_status),
        gate=gate_outcome(run),
        gating_metrics=gating,
        missing_shards=missing_shards(run),
    )


def finish_order(run: RunRecord) -> tuple[str, str, str]:
    """Sort key of runs by the time they finished (then started, then id)."""
    return (run.finished, run.started, run.run_id)


def latest(runs: Sequence[RunRecord]) -> RunRecord:
    """The run that finished last."""
    return max(runs, key=finish_order)
