"""One verdict: a run made with --index X gets the same verdicts, counts and figures from verify,
gate and every report format, and gate/report judge against X, not metadata/ (real timm models,
built on the meta device)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from index_worlds import write
from zoo.cli.main import cli
from zoo.runs.store import list_runs

# Claims chosen to give every kind of verdict: mobilenetv2_100's FLOPs hold under the zoo's
# convention only if the judged figure is the convention's (not the primary count); its
# Parameters hold at the precision written; resnet18's Parameters drift, its Crop Pct drifts.
INDEX_X = """\
Collections:
- Name: Mixed
Models:
- Name: mobilenetv2_100
  In Collection: Mixed
  Metadata:
    FLOPs: {mnv2_flops}
    Parameters: 3500000
    Image Size: '224'
    Crop Pct: '0.875'
    Interpolation: bicubic
  Results:
  - Task: Image Classification
    Dataset: ImageNet
    Metrics:
      Top 1 Accuracy: 72.95%
- Name: resnet18
  In Collection: Mixed
  Metadata:
    FLOPs: {r18_flops}
    Parameters: 11000000
    Image Size: '224'
    Crop Pct: '0.95'
    Interpolation: bilinear
"""
# metadata/ in the working folder holds another card for one of the models: a command that judged
# against it instead of X would see a File Size claim and other figures.
METADATA = """\
Models:
- Name: mobilenetv2_100
  Metadata:
    FLOPs: 1
    Parameters: 1
    File Size: 14202571
"""


def _invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1, 3), (args, result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("one_verdict")
    # FLOPs claims 1.25x the reference count: with a declared ratio convention they pass, and
    # the judged figure (1.25 x count) differs from the primary count in every view.
    write(root / "metadata" / "model-index.yml", METADATA)
    return root


def test_verify_gate_and_every_report_agree_on_verdicts_counts_and_figures(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.judge.conventions import reference_key

    monkeypatch.chdir(world)
    reference = reference_key().split(" @")[0]
    write(world / "metadata" / "tolerances.yml", f"flops_conventions:\n  '*': 1.25x {reference} @image\n")
    # first learn the reference counts, then write claims that hold at 1.25x them
    probe = write(world / "probe" / "p.yml", INDEX_X.format(mnv2_flops=1, r18_flops=1))
    rows = json.loads(_invoke("verify", "--all", "--index", str(probe), "--only", "flops", "--no-record", "--format", "json").stdout)["results"]
    primary = {row["model"]: row["flops_primary"] for row in rows}
    index = write(world / "x" / "cards.yml", INDEX_X.format(mnv2_flops=round(1.25 * primary["mobilenetv2_100"]), r18_flops=round(1.25 * primary["resnet18"])))

    tolerances: list[str] = []  # metadata/tolerances.yml, the default of every command
    verified = _invoke("verify", "--all", "--index", str(index), "--only", "config,params,flops", "--results", "runs", "--format", "json", *tolerances)
    [run_path] = list_runs(world / "runs")
    verify_rows = {row["model"]: row for row in json.loads(verified.stdout)["results"]}

    gate = _invoke("gate", str(run_path), *tolerances)
    report_json = _invoke("report", str(run_path), "--format", "json", *tolerances)
    report_rows = {row["model"]: row for row in json.loads(report_json.stdout)["results"]}
    markdown = _invoke("report", str(run_path), "--markdown", "-", *tolerances).stdout
    claims_csv = list(csv.DictReader(io.StringIO(_invoke("report", str(run_path), "--csv", "-", *tolerances).stdout)))
    model_index = json.loads(_invoke("report", str(run_path), "--json", "-", *tolerances).stdout)
    _invoke("report", str(run_path), "--html", "html", *tolerances)
    html = (world / "html" / "index.html").read_text(encoding="utf-8")

    # verdicts: the same per claim in verify, gate (re-judged) and the report's exports
    verdict_columns = [c for c in next(iter(verify_rows.values())) if c.endswith("_verdict")]
    for model, row in verify_rows.items():
        assert {c: row[c] for c in verdict_columns} == {c: report_rows[model][c] for c in verdict_columns}, model
    by_claim = {(r["model"], r["metric"]): r["verdict"] for r in claims_csv if r["verdict"]}
    for (model, metric), status in by_claim.items():
        expected = verify_rows[model][f"{metric}_verdict"]
        assert status == expected or (expected == "not asked for" and status == "unverified"), (model, metric)
    assert ("mobilenetv2_100", "file_size") not in by_claim  # the claim of metadata/'s card, not X's
    assert verify_rows["mobilenetv2_100"]["flops_verdict"] == "pass" and verify_rows["resnet18"]["parameters_verdict"] == "drift"

    # counts: the same numbers on the terminal line, in the gate's header and in the Markdown
    counted = re.search(r"(\d+) model\(s\), (\d+) claim\(s\)", verified.stderr + verified.stdout) or re.search(
        r"(\d+) models, (\d+) claims", gate.stdout)
    gate_head = re.search(r"\((\d+) models, (\d+) claims\)", gate.stdout)
    markdown_head = re.search(r"(\d+) models · (\d+) claims: ([^.]*)\.", markdown)
    assert gate_head and markdown_head and counted
    assert gate_head.groups() == markdown_head.groups()[:2]
    gate_counts = re.search(r"\n  (\d+ drift · \d+ error · \d+ unverified · \d+ waived · \d+ pass)", gate.stdout)
    assert gate_counts and gate_counts.group(1) == markdown_head.group(3)

    # figures: the judged FLOPs (1.25x the primary count) everywhere, the primary beside it
    for model in ("mobilenetv2_100", "resnet18"):
        judged = verify_rows[model]["flops"]
        assert judged == round(1.25 * primary[model]) or abs(judged - 1.25 * primary[model]) <= 1
        assert report_rows[model]["flops"] == judged and report_rows[model]["flops_primary"] == primary[model]
        [csv_row] = [r for r in claims_csv if r["model"] == model and r["metric"] == "flops"]
        assert float(csv_row["measured"]) == pytest.approx(judged, abs=1) and float(csv_row["measured_primary"]) == primary[model]
        [entry] = [m for m in model_index["Models"] if m["Name"] == model]
        assert entry["Metadata"]["FLOPs"] == pytest.approx(judged, abs=1)
        assert f"{judged:,}"[:7] in html  # the judged figure, formatted with thousands separators
