"""History at scale: ``zoo report`` and ``zoo gate`` over many run records read no historic
record twice, and show the same history as from every record read and judged whole.

The world: four runs of the report world (two of them split into two shards), a month apart,
each with its own throughput, one with a top-1 that drifts; stored as ``zoo verify`` stores
them. The reference is computed here, from every record read whole and re-judged; the
history cache (``ZOO_HISTORY_CACHE``, a file per test) is cold on the first report and warm
on the second.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Optional

import pytest
from click.testing import CliRunner
from fixtures.runs.world import REPORT_WAIVERS, make_run, report_outcomes, write_index, write_tolerances

from zoo.cli import gate_cmd, report_cmd
from zoo.judge.gate import GateSettings, gate_records
from zoo.judge.tally import tally
from zoo.records import Measurement, RunRecord, Uncertainty
from zoo.runs import store
from zoo.runs.merge import combine_runs
from zoo.runs.store import load_run, save_run
from zoo.verify.shard import select_shard
from zoo.views import plots
from zoo.views.rows import judged_value

TODAY = dt.date.today()


def _timed(run: RunRecord, factor: float) -> RunRecord:
    """``run`` with every throughput scaled by ``factor`` (a night's own figures)."""
    models = []
    for result in run.models:
        measurements = []
        for m in result.measurements:
            if m.metric == "throughput" and isinstance(m.value, float):
                v = m.value * factor
                m = dataclasses.replace(m, value=v, uncertainty=Uncertainty("process-range", v * 0.98, v * 1.02))
            measurements.append(m)
        models.append(dataclasses.replace(result, measurements=measurements))
    return dataclasses.replace(run, models=models)


def _night(root: Path, day: int, factor: float, shards: int, **outcome_changes: Any) -> list[RunRecord]:
    """The records of one night's run: ``shards`` shard records (or one unsharded record)."""
    outcomes = report_outcomes()
    for name, change in outcome_changes.items():
        outcomes[name] = dataclasses.replace(outcomes[name], **change)
    stamp = dt.datetime(2025, 5, day, 2, 0, tzinfo=dt.timezone.utc)
    if shards == 1:
        run = make_run(root, outcomes, run_id=f"{stamp:%Y%m%dT%H%M%SZ}-n{day:02d}", started=stamp.isoformat(),
                       finished=(stamp + dt.timedelta(minutes=20)).isoformat())
        return [_timed(run, factor)]
    records = []
    whole = make_run(root, outcomes)
    cards = [result.card for result in whole.models]
    for k in range(1, shards + 1):
        names = {card.name for card in select_shard(cards, k, shards)}
        start = stamp + dt.timedelta(minutes=k)
        run = make_run(root, {n: o for n, o in outcomes.items() if n in names}, run_id=f"{start:%Y%m%dT%H%M%SZ}-s{k}",
                       started=start.isoformat(), finished=(start + dt.timedelta(minutes=30)).isoformat(), shard=f"{k}/{shards}")
        run = dataclasses.replace(run, options={**run.options, "run_group": f"night-{day}"})
        records.append(_timed(run, factor))
    return records


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Four nights (the second and third in two shards) saved under runs/; their folders, oldest first."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_HISTORY_CACHE", str(tmp_path / "cache" / "history.sqlite"))
    write_index(tmp_path)
    write_tolerances(tmp_path, waivers=REPORT_WAIVERS)
    nights = [
        _night(tmp_path, 1, 1.0, 1),
        _night(tmp_path, 8, 0.9, 2),
        _night(tmp_path, 15, 1.1, 2, mobilenetv2_100={"top1_delta": -0.9}),
        _night(tmp_path, 22, 1.05, 1),
    ]
    for records in nights:
        for record in records:
            save_run(record, tmp_path / "runs")
    return sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "runs").iterdir())


def reference(folders: list[str]) -> list[RunRecord]:
    """Every run read whole, shards merged, and judged as the report judges it."""
    return [result.run for result in gate_records(combine_runs([load_run(f) for f in folders]), GateSettings(today=TODAY))]


class RunsTable(HTMLParser):
    """The rows of the HTML report's runs table (section "history"): the text of each cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._in_history = False
        self._cell: Optional[list[str]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "section":
            self._in_history = dict(attrs).get("id") == "history"
        elif self._in_history and tag == "tr":
            self.rows.append([])
        elif self._in_history and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def runs_table(page: str) -> list[list[str]]:
    parser = RunsTable()
    parser.feed(page)
    return [row for row in parser.rows if row]


def expected_table(runs: list[RunRecord]) -> list[list[str]]:
    rows = []
    for run in sorted(runs, key=lambda r: (r.started, r.run_id)):
        shard = ",".join(run.merge.shards) if run.merge is not None else ""
        counts = [str(tally(run).by_status[s]) for s in ("drift", "error", "unverified", "waived", "pass")]
        rows.append([f"{run.run_id} ({shard})" if shard else run.run_id, run.started, run.environment.hostname,
                     (run.environment.git_commit or "")[:10], str(len(run.models)), *counts])
    return rows


def expected_series(runs: list[RunRecord]) -> dict[str, dict[str, list[float]]]:
    """Metric -> model -> the value each run's verdict judged, oldest run first."""
    series: dict[str, dict[str, list[float]]] = {}
    for run in sorted(runs, key=lambda r: r.finished):
        for result in run.models:
            for m in result.measurements:
                value = judged_value(result, m.metric)
                if m.metric in plots.PLOTTED_METRICS and isinstance(value, (int, float)) and not isinstance(value, bool):
                    series.setdefault(m.metric, {}).setdefault(result.card.name, []).append(float(value))
    return {metric: per_model for metric, per_model in series.items() if max(map(len, per_model.values())) > 1}


def counting_into(validated: list[str]) -> Any:
    """``store.from_json_dict`` that appends the run id of each record validated whole (with its
    models) to ``validated``."""
    validate = store.from_json_dict

    def counting(kind: Any, data: Any) -> Any:
        if isinstance(data, dict) and data.get("models"):
            validated.append(data["run_id"])
        return validate(kind, data)

    return counting


def report(folders: list[str], out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``zoo report FOLDERS --html --markdown`` in this process: its page, Markdown, the series
    each history plot drew, and how many run records it validated whole."""
    drawn: dict[str, dict[str, list[float]]] = {}
    draw = plots._history_plot

    def recording(metric: str, per_model: dict[str, list[tuple[dt.datetime, float]]], *args: Any) -> plots.Plot:
        drawn[metric] = {model: [v for _, v in points] for model, points in per_model.items()}
        return draw(metric, per_model, *args)

    validated: list[str] = []
    with monkeypatch.context() as patch:
        patch.setattr(plots, "_history_plot", recording)
        patch.setattr(store, "from_json_dict", counting_into(validated))
        result = CliRunner().invoke(report_cmd.command, [*folders, "--html", str(out), "--markdown", str(out / "summary.md")],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    return {"page": re.sub(r" on \d{4}-\d\d-\d\d \d\d:\d\d UTC from run records", "", page), "markdown": (out / "summary.md").read_text(encoding="utf-8"),
            "drawn": drawn, "validated": validated, "stderr": result.stderr}


def test_the_history_shown_is_that_of_every_record_judged_whole(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = reference(world)
    assert len(runs) == 4 and sum(run.merge is not None for run in runs) == 2
    with monkeypatch.context() as patch:
        patch.setenv("ZOO_HISTORY_CACHE", "off")
        uncached = report(world, tmp_path / "uncached", monkeypatch)
    assert not (tmp_path / "cache").exists()
    cold = report(world, tmp_path / "cold", monkeypatch)
    warm = report(world, tmp_path / "warm", monkeypatch)
    for shown in (cold, warm, uncached):
        assert runs_table(shown["page"]) == expected_table(runs)
        assert shown["drawn"] == expected_series(runs)
        assert {"flops", "throughput", "top1"} <= set(shown["drawn"])  # the plotted metrics include a judged convention
    assert cold["page"] == warm["page"] == uncached["page"]
    assert cold["markdown"] == warm["markdown"] == uncached["markdown"]
    assert (tmp_path / "cache" / "history.sqlite").is_file()


def test_a_warm_report_reads_only_the_latest_two_runs_whole(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report(world, tmp_path / "first", monkeypatch)
    second = report(world, tmp_path / "second", monkeypatch)
    runs = reference(world)
    latest_two = sorted(runs, key=lambda r: r.finished)[-2:]
    whole = sorted(run_id for run in latest_two for run_id in (run.merge.merged_from if run.merge else [run.run_id]))
    assert sorted(second["validated"]) == whole  # 3 of the 6 records: the first night and both shards of the second stay unread


def test_a_record_that_changed_is_read_again(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report(world, tmp_path / "first", monkeypatch)
    oldest = Path(world[0]) / "run.json"
    run = load_run(oldest)
    drifted = [dataclasses.replace(r, measurements=[dataclasses.replace(m, value=70.0, uncertainty=Uncertainty("wilson", 69.9, 70.1, 0.95))
                                                    if m.metric == "top1" and m.status == "ok" else m for m in r.measurements])
               for r in run.models]
    oldest.unlink()
    save_run(dataclasses.replace(run, models=drifted), oldest.parent.parent)
    again = report(world, tmp_path / "again", monkeypatch)
    runs = reference(world)
    assert runs_table(again["page"]) == expected_table(runs)
    assert runs_table(again["page"])[0][5] == "3"  # three top-1 claims now drift in the oldest run
    assert again["drawn"] == expected_series(runs)


def test_changed_waivers_are_judged_again(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report(world, tmp_path / "first", monkeypatch)
    waivers = [*REPORT_WAIVERS, {"model": "mobilenetv2_110d", "metric": "top1", "reason": "known", "expires": "2099-01-01"}]
    write_tolerances(tmp_path, waivers=waivers)
    again = report(world, tmp_path / "again", monkeypatch)
    table = runs_table(again["page"])
    assert table == expected_table(reference(world))
    assert [row[5] for row in table] == ["0", "0", "1", "0"]  # mobilenetv2_110d's drift waived; mobilenetv2_100's stays


def test_a_damaged_cache_is_left_alone_and_the_report_made(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache" / "history.sqlite"
    cache.parent.mkdir()
    cache.write_bytes(b"this is not a database" * 100)
    shown = report(world, tmp_path / "out", monkeypatch)
    assert "history cache" in shown["stderr"] and "not used" in shown["stderr"]
    assert runs_table(shown["page"]) == expected_table(reference(world))
    assert cache.read_bytes() == b"this is not a database" * 100


def test_the_cache_holds_no_record_text(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the cache keeps of a run is its digest: a small fraction of the records."""
    report(world, tmp_path / "out", monkeypatch)
    with sqlite3.connect(tmp_path / "cache" / "history.sqlite") as db:
        kept = sum(len(payload) for (payload,) in db.execute("SELECT payload FROM derived"))
        kinds = {kind for (kind,) in db.execute("SELECT kind FROM derived")}
    records = sum((Path(f) / "run.json").stat().st_size for f in world)
    assert kinds == {"history-digest"}
    assert 0 < kept < records / 10


def gate(folders: list[str], monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, list[str], list[str]]:
    validated: list[str] = []
    with monkeypatch.context() as patch:
        patch.setattr(store, "from_json_dict", counting_into(validated))
        result = CliRunner().invoke(gate_cmd.command, [*folders, *extra], catch_exceptions=False)
    return result.exit_code, result.stdout.splitlines(), validated


def test_a_warm_gate_prints_the_same_and_reads_no_record_whole(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setenv("ZOO_HISTORY_CACHE", "off")
        code, uncached, _ = gate(world, monkeypatch, "--today", "2025-06-01")
    cold_code, cold, cold_read = gate(world, monkeypatch, "--today", "2025-06-01")
    warm_code, warm, warm_read = gate(world, monkeypatch, "--today", "2025-06-01")
    assert code == cold_code == warm_code == 1  # mobilenetv2_110d's top-1 drifts
    assert uncached == cold == warm
    assert len(cold_read) == 6 and warm_read == []
    # Another day with the same waivers in force: the same verdicts, the day named anew.
    _, later, later_read = gate(world, monkeypatch, "--today", "2025-06-02")
    assert later_read == [] and later == [line.replace("2025-06-01", "2025-06-02") for line in cold]
    # The day the waiver of mobilenetv2_120d's file size expires: judged again.
    _, expired, expired_read = gate(world, monkeypatch, "--today", "2100-01-01")
    assert len(expired_read) == 6 and "drift in metrics that do not gate (reported only):" not in cold
    waived = expired.index("drift in metrics that do not gate (reported only):")
    assert "mobilenetv2_120d file size" in expired[waived + 1] and "waiver expired" in expired[waived + 1]


def test_a_header_is_cut_from_the_record_text_only_in_the_layout_zoo_writes(world: list[str]) -> None:
    from zoo.runs.history import header_text

    for folder in world:
        text = (Path(folder) / "run.json").read_text(encoding="utf-8")
        whole = json.loads(text)
        assert json.loads(header_text(text)) == {**whole, "models": []}
        assert len(header_text(text)) < len(text) / 5
    # A key other than "models" between "models" and "shard" (a record laid out by hand): not cut.
    odd = text.replace('\n  "shard": ', '\n  "options": {},\n  "shard": ', 1)
    assert header_text(odd) == odd
    compact = json.dumps(whole)
    assert header_text(compact) == compact


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the second process is used only with two cores")
def test_plots_drawn_on_two_cores_are_those_drawn_on_one(world: list[str], tmp_path: Path) -> None:
    """zoo report (which imports no torch) forks a second process that draws the plots while the
    report is written, and draws those left itself; the PNGs are byte for byte those one process
    draws, in the same order."""
    code = f"""
import json, multiprocessing, sys
from zoo.views import drawing
from zoo.views.html import report_plots
from zoo.views.history_data import History
from zoo.judge.gate import gate_records
from zoo.runs.merge import combine_runs
from zoo.runs.store import load_run
runs = [r.run for r in gate_records(combine_runs([load_run(f) for f in {world!r}]))]
assert "torch" not in sys.modules and "matplotlib" not in sys.modules
forked = []
original = multiprocessing.get_context
multiprocessing.get_context = lambda method=None: forked.append(method) or original(method)
parallel = report_plots(History.of(runs))
drawing.may_fork = lambda jobs: False
serial = report_plots(History.of(runs))
print(json.dumps({{"same": [p.png for p in parallel] == [p.png for p in serial], "keys": [p.key for p in parallel],
                   "forked": forked, "serial_keys": [p.key for p in serial]}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["forked"] == ["fork"]
    assert found["same"] and found["keys"] == found["serial_keys"]
    assert len(found["keys"]) >= 4 and any(key.startswith("history-") for key in found["keys"])


def test_a_copied_history_is_known_by_its_bytes(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records downloaded again (another path, another time) are found in the cache by their
    SHA-256: only the latest two runs are read whole."""
    report(world, tmp_path / "first", monkeypatch)
    shutil.copytree(tmp_path / "runs", tmp_path / "downloaded")
    for path in (tmp_path / "downloaded").rglob("run.json"):
        os.utime(path, (1e9, 1e9))
    copied = [folder.replace("runs/", "downloaded/", 1) for folder in world]
    again = report(copied, tmp_path / "again", monkeypatch)
    assert len(again["validated"]) == 3
    assert runs_table(again["page"]) == expected_table(reference(copied))


def test_changed_zoo_data_is_judged_again(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached verdict rests on the zoo data beside the index as well as on the records: a
    claim changed in a card, then FLOPs conventions pinned beside the index, each make the warm
    gate and report judge every run again, and show what an uncached run shows."""

    def uncached_gate() -> list[str]:
        with monkeypatch.context() as patch:
            patch.setenv("ZOO_HISTORY_CACHE", "off")
            return gate(world, monkeypatch, "--today", "2025-06-01")[1]

    first = gate(world, monkeypatch, "--today", "2025-06-01")[1]
    report(world, tmp_path / "first", monkeypatch)
    # A card's claim changes: mobilenetv2_100's top-1 claim moves by 1 pp (it drifts in every run).
    card = tmp_path / "metadata" / "zoo.yml"
    card.write_text(card.read_text(encoding="utf-8").replace("Top 1 Accuracy: 72.95%", "Top 1 Accuracy: 73.95%"), encoding="utf-8")
    code, claimed, read = gate(world, monkeypatch, "--today", "2025-06-01")
    assert code == 1 and len(read) == 6 and claimed == uncached_gate() and claimed != first
    assert any("mobilenetv2_100 top-1 accuracy, claimed 73.95%" in line for line in claimed)
    shown = report(world, tmp_path / "claimed", monkeypatch)
    assert runs_table(shown["page"]) == expected_table(reference(world))
    assert [row[5] for row in runs_table(shown["page"])] == ["2", "2", "2", "2"]  # was 1, 1, 2, 1
    # FLOPs conventions pinned beside the index: every FLOPs claim is judged by them.
    (tmp_path / "metadata" / "flops-conventions.yml").write_text(
        "tolerance: 0.02\nzoo:\n  convention: 3x fvcore @image\n", encoding="utf-8")
    _, pinned, read = gate(world, monkeypatch, "--today", "2025-06-01")
    assert len(read) == 6 and pinned == uncached_gate() and pinned != claimed
    assert any("FLOPs conventions: pinned in" in line for line in pinned)
    assert sum("flops" in line and "from 3x fvcore @image" in line for line in pinned) == 4 * len(reference(world))
    shown = report(world, tmp_path / "pinned", monkeypatch)
    assert runs_table(shown["page"]) == expected_table(reference(world))
    assert shown["drawn"] == expected_series(reference(world))


def test_the_note_on_an_unusable_cache_is_printed_inert(world: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # $ZOO_HISTORY_CACHE names a damaged file in a folder whose name holds an escape sequence (OSC: set the title).
    cache = tmp_path / "cache\x1b]0;pwned\x07" / "history.sqlite"
    cache.parent.mkdir()
    cache.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("ZOO_HISTORY_CACHE", str(cache))
    shown = report(world, tmp_path / "out", monkeypatch)
    assert "not used" in shown["stderr"] and "cache\u241b]0;pwned\u2407" in shown["stderr"]
    assert "\x1b" not in shown["stderr"] and "\x07" not in shown["stderr"]
