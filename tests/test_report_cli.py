"""``zoo report``: run records in, HTML / Markdown / CSV / JSON out; nothing measured."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.runs.world import CLAIMS, Outcome, make_run, report_outcomes, report_world

from zoo.cli import report_cmd
from zoo.index import load_index
from zoo.runs.store import save_run
from zoo.verify.shard import select_shard


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_RESULTS", raising=False)
    monkeypatch.delenv("ZOO_SOURCE_URL", raising=False)
    save_run(report_world(tmp_path), tmp_path / "runs")
    return tmp_path


def _report(*args: str) -> object:
    return CliRunner().invoke(report_cmd.command, list(args), catch_exceptions=False)


def test_report_writes_every_output_from_a_run_folder(world: Path) -> None:
    folder = next((world / "runs").iterdir())
    result = _report(str(folder), "--markdown", "out/summary.md", "--csv", "out/claims.csv", "--json", "out/measured.json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "**Gate: ❌ drift** (exit code 1)" in (world / "out" / "summary.md").read_text(encoding="utf-8")
    assert len(list(csv.DictReader((world / "out" / "claims.csv").open(encoding="utf-8")))) == 40
    assert [m["Name"] for m in json.loads((world / "out" / "measured.json").read_text())["Models"]] == list(CLAIMS)
    assert sorted(p.name for p in (world / "out").iterdir()) == ["claims.csv", "measured.json", "summary.md"]


def test_report_html_with_no_run_uses_the_latest_run(world: Path) -> None:
    newer = make_run(world, {name: Outcome() for name in CLAIMS}, run_id="20250701T000000Z-newest",
                     started="2025-07-01T00:00:00+00:00", finished="2025-07-01T00:20:00+00:00")
    save_run(newer, world / "runs")
    result = _report("--html", "reports", "--results", "runs")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    html = (world / "reports" / "index.html").read_text(encoding="utf-8")
    assert "20250701T000000Z-newest" in html and "Gate: PASS" in html
    assert 'href="../metadata/zoo.yml#L' in html  # links to the claims, relative to the report


def test_report_without_outputs_prints_markdown(world: Path) -> None:
    result = _report("--results", "runs")
    assert result.exit_code == 0
    assert result.stdout.startswith("## zoo reproducibility report")  # type: ignore[attr-defined]


def test_report_source_url_from_the_environment(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_SOURCE_URL", "https://github.com/o/r/blob/abc/{path}?plain=1#L{line}")
    result = _report("--markdown", "-")
    assert "(<https://github.com/o/r/blob/abc/metadata/zoo.yml?plain=1#L34>)" in result.output  # type: ignore[attr-defined]


def test_report_merges_shards_and_keeps_history(world: Path) -> None:
    cards = load_index(["metadata"]).models
    outcomes = report_outcomes()
    paths = []
    for k in (1, 2):
        names = {c.name for c in select_shard(cards, k, 2)}
        shard = make_run(world, {n: o for n, o in outcomes.items() if n in names}, run_id=f"20250801T00000{k}Z-s{k}",
                         started="2025-08-01T00:00:00+00:00", finished=f"2025-08-01T00:1{k}:00+00:00", shard=f"{k}/2")
        paths.append(str(save_run(shard, world / "shards")))
    old = str(next((world / "runs").iterdir()))
    result = _report(old, *paths, "--markdown", "-", "--csv", "all.csv")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "shards 1/2,2/2" in result.output  # type: ignore[attr-defined]
    assert "4 models · 36 claims" in result.output  # type: ignore[attr-defined]
    runs = {row["run_id"] for row in csv.DictReader((world / "all.csv").open(encoding="utf-8"))}
    assert len(runs) == 2 and "20250601T120000Z-abc123" in runs
    # With no RUN, the latest shard brings its sibling shards along.
    latest = _report("--results", "shards")
    assert "shards 1/2,2/2" in latest.output  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", ["missing", "damaged", "empty results", "mixed shards"])
def test_report_bad_input_exits_2(world: Path, case: str) -> None:
    run_json = next((world / "runs").iterdir()) / "run.json"
    args = [str(run_json)]
    if case == "missing":
        args = ["runs/nope/run.json"]
    elif case == "damaged":
        run_json.write_text("{", encoding="utf-8")
    elif case == "empty results":
        args = ["--results", "elsewhere"]
    elif case == "mixed shards":
        one = make_run(world, {"mobilenetv2_100": Outcome()}, run_id="a", shard="1/2")
        two = make_run(world, {"mobilenetv2_100": Outcome()}, run_id="b", shard="2/2")
        args = [str(save_run(one, world / "x")), str(save_run(two, world / "x"))]
    result = CliRunner().invoke(report_cmd.command, args + ["--markdown", "-"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    if case != "missing":
        assert result.output.startswith("zoo: error:")
