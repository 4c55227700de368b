"""The HTML report: parses, shows every model and claim with its verdict and source link,
embeds its images, and fetches nothing from outside."""

from __future__ import annotations

import base64
import dataclasses
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator, Optional

import pytest
from fixtures.runs.world import Outcome, make_run, report_outcomes, report_world

from zoo.measure.flops import REFERENCE
from zoo.records import RunRecord
from zoo.views import plots as plotting
from zoo.views.html import render_html, write_html_report

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Collects what the tests look at, and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, Optional[str]]]] = []
        self.rows: list[dict[str, object]] = []
        self.text: list[str] = []
        self._row: Optional[dict[str, object]] = None
        self._link: Optional[dict[str, str]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "tr" and "data-model" in attributes:
            self._row = {**attributes, "links": [], "text": ""}
            self.rows.append(self._row)
        if tag == "a" and self._row is not None:
            self._link = {"href": attributes.get("href") or "", "class": attributes.get("class") or "", "text": ""}
            self._row["links"].append(self._link)  # type: ignore[union-attr]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1]}>"
        self.stack.pop()
        if tag == "tr":
            self._row = None
        if tag == "a":
            self._link = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row is not None:
            self._row["text"] = str(self._row["text"]) + data
        if self._link is not None:
            self._link["text"] += data

    def of(self, tag: str) -> list[dict[str, Optional[str]]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.stack == [], f"unclosed elements: {page.stack}"
    assert html.lstrip().lower().startswith("<!doctype html>")
    return page


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunRecord, Page, Path]]:
    """One run showing every verdict, rendered once (plots are slow to draw) into reports/."""
    root = tmp_path_factory.mktemp("world")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # sources are shown, and linked, relative to the working folder
        run = report_world(root)
        out = root / "reports"
        index = write_html_report([run], out)
        yield run, parse(index.read_text(encoding="utf-8")), out


@pytest.fixture
def run(world: tuple[RunRecord, Page, Path]) -> RunRecord:
    return world[0]


@pytest.fixture
def page(world: tuple[RunRecord, Page, Path]) -> tuple[Page, Path]:
    return world[1], world[2]


def test_every_model_and_claim_appears_with_its_verdict_and_source_link(run: RunRecord, page: tuple[Page, Path]) -> None:
    parsed, out = page
    articles = [a.get("id") for a in parsed.of("article")]
    assert articles == [f"model-{result.card.name}" for result in run.models]
    for result in run.models:
        for verdict in result.verdicts:
            rows = [r for r in parsed.rows if r["data-model"] == verdict.model and r["data-metric"] == verdict.metric]
            assert rows, f"{verdict.model} {verdict.metric} is missing"
            for row in rows:
                assert row["data-verdict"] == verdict.status
                assert verdict.status in str(row["text"])  # the coloured verdict pill
                assert verdict.claim is not None
                links = [link for link in row["links"] if link["class"] == "src"]  # type: ignore[union-attr]
                assert [link["text"] for link in links] == [str(verdict.claim.source)]
                href = links[0]["href"]
                assert href.endswith(f"#L{verdict.claim.source.line}")
                assert (out / href.split("#")[0]).resolve() == (Path.cwd() / verdict.claim.source.path).resolve()
                assert (out / href.split("#")[0]).is_file()


def test_attention_and_unverified_sections_hold_the_right_claims(page: tuple[Page, Path]) -> None:
    parsed, _ = page
    text = " ".join(parsed.text)
    ids = [a.get("id") for a in parsed.of("section")]
    assert ids[:3] == ["summary", "attention", "unverified"]
    drift_rows = [r for r in parsed.rows if r["data-verdict"] == "drift"]
    assert {(r["data-model"], r["data-metric"]) for r in drift_rows} == {("mobilenetv2_110d", "top1")}
    assert len(drift_rows) == 2  # in "Needs attention" and in the model's own table
    assert "no ImageNet data configured" in text
    assert "inconclusive" in text
    assert "Gate: DRIFT" in text and "exit code 1" in text


def test_images_are_embedded_png(page: tuple[Page, Path]) -> None:
    parsed, out = page
    images = parsed.of("img")
    alts = [i.get("alt") or "" for i in images]
    assert len(images) == 6  # parameters, FLOPs, file size, top-1, top-5, accuracy vs throughput
    assert any("identity line" in alt for alt in alts) and any("throughput" in alt for alt in alts)
    for image in images:
        src = image.get("src") or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in (out / "assets").iterdir()) == sorted(
        ["claims-parameters.png", "claims-flops.png", "claims-file_size.png", "claims-top1.png", "claims-top5.png", "accuracy-throughput.png"]
    )


def test_nothing_is_fetched_from_outside(page: tuple[Page, Path]) -> None:
    parsed, _ = page
    assert parsed.of("script") == [] and parsed.of("link") == [] and parsed.of("iframe") == []
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value and name != "href":
                assert value.startswith("data:"), f"<{tag} {name}={value[:40]}>"
            if value and name == "href":
                assert not value.startswith(("http:", "https:", "//")), f"<{tag} href={value}>"
    styles = " ".join(parsed.text)
    assert "@import" not in styles and "url(http" not in styles


def test_source_links_can_point_online_and_are_the_only_external_links(run: RunRecord) -> None:
    template = "https://github.com/org/zoo/blob/abc123/{path}?plain=1#L{line}"
    parsed = parse(render_html([run], link_template=template, plots=[]))
    external = [(tag, a) for tag, a in parsed.tags if (a.get("href") or a.get("src") or "").startswith(("http", "//"))]
    assert external and all(tag == "a" and "src" in (a.get("class") or "").split() for tag, a in external)
    first = run.models[0].verdicts[0].claim
    assert first is not None
    assert any(a.get("href") == f"https://github.com/org/zoo/blob/abc123/{first.source.path}?plain=1#L{first.source.line}" for _, a in external)


def test_text_from_records_is_escaped(world: tuple[RunRecord, Page, Path]) -> None:
    outcomes = report_outcomes()
    outcomes["mobilenetv2_140"] = Outcome(accuracy_reason="<script>alert('x')</script> & <img src=http://evil>")
    html = render_html([make_run(Path.cwd(), outcomes)], plots=[])
    parsed = parse(html)
    assert parsed.of("script") == []
    assert parsed.of("img") == []
    assert "<script>alert('x')</script> & <img src=http://evil>" in " ".join(parsed.text)


def test_how_each_figure_was_measured_confidence_intervals_and_environment(page: tuple[Page, Path]) -> None:
    parsed, _ = page
    text = " ".join(" ".join(parsed.text).split())
    for expected in (
        "fvcore FlopCountAnalysis", "dataset_fingerprint", "sha256:4f2e1a", "images 50,000", "batch_size 64",
        "Resize(256, bicubic) CenterCrop(224)", "[72.58, 73.36] % (wilson-95)", "Test CPU @ 2.0GHz (2 threads)",
        "timm", "1.0.9", "0123456789abcdef", f"{REFERENCE} @224px", "checkpoint re-saved without optimizer state",
    ):
        assert expected in text, expected
    assert [a.get("id") for a in parsed.of("section")][-2:] == ["accuracy", "environment"]


def test_several_runs_add_history(run: RunRecord) -> None:
    later = dataclasses.replace(
        make_run(Path.cwd(), {**report_outcomes(), "mobilenetv2_110d": Outcome(top1_delta=-0.9)}),
        run_id="20250701T120000Z-later", started="2025-07-01T12:00:00+00:00", finished="2025-07-01T12:20:00+00:00",
    )
    history = plotting.history_plots([later, run])
    assert [p.key for p in history] == [f"history-{m}" for m in ("parameters", "flops", "file_size", "top1", "top5", "throughput")]
    assert plotting.history_plots([run]) == []
    parsed = parse(render_html([later, run], plots=history))
    assert "history" in [a.get("id") for a in parsed.of("section")]
    alts = [i.get("alt") or "" for i in parsed.of("img")]
    assert any(alt.startswith("Top-1 accuracy measured in each run") for alt in alts)
    current = [a for t, a in parsed.tags if t == "tr" and a.get("class") == "current"]
    assert len(current) == 1
    assert "Run 20250701T120000Z-later" in " ".join(" ".join(parsed.text).split())


def test_rewriting_a_report_leaves_no_temporary_or_stale_files(run: RunRecord, tmp_path: Path) -> None:
    out = tmp_path / "again"
    plots = plotting.claim_plots(dataclasses.replace(run, models=run.models[:1]))[:2]
    write_html_report([run], out, plots=plots)
    (out / "assets" / "claims-old.png").write_bytes(b"old")
    write_html_report([run], out, plots=plots[:1])
    names = sorted(p.name for p in out.rglob("*"))
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]
    assert names == sorted(["assets", "index.html", f"{plots[0].key}.png"])
    assert (out / "index.html").stat().st_mode & 0o044  # readable by others, not mkstemp's 0600


def test_a_count_claim_shows_the_tolerance_its_written_precision_gives(page: tuple[Page, Path]) -> None:
    # "Tolerance: exact" beside "+4,872" and "pass" read as a contradiction: 3500000 holds to the 100,000.
    parsed, _ = page
    rows = [r for r in parsed.rows if r["data-metric"] == "parameters" and r["data-model"] == "mobilenetv2_100"]
    assert rows and all("±50,000 (as written, to the 100,000)" in str(r["text"]) for r in rows)
    assert all("exact" not in str(r["text"]) for r in rows)


def test_a_long_reason_shared_by_rows_of_a_table_is_said_once_under_it(run: RunRecord, tmp_path: Path) -> None:
    import dataclasses

    from zoo.judge.compare import judge
    from zoo.judge.policy import Policy
    from zoo.records import Measurement
    from zoo.views.html import render_html

    reason = ("weights unavailable: mobilenetv2_100_ra-b33bc2c4.pth from https://github.com/rwightman/pytorch-image-models/"
              "releases/download/v0.1-weights/mobilenetv2_100_ra-b33bc2c4.pth: cannot resolve the host name github.com "
              "(no network, or a proxy is needed). Nothing was downloaded. Run again with network, or pass --mirror FOLDER")
    first = run.models[0]
    measurements = [m for m in first.measurements if m.metric not in ("weights", "file_size")]
    measurements += [Measurement.unavailable("file_size", reason), Measurement.unavailable("weights", reason)]
    first = dataclasses.replace(first, measurements=measurements, verdicts=judge(first.card, measurements, Policy()))
    html = render_html([dataclasses.replace(run, models=[first, *run.models[1:]])], plots=[])
    article = html.split(f'id="model-{first.card.name}"', 1)[1].split("</article>", 1)[0]
    table = article.split("<details>", 1)[0]  # the claims and their notes; the measurements' own reasons follow
    assert table.count(reason) == 1  # in the notes under the table, not in each row
    assert table.count("weights unavailable [1]") == 2 and '<li value="1">' in table


def test_the_accuracy_plot_says_which_points_are_claims_and_the_load_while_timing(run: RunRecord) -> None:
    import dataclasses

    from zoo.views.plots import accuracy_throughput_plot

    models = []
    for result in run.models:
        measurements = []
        for m in result.measurements:
            if m.metric == "throughput":
                m = dataclasses.replace(m, conditions={**m.conditions, "load_1min_before": 6.8, "load_1min_after": 7.03, "cpus": 2})
            if m.metric == "top1":
                continue  # no accuracy measured: the plot can only show the claims
            measurements.append(m)
        models.append(dataclasses.replace(result, measurements=measurements))
    plot = accuracy_throughput_plot(dataclasses.replace(run, models=models))
    assert plot is not None and plot.title == "Claimed accuracy vs throughput"
    assert "claimed top-1, not measured in this run" in plot.note
    assert "1-minute load average 6.80-7.03 on 2 CPUs" in plot.note
    assert plot.narrow_png and plot.narrow_png != plot.png


def test_the_plots_introduction_speaks_only_of_marks_the_plots_draw(run: RunRecord, monkeypatch: pytest.MonkeyPatch) -> None:
    # The plots are scatter points with whiskers (Axes.errorbar); there is no bar chart to speak of.
    from matplotlib.axes import Axes

    drawn: list[str] = []
    for kind in ("bar", "barh", "errorbar"):
        original = getattr(Axes, kind)
        monkeypatch.setattr(Axes, kind, lambda self, *a, _kind=kind, _original=original, **k: drawn.append(_kind) or _original(self, *a, **k))
    parsed = parse(render_html([run]))
    intro = " ".join(next(t for t in parsed.text if "Measured against claimed" in t).split())
    assert "errorbar" in drawn and "bar" not in drawn and "barh" not in drawn
    assert "whisker is the interval the verdict used" in intro and "bars" not in intro
