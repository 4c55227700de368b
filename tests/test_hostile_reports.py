"""Hostile card values and options against the reports, and the report agreeing with the gate
(issue #10, items 14, 15, 17)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.runs.world import CLAIMS, Outcome, enter_world, make_run

from hostile_world import snapshot
from zoo.cli import gate_cmd, report_cmd
from zoo.records import ModelResult, RunRecord, Uncertainty
from zoo.runs.store import save_run

IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    enter_world(tmp_path, monkeypatch)
    cards = tmp_path / "metadata" / "zoo.yml"
    text = cards.read_text(encoding="utf-8")
    cards.write_text(text.replace("Interpolation: bicubic", f"Interpolation: '{IMG}'", 1), encoding="utf-8")
    return tmp_path


def _rename(run: RunRecord, old: str, new: str) -> RunRecord:
    models = []
    for result in run.models:
        if result.card.name == old:
            card = dataclasses.replace(result.card, name=new)
            verdicts = [dataclasses.replace(v, model=new) for v in result.verdicts]
            result = ModelResult(card=card, measurements=result.measurements, verdicts=verdicts)
        models.append(result)
    return dataclasses.replace(run, models=models)


def _report(*args: str):
    return CliRunner().invoke(report_cmd.command, list(args), catch_exceptions=False)


def test_markdown_report_escapes_card_values(world):
    save_run(make_run(world, {name: Outcome() for name in CLAIMS}), world / "runs")
    result = _report("--markdown", "-")
    assert result.exit_code == 0, result.output
    assert "<img" not in result.output and "&lt;img src=x onerror=alert(1)>" in result.output


def test_source_url_with_another_scheme_is_refused(world):
    save_run(make_run(world, {name: Outcome() for name in CLAIMS}), world / "runs")
    before = snapshot(world, [world / "runs"])
    result = _report("--html", "out", "--source-url", "javascript:alert(document.cookie)//{path}#{line}")
    assert result.exit_code == 2 and "not an http(s) URL" in result.output
    assert snapshot(world, [world / "runs"]) == before


def test_relative_links_cannot_become_javascript(world):
    from zoo.records import SourceRef
    from zoo.views.rows import source_href

    href = source_href(SourceRef("javascript:alert(1)", 3), None, None)
    assert not href.lower().startswith("javascript:") and href.startswith("./")
    assert source_href(SourceRef("a.yml", 3), "https://x.example/{path}#L{line}", None) == "https://x.example/a.yml#L3"


def test_dollar_in_a_model_name_does_not_break_the_html_report(world):
    run = _rename(make_run(world, {name: Outcome() for name in CLAIMS}), "mobilenetv2_100", "net$\\nosuchmacro$")
    save_run(run, world / "runs")
    result = _report("--html", "out", "--stored-claims")  # the renamed model is in no index: its stored card is shown
    assert result.exit_code == 0, result.output
    page = (world / "out" / "index.html").read_text(encoding="utf-8")
    assert "net$\\nosuchmacro$" in page and IMG not in page


def test_report_gate_box_says_what_the_gate_says_for_a_doctored_record(world):
    run = make_run(world, {name: Outcome() for name in CLAIMS}, kinds=["params"])
    # A record whose stored verdicts say pass although its top-1 measurement is far off.
    models = []
    for result in run.models:
        measurements = [dataclasses.replace(m, value=10.0, uncertainty=Uncertainty("wilson-95", 9.9, 10.1, 0.95))
                        if m.metric == "top1" else m for m in result.measurements]
        models.append(ModelResult(card=result.card, measurements=measurements, verdicts=result.verdicts))
    folder = save_run(dataclasses.replace(run, models=models, measurements_requested=["accuracy"]), world / "runs")
    gate = CliRunner().invoke(gate_cmd.command, [str(folder)])
    report = _report(str(folder), "--markdown", "-")
    assert gate.exit_code == 1, gate.output
    assert "**Gate: ❌ drift** (exit code 1)" in report.output


@pytest.mark.parametrize("low,high,complaint", [(80.0, 70.0, "invalid wilson-95 interval"), (math.nan, 71.0, "NaN is not a finite number")])
def test_interval_with_low_above_high_or_nan_is_invalid_input(world, low, high, complaint):
    run = make_run(world, {name: Outcome() for name in CLAIMS})
    models = []
    for result in run.models:
        measurements = [dataclasses.replace(m, uncertainty=Uncertainty("wilson-95", low, high, 0.95))
                        if m.metric == "top1" else m for m in result.measurements]
        models.append(ModelResult(card=result.card, measurements=measurements, verdicts=result.verdicts))
    folder = save_run(dataclasses.replace(run, models=models), world / "runs")
    gate = CliRunner().invoke(gate_cmd.command, [str(folder)])
    assert gate.exit_code == 2, gate.output
    assert complaint in gate.output and "mobilenetv2_100" in gate.output


# --------------------------------------------------------------------------- run groups (item 16)


def _shard_runs(world: Path, groups: tuple, limits: tuple = (None, None), commit=None):
    from fixtures.runs.world import CLAIMS
    from zoo.verify.shard import select_shard
    from zoo.index import load_index

    cards = load_index([world / "metadata"]).models
    records = []
    for k, (group, limit) in enumerate(zip(groups, limits), start=1):
        names = {c.name for c in select_shard(cards, k, 2)}
        run = make_run(world, {n: Outcome() for n in CLAIMS if n in names}, run_id=f"run-{k}", shard=f"{k}/2")
        env = dataclasses.replace(run.environment, git_commit=commit)
        options = {**run.options, "run_group": group, "limit": limit, "shard": f"{k}/2"}
        records.append(dataclasses.replace(run, environment=env, options=options))
    return records


def _gate_paths(world: Path, records) -> object:
    paths = [str(save_run(r, world / "runs")) for r in records]
    return CliRunner().invoke(gate_cmd.command, paths)


def test_shards_of_different_run_groups_are_not_merged(world):
    result = _gate_paths(world, _shard_runs(world, ("github-1-1", "github-2-1")))
    assert result.exit_code == 3, result.output  # two runs, each missing its other shard
    assert result.output.count("missing shards (incomplete)") == 2


def test_shards_of_different_groups_given_to_merge_are_refused_with_the_options_that_differ(world):
    from zoo.errors import InputError
    from zoo.runs.merge import merge_runs

    with pytest.raises(InputError) as caught:
        merge_runs(_shard_runs(world, ("a", "b"), limits=(500, 1000)))
    text = str(caught.value)
    assert "not one run" in text and "run-1 (1/2): a" in text and "limit (run-1: 500, run-2: 1000)" in text


def test_anonymous_shards_with_different_options_are_refused(world):
    result = _gate_paths(world, _shard_runs(world, (None, None), limits=(500, 1000)))
    assert result.exit_code == 2, result.output
    assert "not one run" in result.output and "limit" in result.output and "--run-group" in result.output


def test_shards_of_one_group_merge(world):
    result = _gate_paths(world, _shard_runs(world, ("github-7-1", "github-7-1")))
    assert result.exit_code == 0, result.output


def test_run_group_defaults_to_the_ci_run_id():
    from zoo.verify.shard import default_run_group

    assert default_run_group({"GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "3"}) == "github-99-3"
    assert default_run_group({"CI_PIPELINE_ID": "5"}) == "gitlab-5"
    assert default_run_group({"ZOO_RUN_GROUP": "mine", "GITHUB_RUN_ID": "1"}) == "mine"
    assert default_run_group({}) is None


def test_rich_markup_in_card_text_prints_as_itself(world, tmp_path):
    import io


    from zoo.cli import list_cmd
    from zoo.views import terminal

    card = tmp_path / "rich" / "model-index.yml"
    card.parent.mkdir()
    card.write_text('Models:\n- Name: "[/]"\n  Metadata:\n    Parameters: 10\n', encoding="utf-8")
    listed = CliRunner().invoke(list_cmd.command, ["--index", str(card)])
    assert listed.exit_code == 0, listed.output
    assert "[/]" in listed.output
    run = _rename(make_run(world, {name: Outcome() for name in CLAIMS}), "mobilenetv2_100", "[/][bold]x")
    console = terminal.make_console()
    buffer = io.StringIO()
    console.file = buffer
    terminal.print_run(run, console)
    assert "[/][bold]x" in buffer.getvalue()
