"""What zoo hands on (issue #20, items 7 and 8): every CSV zoo writes passes one cell rule (a cell
that starts with = + - @, tab or carriage return is prefixed, OWASP's CSV-injection rule), and
every line zoo prints to a terminal passes one inert-text rule (escape sequences from a card, a
record or a server are shown, never sent): CSI that clears the screen, OSC that sets the title."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures.runs.world import CLAIMS, Outcome, enter_world, make_run

from zoo.cli import baseline_cmd, diff_cmd, fetch_cmd, gate_cmd, list_cmd, report_cmd, show_cmd, verify_cmd
from zoo.records import ModelResult, RunRecord
from zoo.runs.baselines import Baseline, BaselineInfo, save_baseline
from zoo.runs.predictions import ImagePredictions
from zoo.runs.store import save_run

FORMULAS = ['=HYPERLINK("http://x","y")', "+SUM(1)", "@SUM(1)", "-2+3", "\tTAB", "\rCR"]
CSI = "\x1b[2J\x1b[H"  # clears the screen
OSC = "\x1b]0;pwned\x07"  # sets the terminal's title
C1 = "\x9b2J"  # the one-byte CSI
ESCAPES = (CSI, OSC, C1)


def dangerous_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run as a formula: starting with = + - @ TAB CR and not a plain number."""
    found = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                try:
                    float(cell)
                except ValueError:
                    found.append(cell)
    return found


def raw_escapes(text: str) -> list[str]:
    return [c for c in ("\x1b", "\x07", "\x9b") if c in text]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_world(tmp_path, monkeypatch)


def renamed(run: RunRecord, names: dict[str, str]) -> RunRecord:
    models = []
    for result in run.models:
        new = names.get(result.card.name, result.card.name)
        card = dataclasses.replace(result.card, name=new)
        verdicts = [dataclasses.replace(v, model=new) for v in result.verdicts]
        models.append(ModelResult(card=card, measurements=result.measurements, verdicts=verdicts))
    return dataclasses.replace(run, models=models)


def hostile_run(world: Path, names: list[str]) -> Path:
    outcomes = {name: Outcome(top1_delta=2.0) for name in CLAIMS}  # drift: every model is listed by the gate
    run = make_run(world, outcomes)
    return save_run(renamed(run, dict(zip(CLAIMS, names))), world / "runs").parent


def invoke(command, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command.command, list(args), env={"ZOO_PROGRESS": "0"})


# --------------------------------------------------------------------------- CSV


def test_report_csv_and_report_format_csv_prefix_formulas(world):
    folder = hostile_run(world, FORMULAS[:4])
    assert invoke(report_cmd, str(folder), "--stored-claims", "--csv", "claims.csv").exit_code == 0
    written = (world / "claims.csv").read_text(encoding="utf-8")
    printed = invoke(report_cmd, str(folder), "--stored-claims", "--format", "csv").output
    for text in (written, printed):
        assert dangerous_cells(text) == [], dangerous_cells(text)
        cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
        assert {"'=HYPERLINK(\"http://x\",\"y\")", "'+SUM(1)", "'@SUM(1)", "'-2+3"} <= cells
    rows = list(csv.DictReader(io.StringIO(written)))
    assert any(row["difference"].startswith("-") for row in rows) or all(row["difference"] for row in rows)  # numbers stay numbers


def test_verify_format_csv_prefixes_a_formula_in_a_card_name(world):
    index = world / "cards.yml"
    index.write_text("Models:\n" + "".join(f"- Name: '{n}'\n  Metadata:\n    Parameters: 10\n" for n in FORMULAS[:3]),
                     encoding="utf-8")
    result = invoke(verify_cmd, "--all", "--index", str(index), "--only", "params", "--format", "csv",
                    "--results", str(world / "runs"))
    assert result.exit_code in (2, 3), result.output
    csv_part = result.stdout
    assert "model," in csv_part and dangerous_cells(csv_part) == [], csv_part


def test_diff_csv_prefixes_image_names_from_a_baseline(world):
    names = ("=cmd|' /C calc'!A0", "+1+1", "@x", "ok.png")
    labels = np.array([1, 2, 3, 4])
    predictions = ImagePredictions("m", names, labels, np.tile(labels[:, None], (1, 5)))
    info = BaselineInfo(model="m", run_id="r", created="c", checkpoint_sha256="a" * 64, transform="t", dataset_fingerprint="f",
                        dataset="d", dataset_images=4, population=4, images=4, top1=100.0, top5=100.0)
    a = save_baseline(world / "a", Baseline(info, predictions, Path("m.parquet")))
    changed = ImagePredictions("m", names, labels, np.tile((labels + 1)[:, None], (1, 5)))
    b = save_baseline(world / "b", Baseline(dataclasses.replace(info, top1=0.0, top5=0.0), changed, Path("m.parquet")))
    result = invoke(diff_cmd, str(a), str(b), "--csv", "changed.csv")
    assert result.exit_code == 0, result.output
    written = (world / "changed.csv").read_text(encoding="utf-8")
    assert dangerous_cells(written) == [] and "'=cmd|' /C calc'!A0" in {c for r in csv.reader(io.StringIO(written)) for c in r}


# --------------------------------------------------------------------------- terminal


def test_verify_list_show_and_report_print_escapes_from_a_card_inert(world):
    index = world / "cards.yml"
    index.write_text("Models:\n" + "".join(
        f'- Name: "net{i}{e.encode("unicode_escape").decode()}"\n'
        f"  Metadata:\n    Parameters: 10\n" for i, e in enumerate(ESCAPES)), encoding="utf-8")
    listed = invoke(list_cmd, "--index", str(index))
    verified = invoke(verify_cmd, "--all", "--index", str(index), "--only", "params", "--results", str(world / "runs"))
    shown = invoke(show_cmd, "net0" + CSI, "--index", str(index))
    for result in (listed, verified, shown):
        assert "internal error" not in result.output, result.output
        assert raw_escapes(result.output) == [], repr(result.output)
        assert "net0" in result.output
    assert "␛[2J" in listed.output and "␛]0;pwned" in listed.output  # rich drops the BEL itself


def test_gate_and_report_print_escapes_from_a_record_inert(world):
    folder = hostile_run(world, ["net" + e for e in ESCAPES])
    gate = invoke(gate_cmd, str(folder), "--stored-claims")
    table = invoke(report_cmd, str(folder), "--stored-claims", "--format", "table")
    for result in (gate, table):
        assert "internal error" not in result.output, result.output
        assert raw_escapes(result.output) == [], repr(result.output)
        assert "␛]0;pwned" in result.output


def test_fetch_prints_escapes_from_a_card_name_and_weights_url_inert(world):
    from weights_world import FaultyServer

    index = world / "cards.yml"
    with FaultyServer() as server:  # it knows no such path: 404, named with the URL in the error
        url = server.base_url + "/w/tiny.pth?x=\\x1b]0;pwned\\x07"
        index.write_text(f'Models:\n- Name: "tiny\\x1b]0;name\\x07"\n  Weights: "{url}"\n', encoding="utf-8")
        result = invoke(fetch_cmd, "--all", "--index", str(index), "--cache-dir", str(world / "cache"), "--lock-file",
                        str(world / "weights.lock"))
    assert result.exit_code == 3, result.output
    assert raw_escapes(result.output) == [], repr(result.output)
    assert "␛]0;pwned␇" in result.output and "␛]0;name␇" in result.output


def test_baseline_show_and_diff_print_escapes_from_a_baseline_inert(world):
    names = ("a" + CSI, "b" + OSC, "c.png")
    labels = np.array([1, 2, 3])
    info = BaselineInfo(model="m", run_id="r" + OSC, created="c", checkpoint_sha256="a" * 64, transform="t" + CSI,
                        dataset_fingerprint="f", dataset="d" + C1, dataset_images=3, population=3, images=3, top1=100.0,
                        top5=100.0, environment={"cpu": OSC})
    a = save_baseline(world / "a", Baseline(info, ImagePredictions("m", names, labels, np.tile(labels[:, None], (1, 5))),
                                            Path("m.parquet")))
    changed = ImagePredictions("m", names, labels, np.tile((labels + 1)[:, None], (1, 5)))
    b = save_baseline(world / "b", Baseline(dataclasses.replace(info, top1=0.0, top5=0.0), changed, Path("m.parquet")))
    for result in (invoke(baseline_cmd, "show", "--dir", str(world / "a")), invoke(diff_cmd, str(a), str(b))):
        assert result.exit_code == 0, result.output
        assert raw_escapes(result.output) == [], repr(result.output)
        assert "␛" in result.output


def test_rich_markup_in_a_card_name_is_printed_not_made_a_hyperlink(world):
    """An attack class beyond the issue's list: on a terminal, rich reads "[link=URL]" in a string as a
    style and sends OSC 8 (a clickable link to anywhere); zoo's consoles read no markup."""
    index = world / "cards.yml"
    index.write_text("Models:\n- Name: '[link=http://evil.example]click[/link]'\n  Metadata:\n    Parameters: 10\n",
                     encoding="utf-8")
    result = CliRunner().invoke(list_cmd.command, ["--index", str(index)],
                                env={"FORCE_COLOR": "1", "COLUMNS": "200", "NO_COLOR": None})
    assert result.exit_code == 0, result.output
    assert "\x1b]" not in result.output and "[link=http://evil.example]click[/link]" in result.output, repr(result.output)


def test_zoo_fix_prints_escapes_from_a_card_inert_and_pipes_its_diff_as_it_is(tmp_path, monkeypatch):
    """``zoo fix`` (beyond the issue's list, which predates it): its summary and pull-request text pass
    the inert-text rule; its diff is data for ``git apply`` when piped (bytes as they are) and passes
    the rule on a terminal (a right-to-left override in a card's comment reorders what a reviewer reads)."""
    import os
    import pty
    import subprocess
    import sys

    from fix_world import CARD, TODAY, accuracy, config, flops, make_run, params, write_world

    for name in ("ZOO_INDEX", "ZOO_RESULTS", "ZOO_CONVENTIONS", "ZOO_LOCK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    card_text = CARD.replace("- Name: test_efficientnet\n", '- Name: "test_efficientnet\\e]0;pwned\\a"\n')
    card_text = card_text.replace("Parameters: 3500000\n", "Parameters: 3500000  # \u202eevil\n", 1)
    write_world(tmp_path, card_text)
    model = "test_efficientnet\x1b]0;pwned\x07"
    run = make_run(tmp_path, {model: [*config(224, 0.875, "bilinear"), params(3_600_000), flops(321_536_358),
                                      accuracy("top1", 70.0, images=2000, limit=2000, half_width=0.5)]},
                   kinds=("config", "params", "flops", "accuracy"))
    from zoo.cli.main import cli

    described = CliRunner().invoke(cli, ["fix", "--today", TODAY.isoformat(), str(run), "--markdown", "-"])
    assert described.exit_code == 3, described.output  # the subset top-1 is left alone, the parameters proposed
    for text in (described.stdout, described.stderr):
        assert raw_escapes(text) == [] and "\u202e" not in text, repr(text)
    assert "␛]0;pwned␇" in described.stderr and "␛]0;pwned␇" in described.stdout

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "ZOO_PROGRESS": "0"}
    command = [sys.executable, "-m", "zoo", "fix", "--today", TODAY.isoformat(), str(run)]
    piped = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert b"+    Parameters: 3600000  # \xe2\x80\xaeevil" in piped.stdout, piped.stdout  # data: as the card has it
    main, secondary = pty.openpty()
    try:
        on_terminal = subprocess.run(command, env=env, stdout=secondary, stderr=subprocess.PIPE, timeout=120)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
    assert on_terminal.returncode == 3, on_terminal.stderr
    assert "Parameters: 3600000" in shown.decode() and "\u202e" not in shown.decode(), shown
