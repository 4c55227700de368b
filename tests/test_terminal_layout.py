"""The terminal view of a populated run at 60, 80, 120 and 200 columns and piped.

Whatever the width, each claim's verdict, Δ and ``file:line`` stand whole on one line;
long values (SHA-256, paths) are shortened; long reasons become notes said once.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from terminal_world import populated_run
from zoo.records import RunRecord
from zoo.views.rows import ClaimRow, run_view, short_source
from zoo.views.terminal import make_console, print_view

WIDTHS = [60, 80, 120, 200]


@pytest.fixture()
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunRecord:
    monkeypatch.chdir(tmp_path)  # sources show relative to the working directory
    return populated_run(tmp_path)


def render(run: RunRecord, width: int | None, detail: str = "claims") -> str:
    """What a terminal of ``width`` columns (None: a pipe) shows."""
    out = io.StringIO()
    if width is None:
        console = Console(file=out, force_terminal=False, width=80, color_system=None)
    else:
        console = Console(file=out, force_terminal=True, width=width, color_system=None)
    print_view(run_view(run), console, detail)  # type: ignore[arg-type]
    return out.getvalue()


def claim_line(text: str, row: ClaimRow) -> str:
    """The one output line that carries ``row``'s source ``file:line`` (exactly one)."""
    source = re.escape(short_source(row.source))
    found = [line for line in text.splitlines() if re.search(rf"(?<![\w/.]){source}(?!\d)", line) and row.status in line]
    assert len(found) == 1, f"{row.model} {row.metric}: {found}"
    return found[0]


def expected_difference(row: ClaimRow) -> str:
    return (row.relative if row.relative and not row.uncertainty else row.difference) or "—"


@pytest.mark.parametrize("width", WIDTHS + [None], ids=[f"{w}cols" for w in WIDTHS] + ["piped"])
def test_every_claim_keeps_verdict_difference_and_source_on_its_line(run: RunRecord, width: int | None) -> None:
    text = render(run, width)
    rows = [row for row in run_view(run).rows if row.requested]
    assert len(rows) == 40
    for row in rows:
        line = claim_line(text, row)
        assert re.search(rf"(?<!\w){row.status}(?!\w)", line), line
        assert expected_difference(row) in line, (row.metric, line)
    if width is not None and width <= 120:
        assert "┌" not in text  # too narrow for the table: one head line per claim
    if width == 200:
        assert "┌" in text  # wide enough for the table
    if width is None:
        assert not any(ch in text for ch in "┌│─") and "\r" not in text and "\x1b" not in text


@pytest.mark.parametrize("width", WIDTHS + [None])
def test_hashes_and_paths_are_shortened_and_notes_said_once(run: RunRecord, width: int | None, tmp_path: Path) -> None:
    text = render(run, width)
    weights = [m for result in run.models for m in result.measurements if m.metric == "weights"]
    for m in weights:
        assert isinstance(m.value, str) and len(m.value) == 64
        assert m.value not in text and f"{m.value[:8]}…" in text
    assert str(tmp_path) not in text
    notes = re.findall(r"^\[(\d+)\] (.*)$", text, flags=re.M)
    bodies = [body for _, body in notes]
    assert len(bodies) == len(set(bodies))  # each note said once however many rows refer to it
    for number, _ in notes:
        assert re.search(rf"\S \[{number}\]$", text, flags=re.M)  # and something refers to it


def test_the_summary_lists_models_then_only_claims_needing_attention(run: RunRecord) -> None:
    view = run_view(run)
    for width in WIDTHS + [None]:
        text = render(run, width, "auto")
        for model in view.models:
            assert re.search(rf"^\s*{model.name}\s+[\d,]+\s", text, flags=re.M), text
        attention = [row for row in view.rows if row.status in ("drift", "error", "unverified") and row.requested]
        assert len(attention) == 7
        for row in attention:
            assert expected_difference(row) in claim_line(text, row)
        passed = [row for row in view.rows if row.status == "pass"]
        for row in passed:
            source = re.escape(short_source(row.source))
            assert not re.search(rf"(?<![\w/.]){source}(?!\d)", text)
    quiet = render(run, 80, "quiet")
    assert len(quiet.strip().splitlines()) <= 2 and "-> exit 1" in quiet


def test_the_summary_row_shows_the_value_the_verdict_judged(run: RunRecord) -> None:
    text = render(run, None, "auto")
    # mobilenetv2_100: 3,504,872 params, 400,312,766 FLOPs (fvcore-macs), 14,202,571 B, 72.97, 91.01, 912.4 img/s
    line = next(line for line in text.splitlines() if line.startswith("mobilenetv2_100 "))
    assert line.split() == ["mobilenetv2_100", "3,504,872", "0.4", "14.2", "MB", "72.97", "91.01", "912.4", "11", "pass"]
    assert "throughput timed at batch 32, 2 threads, float32, cpu" in text  # the conditions, said once


def test_claims_not_asked_for_are_counted_not_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--only params,flops``: the other ten claims of each model are one count, not 40 rows."""
    import dataclasses

    from fixtures.runs.world import TODAY
    from zoo.judge.compare import judge
    from zoo.judge.policy import load_policy

    monkeypatch.chdir(tmp_path)
    run = populated_run(tmp_path)
    policy = load_policy(tmp_path / "metadata" / "tolerances.yml")
    models = []
    for result in run.models:
        kept = [m for m in result.measurements if m.metric in ("parameters", "flops")]
        models.append(dataclasses.replace(result, measurements=kept, verdicts=judge(result.card, kept, policy, TODAY)))
    only = dataclasses.replace(run, measurements_requested=["params", "flops"], models=models)
    for width in (80, None):
        text = render(only, width)
        assert "unverified" not in text and "not asked for in this run" not in text
        assert text.count("Parameters") == 4 and text.count("FLOPs") == 4
    assert "(32 not asked for: " in render(only, None)


def test_no_color_drops_every_style_and_force_color_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = io.StringIO()
    console = make_console()
    console.file = out
    console.print(Text("bold", style="bold"), Text("it", style="italic"), Text("red", style="red"))
    assert "\x1b[" not in out.getvalue()
    monkeypatch.delenv("NO_COLOR")
    out = io.StringIO()
    console = make_console()
    console.file = out
    console.print(Text("bold", style="bold"))
    assert "\x1b[1m" in out.getvalue()
    out = io.StringIO()
    console = make_console(color=False)
    console.file = out
    console.print(Text("bold", style="bold"))
    assert "\x1b[" not in out.getvalue()


def test_a_wide_terminal_keeps_claimed_and_measured_values_whole(run: RunRecord) -> None:
    # On 200 columns the weights file name was folded mid-hash ("…/mobilenetv2_100_ra-b" / "33bc2c4.pth").
    import dataclasses

    from zoo.judge.compare import judge
    from zoo.judge.policy import Policy

    first = run.models[0]
    claim = first.card.claims["weights"]
    url = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-weights/mobilenetv2_100_ra-b33bc2c4.pth"
    card = dataclasses.replace(first.card, claims={**first.card.claims, "weights": dataclasses.replace(claim, value=url, raw=url)})
    first = dataclasses.replace(first, card=card, verdicts=judge(card, first.measurements, Policy()))
    run = dataclasses.replace(run, models=[first, *run.models[1:]])
    text = render(run, 200)
    assert "…/mobilenetv2_100_ra-b33bc2c4.pth" in text
    view = run_view(run)
    for row in view.models[0].rows:
        if row.requested and row.measured:
            measured = row.measured + (f" {row.uncertainty}" if row.uncertainty else "")
            assert measured in text, measured
