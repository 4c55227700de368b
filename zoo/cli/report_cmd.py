"""``zoo report``: the HTML report, Markdown summary, CSV and model-index JSON of run records."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence
from urllib.parse import urlsplit

import click

from zoo.cli.common import conventions_option, echo, explained_errors, index_option, out
from zoo.cli.output_options import FORMATS, print_record
from zoo.cli.runs_args import runs_argument, stored_runs
from zoo.errors import InputError
from zoo.judge.gate import Gate, GateSettings
from zoo.records import RunRecord
from zoo.views.display import display_history
from zoo.views.export import render_csv, render_model_index_json
from zoo.views.markdown import render_markdown
from zoo.atomic import atomic_open
from zoo.runs.cache import open_cache
from zoo.views.history_data import RunDigest, collect_history, every_run

HF_MODEL_INDEX = "hf-model-index"

REPORT_HELP = """\b
Exit codes:
  0  the report was written (whatever the verdicts say; `zoo gate` turns them into an exit code)
  2  bad usage or bad input (no run record, damaged run record, bad option)
  3  the disk filled while writing (the path is named; nothing half-written is left)
"""


@click.command("report", epilog=REPORT_HELP)
@runs_argument
@click.option("--html", "html_dir", type=click.Path(file_okay=False), default=None,
              help="Write a self-contained HTML report to DIR/index.html (plots also as DIR/assets/*.png).")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the Markdown summary to FILE ('-' for stdout; fits $GITHUB_STEP_SUMMARY).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write one CSV row per claim and measurement (every run given) to FILE.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the measured values as model-index JSON (the cards' own field names) to FILE.")
@click.option("--source-url", "link_template", envvar="ZOO_SOURCE_URL", default=None, metavar="TEMPLATE",
              help="Link claims to their source online: a URL with {path} and {line}, e.g. "
              "https://github.com/ORG/REPO/blob/SHA/{path}?plain=1#L{line} (or $ZOO_SOURCE_URL). "
              "Default: links to the files relative to the HTML report.")
@click.option("--format", "fmt", type=click.Choice((*FORMATS, HF_MODEL_INDEX)), default=None,
              help="Print the latest run on stdout as zoo verify does: its table, or one JSON/CSV row per model; "
              f"{HF_MODEL_INDEX}: its measured accuracy as a Hugging Face README's front matter (model-index), which `zoo list` reads.")
@click.option("-v", "--verbose", is_flag=True, help="With --format table: every claim of every model.")
@click.option("--color/--no-color", "color", default=None, help="Force styling on or off (default: on for a terminal).")
@index_option
@click.option("--stored-claims", is_flag=True,
              help="Show the verdicts on the claims stored in the run instead of its index as it is now (as `zoo gate --stored-claims`).")
@click.option("--tolerances", type=click.Path(dir_okay=False), default=None,
              help="Tolerances and waivers file (default: metadata/tolerances.yml), as for `zoo gate`.")
@conventions_option
@explained_errors
def command(
    runs: Sequence[str], results: Optional[str], html_dir: Optional[str], markdown_file: Optional[str],
    csv_file: Optional[str], json_file: Optional[str], link_template: Optional[str],
    fmt: Optional[str] = None, verbose: bool = False, color: Optional[bool] = None,
    index_paths: Sequence[str] = (), stored_claims: bool = False, tolerances: Optional[str] = None,
    conventions: Optional[str] = None,
) -> None:
    """Render run records as HTML, Markdown, CSV and model-index JSON.

    RUN: run.json files or run folders (default: the latest run in the results folder).
    Shards of one run are merged. The verdicts shown are those `zoo gate` gives the same
    runs: each run re-judged against its own index as it is now and the current zoo data
    (--index, --stored-claims, --tolerances and --conventions as for `zoo gate`). With
    several runs, the latest is shown in full and the report adds each metric over time and
    its throughput and latency beside the previous run's (a regression only when the change
    exceeds both runs' spread). Nothing is measured. With no output option, the Markdown
    summary is printed; --format table prints the run's table again.
    """
    try:
        scheme = urlsplit(link_template).scheme.lower() if link_template else ""
    except ValueError:
        scheme = "unparseable"
    if link_template and scheme not in ("http", "https"):
        raise InputError(
            f"--source-url {link_template!r} is not an http(s) URL",
            hint="give e.g. https://github.com/ORG/REPO/blob/SHA/{path}?plain=1#L{line}, or leave it out for relative links",
        )
    # One rule with `zoo gate`: the verdicts shown (and the gate box) are re-judged from the
    # stored measurements with the gate's own defaults (zoo.judge.gate.Gate), never taken from the
    # record as is. Runs before the latest two are read only for what the history shows, from the
    # history cache when it holds it under the same records and judging inputs.
    gate = Gate(GateSettings(index_paths=index_paths, stored_claims=stored_claims, tolerances=tolerances, conventions=conventions))
    with open_cache(use=len(runs) != 1) as cache:
        stored = stored_runs(runs, results, cache)
        history = collect_history(stored, gate, cache)
    for note, run_ids in _notes_by_text(history.runs).items():  # a note of many runs is said once
        who = f"run {run_ids[0]}" if len(run_ids) == 1 else f"{len(run_ids)} runs ({run_ids[0]} .. {run_ids[-1]})"
        echo(f"zoo: {who}: {note}", err=True)
    current = history.current
    shown = display_history(history)  # for people: long names shortened; CSV and JSON keep them whole
    if fmt == HF_MODEL_INDEX:
        from zoo.views.hf_card import render_hf_model_index

        out(render_hf_model_index(current))
    elif fmt is not None:
        print_record(current, fmt, verbose, False, color)
    elif not any((html_dir, markdown_file, csv_file, json_file)):
        markdown_file = "-"
    drawing = None
    if html_dir:  # the plots are drawn (on a second core where there is one) while the Markdown is written
        from zoo.views.html import start_report_plots, write_html_report

        drawing = start_report_plots(shown)
    markdown = render_markdown(shown, link_template=link_template) if markdown_file else ""
    if html_dir:
        page = write_html_report(shown, Path(html_dir), link_template=link_template, plots=drawing)
        echo(f"report: {page}", err=True)
    if markdown_file:
        _emit(markdown_file, markdown, "Markdown")
    if csv_file:
        _emit_parts(csv_file, _csv_parts(every_run(stored, history, gate)), "CSV")
    if json_file:
        _emit(json_file, render_model_index_json(current), "model-index JSON")


def _notes_by_text(digests: Iterable[RunDigest]) -> dict[str, list[str]]:
    """Each note the judging of the runs left -> the runs it is about, in order. A note names its
    run's own facts ("fitted over the 250 FLOPs claims of run X") as a whole sentence, so notes
    that read alike are alike."""
    found: dict[str, list[str]] = {}
    for digest in digests:
        for note in digest.notes:
            found.setdefault(note, []).append(digest.run_id)
    return found


def _csv_parts(records: Iterable[RunRecord]) -> Iterator[str]:
    """One CSV for every run given, header once (rows carry their run_id), a run at a time: the
    CSV keeps every name whole, so a year of runs is not held in memory at once."""
    for number, run in enumerate(records):
        text = render_csv(run)
        yield text if number == 0 else text.split("\n", 1)[1]


def _emit_parts(target: str, parts: Iterable[str], what: str) -> None:
    """A document written part by part: to stdout (printed inert; JSON keeps its data), or
    atomically to ``target``."""
    if target == "-":
        for part in parts:
            out(part, json_text=what == "model-index JSON")
        return
    with atomic_open(Path(target), "w", newline="") as stream:
        for part in parts:
            stream.write(part)
    echo(f"{what}: {target}", err=True)


def _emit(target: str, text: str, what: str) -> None:
    _emit_parts(target, (text,), what)
