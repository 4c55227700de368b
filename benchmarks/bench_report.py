"""Report and gate views at zoo scale: how long each takes and how big it gets.

Builds synthetic run records (N models, each with parameters, FLOPs, file size, top-1,
top-5 claims and measurements, plus throughput; some drift, some unverified), judges them
with zoo's own judge, and times, best of 3:

- html:     the self-contained HTML report with all plots (write_html_report);
- markdown: the job summary (must stay under GitHub's 1 MiB step-summary limit);
- csv / json / junit: the data exports;
- merge:    merging the run split into 8 shards.

Targets: a 1000-model zoo renders its HTML report in under 60 s on 2 cores, and its
Markdown summary stays under 1 MiB. Run: ``.venv/bin/python benchmarks/bench_report.py [--models 50 300 1000]``.

History at scale (``--runs N [N ...]``): a year of nightly runs as a zoo keeps them. The world
is generated once (``--world DIR`` keeps it for later calls): an index of 250 models in 25
collection files written as model-index YAML (timm's card layout) and read with zoo's own
loader, ``metadata/tolerances.yml``, and nightly run groups of 5 shards of 50 models each,
saved as ``run.json`` the way ``zoo verify`` saves them. Each model has the measurements of a
full run with the conditions the pipeline records: config, parameters, FLOPs with its twelve
conventions, weights and file size, throughput and p50/p90 latency (IQR spreads, drifting
from night to night, a 10% step now and then), top-1/top-5 with Wilson intervals (a shard
without ImageNet data on some nights); verdicts from zoo's judge. For the latest N records,
``zoo report RUN... --html DIR --markdown FILE`` and ``zoo gate RUN...`` each run
in a fresh process; printed: wall and CPU seconds and peak RSS. ``--before TREE`` runs the same
commands with another checkout of zoo (e.g. ``git worktree add /tmp/zoo-main main``) first on
``PYTHONPATH``. Each command of this tree runs twice with a new history cache
(``ZOO_HISTORY_CACHE``): cold (every record read once, the cache filled), then warm (what a
nightly report costs once the history is cached). CPU and peak RSS count the process zoo forks
to draw plots. Target (issue 22): 2,000 records in under 5 s and 300 MB on 2 cores.

    .venv/bin/python benchmarks/bench_report.py --runs 200 2000 --world /tmp/zoo-history [--before /tmp/zoo-main]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zoo.judge.compare import judge  # noqa: E402
from zoo.runs.merge import merge_runs  # noqa: E402
from zoo.judge.policy import Policy  # noqa: E402
from zoo.records import (  # noqa: E402
    Claim, Environment, Measurement, ModelCard, ModelResult, RunRecord, SourceRef, Tolerance, Uncertainty,
)
from zoo.verify.shard import select_shard  # noqa: E402
from zoo.views.export import render_csv, render_model_index_json  # noqa: E402
from zoo.views.html import write_html_report  # noqa: E402
from zoo.views.junit import junit_xml  # noqa: E402
from zoo.views.markdown import render_markdown  # noqa: E402
from zoo_process import run_zoo_process  # noqa: E402

POLICY = Policy(tolerances={
    "parameters": Tolerance("parameters"), "flops": Tolerance("flops", relative=0.02),
    "file_size": Tolerance("file_size"), "top1": Tolerance("top1", absolute=0.5), "top5": Tolerance("top5", absolute=0.5),
})


def synthetic_run(models: int, seed: int = 0) -> RunRecord:
    rng = random.Random(seed)
    results = []
    for i in range(models):
        name = f"net{i:04d}_{rng.choice(['s', 'm', 'l'])}"
        line = 10 + i * 40
        params = rng.randint(2_000_000, 90_000_000)
        flops = params * rng.randint(60, 140)
        size = params * 4 + rng.randint(1000, 90000)
        top1 = round(rng.uniform(65, 86), 2)
        top5 = round(min(top1 + rng.uniform(8, 15), 99.5), 2)
        src = lambda k, line=line: SourceRef("metadata/zoo.yml", line + k)  # noqa: E731
        card = ModelCard(name=name, source=src(0), collection="Synthetic", claims={
            "parameters": Claim("parameters", "Parameters", params, str(params), src(3), "parameters", 1.0),
            "flops": Claim("flops", "FLOPs", flops, str(flops), src(2), "FLOPs", 1.0),
            "file_size": Claim("file_size", "File Size", size, str(size), src(4), "bytes", 1.0),
            "top1": Claim("top1", "Top 1 Accuracy", top1, f"{top1}%", src(20), "%", 0.01),
            "top5": Claim("top5", "Top 5 Accuracy", top5, f"{top5}%", src(21), "%", 0.01),
        })
        drift = rng.random() < 0.05
        measured_top1 = top1 + (rng.choice([-1.5, 1.2]) if drift else rng.uniform(-0.1, 0.1))
        accuracy_missing = rng.random() < 0.1
        conditions = {"images": 50000, "device": "cpu", "dtype": "float32", "batch_size": 64, "dataset_fingerprint": "sha256:00ff"}
        measurements = [
            Measurement("parameters", "ok", params, "parameters", "sum of numel"),
            Measurement("flops", "ok", int(flops * rng.uniform(0.99, 1.01)), "FLOPs", "fvcore", {"input_size": "1x3x224x224"}),
            Measurement("file_size", "ok", size, "bytes", "downloaded file size"),
            Measurement("throughput", "ok", rng.uniform(50, 3000), "images/s", "median of 20 batches", {"device": "cpu", "batch_size": 32}),
        ]
        if accuracy_missing:
            measurements += [Measurement.unavailable(m, "no ImageNet data configured") for m in ("top1", "top5")]
        else:
            measurements += [
                Measurement(m, "ok", v, "%", "timm eval", conditions, Uncertainty("wilson-95", v - 0.38, v + 0.38, 0.95))
                for m, v in (("top1", measured_top1), ("top5", top5 + rng.uniform(-0.1, 0.1)))
            ]
        results.append(ModelResult(card, measurements, judge(card, measurements, POLICY, dt.date(2025, 6, 1))))
    env = Environment("3.11", "Linux", "bench", "cpu", 2, "2.4", {"timm": "1.0"})
    return RunRecord("bench-run", "2025-06-01T00:00:00+00:00", "2025-06-01T02:00:00+00:00", env, ["metadata"],
                     ["params", "flops", "weights", "throughput", "accuracy"], {}, results)


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


# --------------------------------------------------------------------------- history at scale

def run_zoo(tree: Path, cwd: Path, args: list[str], cap_gb: float = 0.0, cache: str = "off") -> dict:
    """One ``zoo ARGS`` process with ``tree`` first on the path, in ``cwd``: its wall, CPU and peak RSS
    (those of processes it started, e.g. to draw plots, counted in: CPU added, the larger peak).

    ``cap_gb`` caps its address space (a shared machine must not run out of memory); a process
    that reaches it reports exit "out of memory". ``cache``: ``$ZOO_HISTORY_CACHE``."""
    env = {"ZOO_PROGRESS": "0", "BENCH_MEMORY_CAP": str(int(cap_gb * 2**30)), "ZOO_HISTORY_CACHE": cache}
    figures, stderr = run_zoo_process(tree, args, cwd=cwd, env=env)
    if figures["code"] not in (0, 1, 3, "out of memory"):
        raise SystemExit(f"zoo {args[0]} with {tree} exited {figures['code']}:\n{stderr[-3000:]}")
    return {"wall_s": figures["process_wall"], "cpu_s": figures["cpu"] + figures["children_cpu"],
            "peak_mb": max(figures["peak_mb"], figures["children_peak_mb"]), "exit": figures["code"]}


def history(args: argparse.Namespace) -> None:
    """``zoo report`` and ``zoo gate`` over the latest N records of a generated year of nightly runs."""
    from history_world import world_records, write_world

    world = Path(args.world) if args.world else Path(tempfile.mkdtemp(prefix="zoo-history-"))
    try:
        records = world_records(world)
        if len(records) < max(args.runs):
            shutil.rmtree(world / "runs", ignore_errors=True)
            nights = -(-max(args.runs) // 5)
            print(f"writing {nights} nights x 5 shards x 50 models into {world} ...", file=sys.stderr)
            start = time.perf_counter()
            records = write_world(world, nights=nights)
            size = sum(p.stat().st_size for p in records) / 1e9
            print(f"  {len(records)} records, {size:.2f} GB, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        trees = [("after", ROOT)] + ([("before", Path(args.before).resolve())] if args.before else [])
        print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'tree':>6} {'records':>7} {'command':>7} {'cache':>6} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'exit':>4}")
        for count in args.runs:
            chosen = [str(p.parent.relative_to(world)) for p in records[-count:]]
            for label, tree in trees:
                with tempfile.TemporaryDirectory() as out:
                    cache = f"{out}/history.sqlite"  # a new history cache: cold, then warm
                    html = ["--html", f"{out}/html", "--markdown", f"{out}/summary.md"]
                    steps = [("report", ["report", *chosen, *html], "cold"), ("report", ["report", *chosen, *html], "warm"),
                             ("gate", ["gate", *chosen], "cold"), ("gate", ["gate", *chosen], "warm")]
                    if label == "before":  # no history cache there: each command once
                        steps = [("report", steps[0][1], "-"), ("gate", steps[2][1], "-")]
                    for name, command, state in steps:
                        r = run_zoo(tree, world, command, args.memory_cap_gb, cache)
                        print(f"{label:>6} {count:>7} {name:>7} {state:>6} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} "
                              f"{r['peak_mb']:>8.0f} {r['exit']!s:>4}", flush=True)
        print("target (issue 22): 2,000 records in under 5 s and 300 MB on 2 cores; "
              "each record holds 50 models, a run group 5 records")
    finally:
        if not args.world:
            shutil.rmtree(world, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[50, 300, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, nargs="+", default=None,
                        help="history: zoo report and zoo gate over the latest N records of a generated year of runs")
    parser.add_argument("--world", default=None, help="with --runs: keep (or reuse) the generated records in this folder")
    parser.add_argument("--before", default=None, help="with --runs: also time this checkout of zoo (the folder holding zoo/)")
    parser.add_argument("--memory-cap-gb", type=float, default=12.0,
                        help="with --runs: cap each zoo process's address space (default 12 GB; 0: no cap)")
    args = parser.parse_args()
    if args.runs:
        history(args)
        return
    print(f"{'models':>7} {'claims':>7} {'html s':>7} {'html MB':>8} {'plots':>6} {'md s':>6} {'md KB':>7} "
          f"{'csv s':>6} {'json s':>7} {'junit s':>8} {'merge8 s':>9}")
    for count in args.models:
        run = synthetic_run(count)
        claims = len(run.verdicts())
        with tempfile.TemporaryDirectory() as folder:
            html_s, page = best_of(args.repeat, lambda: write_html_report([run], Path(folder) / "report"))
            html_mb = Path(page).stat().st_size / 1e6  # type: ignore[arg-type]
            plots = len(list((Path(folder) / "report" / "assets").glob("*.png")))
        md_s, markdown = best_of(args.repeat, lambda: render_markdown(run))
        csv_s, _ = best_of(args.repeat, lambda: render_csv(run))
        json_s, _ = best_of(args.repeat, lambda: render_model_index_json(run))
        junit_s, _ = best_of(args.repeat, lambda: junit_xml(run))
        cards = [m.card for m in run.models]
        shards = []
        for k in range(1, 9):
            names = {c.name for c in select_shard(cards, k, 8)}
            shards.append(RunRecord(**{**run.__dict__, "run_id": f"s{k}", "shard": f"{k}/8",
                                       "models": [m for m in run.models if m.card.name in names]}))
        merge_s, merged = best_of(args.repeat, lambda: merge_runs(shards))
        assert {m.card.name for m in merged.models} == {m.card.name for m in run.models}  # type: ignore[union-attr]
        md_kb = len(str(markdown).encode()) / 1024
        print(f"{count:>7} {claims:>7} {html_s:>7.2f} {html_mb:>8.2f} {plots:>6} {md_s:>6.2f} {md_kb:>7.0f} "
              f"{csv_s:>6.2f} {json_s:>7.2f} {junit_s:>8.2f} {merge_s:>9.3f}")
        if count >= 1000:
            print(f"  target html < 60 s: {'met' if html_s < 60 else 'MISSED'}; markdown < 1 MiB: {'met' if md_kb < 1024 else 'MISSED'}")


if __name__ == "__main__":
    main()
