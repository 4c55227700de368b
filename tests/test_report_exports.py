"""Markdown summary, CSV and model-index JSON exports, and the display formatting they share."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest
from fixtures.runs.world import CLAIMS, PARAMETERS, Outcome, make_run, report_outcomes, report_world

from zoo.index import load_index
from zoo.records import Convention, RunRecord, Tolerance
from zoo.views import plots as plotting
from zoo.views.export import CSV_COLUMNS, model_index, write_csv, write_model_index_json
from zoo.views.markdown import render_markdown
from zoo.views.rows import format_difference, format_relative, format_tolerance, format_value, run_view, source_href


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunRecord:
    monkeypatch.chdir(tmp_path)
    return report_world(tmp_path)


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    "value, unit, text",
    [(3504872, "parameters", "3,504,872"), (72.951, "%", "72.95 %"), (14202571, "bytes", "14,202,571 B"),
     (912.44, "images/s", "912.4 img/s"), (0.875, "fraction", "0.875"), ("bicubic", "", "bicubic"),
     (None, "", "—"), ("https://x.invalid/a/b/w.pth", "URL", "…/w.pth"), (1234.5, "ms", "1,234 ms")],
)
def test_format_value(value: object, unit: str, text: str) -> None:
    assert format_value(value, unit) == text  # type: ignore[arg-type]


def test_differences_tolerances_and_relative_values_read_naturally() -> None:
    assert format_difference(-1.15, "%") == "−1.15 pp"
    assert format_difference(4872.0, "parameters") == "+4,872"
    assert format_difference(0.0, "bytes") == "0"
    assert format_relative(-0.0153) == "−1.53 %"
    assert format_relative(-0.0000319) == "−0.0032 %"
    assert format_tolerance(Tolerance("top1", absolute=0.5), 75.05, "%") == "±0.50 pp"
    assert format_tolerance(Tolerance("flops", relative=0.02), 401920448, "FLOPs") == "±8,038,409 (2 %)"
    assert format_tolerance(Tolerance("top1", relative=0.01, absolute=0.3), 72.95, "%") == "±0.73 pp (larger of 1 %, 0.30 pp)"
    assert format_tolerance(Tolerance("parameters"), 3500000, "parameters") == "exact"
    assert format_tolerance(Tolerance("interpolation"), "bicubic") == ""


def test_source_links_follow_a_template_or_the_report_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.records import SourceRef

    monkeypatch.chdir(tmp_path)
    ref = SourceRef("metadata/zoo.yml", 34)
    assert source_href(ref, "https://h/o/r/blob/c/{path}?plain=1#L{line}", None) == "https://h/o/r/blob/c/metadata/zoo.yml?plain=1#L34"
    assert source_href(ref, "https://h/o/r/blob/c/", None) == "https://h/o/r/blob/c/metadata/zoo.yml#L34"
    assert source_href(ref, None, tmp_path / "reports" / "html") == "../../metadata/zoo.yml#L34"


def test_run_view_counts_and_gate(run: RunRecord) -> None:
    view = run_view(run)
    assert view.counts == {"drift": 1, "error": 0, "unverified": 3, "waived": 1, "pass": 31}
    assert (view.gate.code, view.gate.label) == (1, "drift")
    assert view.gating_metrics == ["top1", "top5"]
    assert [m.worst for m in view.models] == ["pass", "drift", "waived", "unverified"]


# --------------------------------------------------------------------------- Markdown


def test_markdown_summary_leads_with_the_gate_and_lists_what_needs_attention(run: RunRecord) -> None:
    text = render_markdown([run])
    lines = text.splitlines()
    assert lines[0] == "## zoo reproducibility report"
    assert "**Gate: ❌ drift** (exit code 1)" in text
    assert "4 models · 36 claims: 1 drift · 0 error · 3 unverified · 1 waived · 31 pass" in text
    attention = text.split("### Needs attention")[1].split("###")[0]
    rows = [line for line in attention.splitlines() if line.startswith("| mobilenetv2")]
    assert len(rows) == 1 and "75.05%" in rows[0] and "73.90 %" in rows[0] and "`metadata/zoo.yml:34`" in rows[0]
    unverified = text.split("### Unverified")[1].split("###")[0]
    assert unverified.count("| mobilenetv2_140 |") == 2 and "inconclusive" in unverified
    details = text.split("<details>")[1]
    assert details.count("\n| mobilenetv2") == 36
    widths = {line.count(" | ") for line in details.splitlines() if line.startswith("| mobilenetv2")}
    assert widths == {8}  # every row has the header's 9 cells: no stray pipe broke one
    assert len(text.encode()) < 64 * 1024


def test_markdown_escapes_pipes_and_links_with_a_template(run: RunRecord, tmp_path: Path) -> None:
    outcomes = report_outcomes()
    outcomes["mobilenetv2_140"] = Outcome(accuracy_reason="data | broken\nsecond line")
    text = render_markdown(make_run(tmp_path, outcomes), link_template="https://h/blob/c/{path}#L{line}")
    row = next(line for line in text.splitlines() if "data \\| broken second line" in line)
    assert row.count(" | ") == 4
    assert "[metadata/zoo.yml:66](<https://h/blob/c/metadata/zoo.yml#L66>)" in text


# --------------------------------------------------------------------------- CSV


def test_csv_has_a_row_per_claim_and_per_unclaimed_measurement(run: RunRecord, tmp_path: Path) -> None:
    path = write_csv(run, tmp_path / "out" / "claims.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == 36 + 4  # every verdict, plus each model's unclaimed throughput
    drift = next(r for r in rows if r["verdict"] == "drift")
    assert (drift["model"], drift["metric"], drift["field"]) == ("mobilenetv2_110d", "top1", "Top 1 Accuracy")
    assert float(drift["claimed"]) == 75.05 and float(drift["measured"]) == pytest.approx(73.9)
    assert float(drift["difference"]) == pytest.approx(-1.15) and drift["gating"] == "True"
    assert float(drift["interval_low"]) == pytest.approx(73.51) and drift["interval_kind"] == "wilson-95"
    assert json.loads(drift["conditions"])["images"] == 50000
    assert drift["source"] == "metadata/zoo.yml:34"
    throughput = [r for r in rows if r["metric"] == "throughput"]
    assert [r["verdict"] for r in throughput] == [""] * 4 and throughput[0]["measured"] == "912.4"
    unavailable = next(r for r in rows if r["model"] == "mobilenetv2_140" and r["metric"] == "top1")
    assert unavailable["measurement_status"] == "unavailable" and "ZOO_IMAGENET" in unavailable["reason"]
    waived = next(r for r in rows if r["verdict"] == "waived")
    assert waived["waiver_expires"] == "2099-12-31"


# --------------------------------------------------------------------------- model-index JSON


def test_model_index_json_uses_the_cards_field_names_and_reads_back(run: RunRecord, tmp_path: Path) -> None:
    data = model_index(run)
    first = data["Models"][0]
    assert first["Name"] == "mobilenetv2_100" and first["In Collection"] == "MobileNet V2"
    assert first["Metadata"]["Parameters"] == PARAMETERS["mobilenetv2_100"]
    assert first["Metadata"]["File Size"] == CLAIMS["mobilenetv2_100"][2]
    assert first["Results"] == [{"Task": "Image Classification", "Dataset": "ImageNet",
                                 "Metrics": {"Top 1 Accuracy": "72.97%", "Top 5 Accuracy": "91.01%"}}]
    assert "Results" not in data["Models"][3]  # mobilenetv2_140: accuracy could not be measured
    assert "Weights" not in json.dumps(data)

    # A zoo can publish it back: zoo's own index reader takes it as a model index.
    target = write_model_index_json(run, tmp_path / "published" / "measured.json")
    (target.parent / "model-index.yml").write_text("Collections:\n- Name: MobileNet V2\nImport:\n- measured.json\n", encoding="utf-8")
    cards = {card.name: card for card in load_index([target.parent]).models}
    for result in run.models:
        card = cards[result.card.name]
        for measurement in result.measurements:
            if measurement.status == "ok" and measurement.metric in ("parameters", "flops", "file_size", "image_size", "crop_pct"):
                assert card.number(measurement.metric) == pytest.approx(float(measurement.value))  # type: ignore[arg-type]
            if measurement.status == "ok" and measurement.metric in ("top1", "top5"):
                assert card.number(measurement.metric) == pytest.approx(float(measurement.value), abs=0.005)  # type: ignore[arg-type]
        assert card.claim("interpolation").value == "bicubic"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- plots


def test_plots_cover_the_measured_quantities(run: RunRecord) -> None:
    keys = [p.key for p in plotting.claim_plots(run)]
    assert keys == ["claims-parameters", "claims-flops", "claims-file_size", "claims-top1", "claims-top5"]
    no_throughput = dataclasses.replace(run, models=[
        dataclasses.replace(m, measurements=[x for x in m.measurements if x.metric != "throughput"]) for m in run.models
    ])
    assert plotting.accuracy_throughput_plot(no_throughput) is None
    plot = plotting.accuracy_throughput_plot(run)
    assert plot is not None and plot.png.startswith(b"\x89PNG") and "mobilenetv2_140" in plot.alt


def test_a_claim_judged_by_another_convention_shows_that_figure(run: RunRecord) -> None:
    from zoo.judge.compare import judge
    from zoo.judge.policy import Policy
    from zoo.records import Alternative, Measurement

    card = run.models[0].card  # claims 401,920,448 FLOPs
    flops = Measurement("flops", "ok", 803_000_000, "FLOPs", "1 multiply-add = 2 FLOPs",
                        alternatives=[Alternative("2x macs @224px", 803_000_000), Alternative("macs @224px", 401_500_000)])
    policy = Policy(tolerances={"flops": Tolerance("flops", relative=0.02)})
    verdict = next(v for v in judge(card, [flops], policy, convention=Convention("macs @image")) if v.metric == "flops")
    result = dataclasses.replace(run.models[0], measurements=[flops], verdicts=[verdict])
    row = run_view(dataclasses.replace(run, models=[result])).rows[0]
    assert verdict.status == "pass"
    assert row.measured == "401,500,000" and row.difference == "−420,448"
    assert row.measured_note == "macs @image; primary reading 803,000,000" and row.convention == "macs @image"
    assert verdict.convention == "macs @image" and verdict.compared_value == 401_500_000
    same = dataclasses.replace(flops, value=401_500_000)
    plain = judge(card, [same], policy, convention=Convention("macs @image"))
    view = run_view(dataclasses.replace(run, models=[dataclasses.replace(result, measurements=[same], verdicts=plain)]))
    # the judged figure is the primary one: the note names the convention, with no second figure
    assert next(r for r in view.rows if r.metric == "flops").measured_note == "macs @image"


def test_csv_and_model_index_json_carry_the_value_the_verdict_judged(run: RunRecord, tmp_path: Path) -> None:
    """A FLOPs claim matched by doubled MACs: the exports publish that figure, the primary beside it."""
    from zoo.judge.compare import judge
    from zoo.judge.policy import Policy
    from zoo.records import Alternative, Measurement
    from zoo.views.export import csv_rows

    card = run.models[0].card  # claims 401,920,448 FLOPs
    flops = Measurement("flops", "ok", 200_000_000, "MACs", "fvcore", alternatives=[
        Alternative("fvcore @224px", 200_000_000), Alternative("2x fvcore @224px", 400_000_000)])
    verdicts = judge(card, [flops], Policy(tolerances={"flops": Tolerance("flops", relative=0.02)}), convention=Convention("2x fvcore @image"))
    result = dataclasses.replace(run.models[0], measurements=[flops], verdicts=verdicts)
    judged = dataclasses.replace(run, models=[result])
    [row] = [r for r in csv_rows(judged) if r["metric"] == "flops"]
    assert row["verdict"] == "pass" and row["measured"] == 400_000_000 and row["measured_primary"] == 200_000_000
    assert row["convention"] == "2x fvcore @image"
    assert model_index(judged)["Models"][0]["Metadata"]["FLOPs"] == 400_000_000
