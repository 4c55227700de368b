"""The HTML report: one self-contained ``index.html`` (inline CSS, plots as base64 PNG).

Rendered with jinja2 (autoescaped) from :class:`zoo.views.rows.RunView`. The only links
that leave the file are claim source links (when ``link_template`` makes them URLs).
The plots are also written as PNG files under ``assets/`` for reuse elsewhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import jinja2

from zoo import __version__
from zoo.atomic import is_no_space
from zoo.errors import OutOfSpaceError
from zoo.paths import inside
from zoo.records import Environment, Metric, RunRecord
from zoo.views import plots as plotting
from zoo.views.baseline_rows import baseline_changes
from zoo.views.drawing import Drawing
from zoo.views.history_data import History, RunDigest, as_history
from zoo.views.history_rows import CHANGE_ORDER, performance_changes
from zoo.views.notes import Notes
from zoo.atomic import write_atomic
from zoo.views.rows import (
    VERDICT_ORDER,
    ClaimRow,
    ModelView,
    RunView,
    format_condition,
    run_view,
    short_source,
)

ACCURACY_METRICS = (Metric.TOP1.value, Metric.TOP5.value)


@dataclass(frozen=True)
class RunSummary:
    """One line of the runs table (when several runs are shown)."""

    run_id: str
    started: str
    finished: str
    models: int
    counts: dict[str, int]
    shard: str
    host: str
    commit: str


def _environment(env: Environment) -> list[tuple[str, str]]:
    rows = [
        ("Python", env.python),
        ("Platform", env.platform),
        ("Host", env.hostname),
        ("CPU", f"{env.cpu} ({env.cpu_threads} threads)"),
        ("torch", env.torch),
        ("CUDA", env.cuda or "none"),
        ("GPUs", ", ".join(env.gpus) or "none"),
        ("Allocator", env.allocator or "not recorded"),
    ]
    rows += [(name, version or "not installed") for name, version in sorted(env.packages.items())]
    if env.git_commit:
        rows.append(("Git commit", env.git_commit + (" (uncommitted changes)" if env.git_dirty else "")))
    return rows


_REPR = re.compile(r"^(?:PosixPath|WindowsPath|Path)\('(.*)'\)$")


def _readable(value: object) -> str:
    """An option value as a person writes it: records made before options were stored as
    plain values hold Python reprs ("()", "PosixPath('x')", "('a', 'b')")."""
    text = str(value)
    found = _REPR.match(text)
    if found:
        return found.group(1)
    if text.startswith(("(", "[")) and text.endswith((")", "]")):
        items = [item.strip().strip("'\"") for item in text[1:-1].split(",") if item.strip()]
        return ", ".join(items)
    return text


def _options(options: dict[str, object]) -> list[tuple[str, str]]:
    """The options a run was given, leaving out those that were not set."""
    rows = []
    for key, value in options.items():
        text = _readable(value) if value is not None else ""
        if text in ("", "False", "None"):
            continue
        rows.append((key.replace("_", "-"), "yes" if text == "True" else text))
    return rows


@dataclass(frozen=True)
class Conditions:
    """A model's measurement conditions, each said once: those several figures share,
    and each figure's own."""

    shared: list[tuple[str, str]]
    own: dict[str, list[tuple[str, str]]]


def _conditions(model: ModelView) -> Conditions:
    pairs = {m.metric: list(m.conditions) for m in model.measurements}
    counts = Counter(pair for found in pairs.values() for pair in found)
    shared = [pair for pair, count in counts.items() if count > 1]
    common = set(shared)
    return Conditions(shared=shared, own={metric: [p for p in found if p not in common] for metric, found in pairs.items()})


@dataclass(frozen=True)
class ReasonGroup:
    """Unverified claims that share one reason, said once."""

    reason: str
    rows: list[ClaimRow]


def _reason_groups(rows: Sequence[ClaimRow]) -> list[ReasonGroup]:
    groups: dict[str, list[ClaimRow]] = {}
    for row in rows:
        groups.setdefault(row.reason or row.explanation, []).append(row)
    return [ReasonGroup(reason, members) for reason, members in groups.items()]


def _summaries(runs: Sequence[RunDigest]) -> list[RunSummary]:
    return [
        RunSummary(
            run_id=run.run_id, started=run.started, finished=run.finished, models=run.models, counts=dict(run.counts),
            shard=run.shard, host=run.host, commit=run.commit,
        )
        for run in sorted(runs, key=lambda r: (r.started, r.run_id))
    ]


def _accuracy_rows(view: RunView) -> list[tuple[ClaimRow, list[tuple[str, str]], int]]:
    """(row, conditions, rows the conditions cell spans): a model's conditions are shown
    once, beside its first accuracy row, when its rows share them (span 0: no cell)."""
    rows: list[tuple[ClaimRow, list[tuple[str, str]], int]] = []
    for row in view.rows:
        measurement = row.verdict.measurement
        if row.metric in ACCURACY_METRICS and measurement is not None and measurement.status == "ok":
            conditions = [(k, format_condition(v)) for k, v in measurement.conditions.items()]
            first = next((i for i, (r, c, span) in enumerate(rows) if r.model == row.model and span), None)
            if first is not None and rows[first][1] == conditions:
                head, head_conditions, span = rows[first]
                rows[first] = (head, head_conditions, span + 1)
                rows.append((row, conditions, 0))
            else:
                rows.append((row, conditions, 1))
    return rows


NOTE_AT = 160
"""A reason longer than this that several rows of one table share is said once under it."""


@dataclass(frozen=True)
class NotedRows:
    """A claim table's rows with the reason each shows, and the notes said once under the table."""

    rows: list[tuple[ClaimRow, str]]
    notes: list[tuple[int, str]]


def noted_rows(rows: Sequence[ClaimRow]) -> NotedRows:
    """Each row with its reason; one that is long and shared by several rows of the table (the
    same unreachable download for File Size and Weights) becomes its first clause and a note."""
    counts = Counter(row.explanation for row in rows)
    notes = Notes()
    shown = [
        (row, notes.refer(row.explanation, NOTE_AT) if counts[row.explanation] > 1 else row.explanation) for row in rows
    ]
    return NotedRows(shown, [(number, text) for text, number in notes.texts.items()])


def _template_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("zoo.views", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def render_html(
    runs: Union[Sequence[RunRecord], History],
    *,
    out_dir: Optional[Path] = None,
    link_template: Optional[str] = None,
    plots: Optional[Union[list[plotting.Plot], Drawing]] = None,
) -> str:
    """The report for ``runs`` (run records, or a :class:`~zoo.views.history_data.History`) as one HTML document.

    The latest run is shown in full; with several runs, a runs table, each metric over
    time and its timing figures beside the previous run's (performance changes) are added. ``out_dir`` is where the file will live (claim links are made relative
    to it unless ``link_template`` is given); ``plots`` are drawn when not passed.

    >>> html = render_html([run])  # doctest: +SKIP
    """
    if not runs:
        raise ValueError("render_html needs at least one run record")
    history = as_history(runs)
    current = history.current
    drawing = start_report_plots(history) if plots is None else plots  # drawn meanwhile, where two cores allow
    view = run_view(current, link_template=link_template, out_dir=out_dir)
    environment = _template_environment()
    environment.filters["short_source"] = lambda source: short_source(source, current.index)
    environment.filters["noted"] = noted_rows
    template = environment.get_template("report.html.j2")
    context = dict(
        view=view,
        run=current,
        verdict_order=VERDICT_ORDER,
        runs=_summaries(history.runs) if len(history.runs) > 1 else [],
        changes=performance_changes(history.records),
        change_order=CHANGE_ORDER,
        accuracy_rows=_accuracy_rows(view),
        baseline_rows=baseline_changes(current),
        environment=_environment(current.environment),
        options=_options(dict(current.options)),
        conditions={model.name: _conditions(model) for model in view.models},
        reason_groups=_reason_groups(view.incomplete),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
    drawn = _plots_of(drawing)
    return template.render(
        claim_plots=[p for p in drawn if p.key.startswith("claims-")],
        zoo_plots=[p for p in drawn if p.key == "accuracy-throughput"],
        history_plots=[p for p in drawn if p.key.startswith("history-")],
        **context,
    )


def _plots_of(plots: Union[list[plotting.Plot], Drawing]) -> list[plotting.Plot]:
    if isinstance(plots, Drawing):
        return [plot for plot in plots.result() if plot is not None]
    return list(plots)


def start_report_plots(runs: Union[Sequence[RunRecord], History]) -> Drawing:
    """The plots of :func:`report_plots`, drawing from now on (:mod:`zoo.views.drawing`)."""
    history = as_history(runs)
    current = history.current
    jobs = plotting.claim_plot_jobs(current) + [functools.partial(plotting.accuracy_throughput_plot, current)]
    return Drawing(jobs + plotting.history_plot_jobs(history.runs))


def report_plots(runs: Union[Sequence[RunRecord], History]) -> list[plotting.Plot]:
    """Every plot the report shows: claims and zoo plots of the latest run, then history."""
    return _plots_of(start_report_plots(runs))


def write_html_report(
    runs: Union[Sequence[RunRecord], History],
    out_dir: Path,
    *,
    link_template: Optional[str] = None,
    plots: Optional[Union[list[plotting.Plot], Drawing]] = None,
) -> Path:
    """Write ``out_dir/index.html`` (self-contained) and ``out_dir/assets/*.png``; return the page.

    The plots are written into a hidden folder and the page to a temporary name; the folder
    takes the place of ``assets/`` only once every file is written, so an interrupt or a full
    disk (:class:`zoo.errors.OutOfSpaceError`, exit 3) never leaves a half-written file or a
    partial ``assets/``. ``plots`` default to :func:`report_plots`.
    """
    out_dir = Path(out_dir)
    history = as_history(runs)
    drawing = start_report_plots(history) if plots is None else plots
    html = render_html(history, out_dir=out_dir, link_template=link_template, plots=drawing)
    plots = _plots_of(drawing)
    created = not out_dir.exists()
    try:
        # Every plot goes to a hidden folder first; only when all of them and the page are written is the
        # folder swapped in for assets/, so a full disk or an interrupt never leaves a partial assets/.
        out_dir.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=out_dir, prefix=".assets-"))
    except OSError as exc:
        _forget(out_dir, created)
        if is_no_space(exc):
            raise OutOfSpaceError(out_dir) from exc
        raise
    try:
        for plot in plots:
            target = inside(staged, staged / f"{plot.key}.png")  # keys carry metric names from records
            try:
                target.write_bytes(plot.png)
            except OSError as exc:
                if is_no_space(exc):
                    raise OutOfSpaceError(out_dir / "assets" / target.name) from exc
                raise
        page = out_dir / "index.html"
        write_atomic(page, html.encode("utf-8"))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        _forget(out_dir, created)
        raise
    _swap_in(staged, out_dir / "assets")
    return page


def _swap_in(staged: Path, assets: Path) -> None:
    """Put the staged plots in place of ``assets/`` (renames: no space needed), dropping the old ones."""
    old = None
    if assets.is_dir() and not assets.is_symlink():
        old = Path(tempfile.mkdtemp(dir=assets.parent, prefix=".assets-old-"))
        os.replace(assets, old / "assets")
    elif assets.is_symlink() or assets.exists():
        assets.unlink()  # a link or a file planted at the name is the report folder's to remove
    os.replace(staged, assets)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _forget(out_dir: Path, created: bool) -> None:
    """Remove the report folder again when this call created it and left nothing in it."""
    if created:
        try:
            out_dir.rmdir()
        except OSError:
            pass
