"""Performance changes in the reports: with several runs, the latest run's timing figures
beside the run that finished before it. A change is a regression only when it exceeds the
run-to-run spread of both runs; figures made under different conditions are incomparable."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest
from click.testing import CliRunner
from fixtures.runs.world import report_world

from zoo.cli import report_cmd
from zoo.records import Measurement, RunRecord, Uncertainty
from zoo.runs.store import save_run
from zoo.views.history_rows import performance_changes
from zoo.views.html import render_html
from zoo.views.markdown import render_markdown

CONDITIONS = {"device": "cpu", "device_name": "Test CPU @ 2.0GHz", "dtype": "float32", "channels_last": False,
              "compile": False, "batch_size": 32, "input_size": "3x224x224", "threads": 2}


def timing(metric: str, value: float, low: float, high: float, **conditions: object) -> Measurement:
    """A timing figure as ``zoo bench --repeat N`` records it (median of fresh processes, their range)."""
    return Measurement(
        metric=metric, status="ok", value=value, unit="images/s" if metric == "throughput" else "ms",
        method="median of 5 fresh processes", conditions={**CONDITIONS, **conditions},
        uncertainty=Uncertainty("process-range", low, high),
    )


def with_timings(run: RunRecord, timings: dict[str, list[Measurement]], *, run_id: str, finished: str) -> RunRecord:
    """``run`` with each listed model's timing figures replaced by ``timings[model]``."""
    models = []
    for result in run.models:
        figures = timings.get(result.card.name)
        if figures is not None:
            kept = [m for m in result.measurements if m.metric not in {f.metric for f in figures} | {"throughput"}]
            result = dataclasses.replace(result, measurements=kept + figures)
        models.append(result)
    return dataclasses.replace(run, run_id=run_id, started=finished[:11] + "00:00:00+00:00", finished=finished, models=models)


PREVIOUS = {
    # a throughput drop of 100 img/s against spreads of 20 and 10: a regression
    "mobilenetv2_100": [timing("throughput", 900.0, 890.0, 910.0), timing("latency_p50", 10.0, 9.9, 10.1)],
    # a drop of 10 img/s: beyond this run's spread (10) but within the previous one's (40): unchanged
    "mobilenetv2_110d": [timing("throughput", 700.0, 680.0, 720.0)],
    # measured at another batch size: incomparable, whatever the figures say
    "mobilenetv2_120d": [timing("throughput", 500.0, 499.0, 501.0)],
}
CURRENT = {
    "mobilenetv2_100": [timing("throughput", 800.0, 795.0, 805.0), timing("latency_p50", 8.0, 7.9, 8.1)],
    "mobilenetv2_110d": [timing("throughput", 690.0, 685.0, 695.0)],
    "mobilenetv2_120d": [timing("throughput", 300.0, 299.0, 301.0, batch_size=16)],
}
EXPECTED = {
    ("mobilenetv2_100", "throughput"): "regression",
    ("mobilenetv2_100", "latency_p50"): "improvement",
    ("mobilenetv2_110d", "throughput"): "unchanged",
    ("mobilenetv2_120d", "throughput"): "incomparable",
    # the world's own figure, the same in both runs
    ("mobilenetv2_140", "throughput"): "unchanged",
}


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RunRecord, RunRecord]:
    """(previous, current): two runs of the report world a month apart."""
    monkeypatch.chdir(tmp_path)
    base = report_world(tmp_path)
    previous = with_timings(base, PREVIOUS, run_id="20250601T120000Z-before", finished="2025-06-01T12:20:00+00:00")
    current = with_timings(base, CURRENT, run_id="20250701T120000Z-after", finished="2025-07-01T12:20:00+00:00")
    return previous, current


class ChangeRows(HTMLParser):
    """The rows of the HTML performance-changes table, and the section ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        self.sections: list[Optional[str]] = []
        self._row: Optional[dict[str, str]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        if tag == "section":
            self.sections.append(attributes.get("id"))
        if tag == "tr" and "data-change" in attributes:
            self._row = {"status": attributes["data-change"] or "", "text": ""}
            self.rows[(attributes["data-change-model"] or "", attributes["data-change-metric"] or "")] = self._row

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row["text"] += data


def html_changes(runs: list[RunRecord]) -> ChangeRows:
    parser = ChangeRows()
    parser.feed(render_html(runs, plots=[]))
    parser.close()
    return parser


def markdown_changes(text: str) -> dict[tuple[str, str], str]:
    """(model, metric label) -> the whole table line, from the Performance changes section."""
    assert text.count("### Performance changes") == 1
    section = text.split("### Performance changes", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("| mobilenet")]
    return {(line.split(" | ")[0][2:], line.split(" | ")[1]): line for line in lines}


def test_html_calls_a_change_a_regression_only_beyond_both_spreads(runs: tuple[RunRecord, RunRecord]) -> None:
    previous, current = runs
    page = html_changes([previous, current])
    assert "changes" in page.sections
    assert {key: row["status"] for key, row in page.rows.items()} == EXPECTED
    text = {key: " ".join(row["text"].split()) for key, row in page.rows.items()}
    regression = text[("mobilenetv2_100", "throughput")]
    for shown in ("900 img/s", "[890, 910] img/s (process-range)", "800 img/s", "[795, 805] img/s (process-range)",
                  "−11.11 %", "±45 img/s", "regression"):  # 5% of 900 is above both spreads
        assert shown in regression, shown
    assert "within the noise" in text[("mobilenetv2_110d", "throughput")]
    incomparable = text[("mobilenetv2_120d", "throughput")]
    assert "batch_size 32 -> 16" in incomparable and "−40.00 %" not in incomparable  # not called a change


def test_markdown_shows_the_same_statuses_with_values_and_spreads(runs: tuple[RunRecord, RunRecord]) -> None:
    previous, current = runs
    text = render_markdown([current, previous])  # given out of order: the latest by finish time is "current"
    assert "`20250701T120000Z-after` compared with `20250601T120000Z-before`" in text
    assert "1 regression · 1 incomparable · 0 inconclusive · 1 improvement · 2 unchanged" in text
    rows = markdown_changes(text)
    labels = {"throughput": "Throughput", "latency_p50": "Latency p50"}
    assert {key: next(s for s in ("regression", "improvement", "unchanged", "incomparable") if f" {s}" in line)
            for key, line in rows.items()} == {(model, labels[metric]): status for (model, metric), status in EXPECTED.items()}
    regression = rows[("mobilenetv2_100", "Throughput")]
    assert "| 900 img/s [890, 910] img/s (process-range) | 800 img/s [795, 805] img/s (process-range) | −11.11 % | **❌ regression** |" in regression
    assert "batch_size 32 -> 16" in rows[("mobilenetv2_120d", "Throughput")]


def test_the_latest_run_is_compared_with_the_one_that_finished_just_before_it(runs: tuple[RunRecord, RunRecord]) -> None:
    previous, current = runs
    # An older run in which mobilenetv2_100 was as slow as now: against it, nothing regressed.
    oldest = with_timings(previous, CURRENT, run_id="20250501T120000Z-oldest", finished="2025-05-01T12:20:00+00:00")
    changes = performance_changes([previous, oldest, current])
    assert changes is not None
    assert (changes.previous.run_id, changes.current.run_id) == (previous.run_id, current.run_id)
    assert {(row.model, row.metric): row.status for row in changes.rows} == EXPECTED
    assert changes.counts == {"regression": 1, "incomparable": 1, "inconclusive": 0, "improvement": 1, "unchanged": 2}


def test_a_single_run_has_no_performance_changes(runs: tuple[RunRecord, RunRecord]) -> None:
    _, current = runs
    assert performance_changes([current]) is None
    assert "Performance changes" not in render_markdown([current])
    html = render_html([current], plots=[])
    assert "Performance changes" not in html and 'id="changes"' not in html and "data-change=" not in html


def test_zoo_report_given_two_stored_runs_shows_the_regression(runs: tuple[RunRecord, RunRecord], tmp_path: Path) -> None:
    for run in runs:
        save_run(run, tmp_path / "runs")
    folders = sorted(str(p) for p in (tmp_path / "runs").iterdir())
    assert len(folders) == 2
    result = CliRunner().invoke(report_cmd.command, [*folders, "--markdown", "-"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = markdown_changes(result.output)
    assert "**❌ regression**" in rows[("mobilenetv2_100", "Throughput")]
    assert "unchanged" in rows[("mobilenetv2_110d", "Throughput")]


def test_the_markdown_report_stays_free_of_torch() -> None:
    """Views read records; comparing runs must not pull in the timing code (and torch)."""
    code = ("import sys, zoo.views.markdown, zoo.views.history_rows, zoo.judge.history;"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_history_compares_the_figures_timing_produces() -> None:
    from zoo.judge import history
    from zoo.measure.throughput import timing as timing_code

    assert history.TIMING_METRICS == timing_code.TIMING_METRICS


def test_the_fixture_replaces_the_world_throughput(runs: tuple[RunRecord, RunRecord]) -> None:
    """The fixture replaces the world's throughput rather than adding a second one."""
    _, current = runs
    for result in current.models:
        assert [m.metric for m in result.measurements].count("throughput") == 1
