"""Reports of paired runs: changed images per model, escaped, and a Markdown summary that stays
within a CI job summary's size however many images changed."""

from __future__ import annotations

from zoo.records import (
    ChangedPrediction, Claim, Environment, Measurement, ModelCard, ModelResult, PairedEstimate, RunRecord, SourceRef, Verdict,
)
from zoo.views.html import render_html
from zoo.views.markdown import MAX_CHANGED_ROWS, render_markdown

SRC = SourceRef("cards.yml", 1)
ENV = Environment(python="3.11", platform="linux", hostname="h", cpu="cpu", cpu_threads=2, torch="2")


def _result(name: str, changed: int, used: bool = True) -> ModelResult:
    images = [ChangedPrediction(f"<img{i}>.JPEG", i % 1000, i % 1000, (i + 1) % 1000) for i in range(changed)]
    paired = PairedEstimate(
        baseline=f"{name}.parquet", used=used, reason=None if used else "checkpoint differs",
        images=2000, gained=0, lost=changed, changed_count=changed, changed=images,
        value=70.0, low=69.0, high=71.0, level=0.9, baseline_value=72.0, baseline_images=50_000,
    )
    measurement = Measurement(metric="top1", status="ok", value=71.5, unit="%", paired=paired)
    claim = Claim("top1", "Top 1 Accuracy", 72.0, "72.00%", SRC, "%", 0.01)
    card = ModelCard(name=name, source=SRC, claims={"top1": claim})
    verdict = Verdict(model=name, metric="top1", status="drift", explanation="x", claim=claim, measurement=measurement)
    return ModelResult(card=card, measurements=[measurement], verdicts=[verdict])


def _run(models: list[ModelResult]) -> RunRecord:
    return RunRecord(run_id="r", started="s", finished="f", environment=ENV, index=[], measurements_requested=["accuracy"],
                     models=models)


def test_changed_images_are_listed_per_model_and_escaped():
    run = _run([_result("a", 3), _result("b", 0, used=False)])
    markdown = render_markdown(run)
    assert "### Changed images against the baseline" in markdown
    assert "paired with `a.parquet` on 2,000 images; 3 changed top-1 (0 gained, 3 lost)" in markdown
    assert "baseline `b.parquet` not used: checkpoint differs" in markdown
    html = render_html([run], plots=[])
    assert "&lt;img2&gt;.JPEG" in html and "<img2>.JPEG" not in html
    assert "70.00" in markdown  # the claim row shows the paired estimate, not the subset's 71.5


def test_the_markdown_summary_lists_a_bounded_number_of_changed_images():
    run = _run([_result(f"m{i}", 500) for i in range(20)])
    markdown = render_markdown(run)
    assert markdown.count(".JPEG") == MAX_CHANGED_ROWS
    assert "500 more are in the HTML report and the run record" in markdown
    assert len(markdown.encode()) < 1024 * 1024
