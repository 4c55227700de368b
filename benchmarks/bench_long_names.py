"""``zoo report`` over many run records, with short model names and with very long ones.

Writes N run records (synthetic, judged with zoo's own judge, as in bench_report.py) into a
results folder, each a run of M models started an hour after the previous one; with
``--name-bytes B`` the first model of every run is named with B bytes of text. Then times
``zoo report RUN ... --stored-claims --html DIR --csv FILE`` in a fresh process (wall time and
peak RSS; ``--stored-claims`` because the synthetic runs' index is not on disk) and checks that
the CSV keeps the long name whole.

The point (issue #20): a long name costs what a short one does, because every view shows it
shortened (zoo.views.display) while the data exports keep it whole.

Run: ``.venv/bin/python benchmarks/bench_long_names.py --records 2000 [--name-bytes 100000] [--tree PATH]``
(``--tree`` runs another checkout's zoo, e.g. the main branch, for a before/after).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import synthetic_run  # noqa: E402
from zoo.records import ModelResult, to_json_dict  # noqa: E402


def write_runs(results: Path, records: int, models: int, name_bytes: int) -> None:
    base = synthetic_run(models, seed=1)
    long_name = ("n" * name_bytes) if name_bytes else None
    if long_name:
        first = base.models[0]
        renamed = ModelResult(card=dataclasses.replace(first.card, name=long_name), measurements=first.measurements,
                              verdicts=[dataclasses.replace(v, model=long_name) for v in first.verdicts])
        base = dataclasses.replace(base, models=[renamed, *base.models[1:]])
    document = to_json_dict(base)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(records):
        when = start + dt.timedelta(hours=i)
        run_id = when.strftime("%Y%m%dT%H%M%SZ") + f"-{i:06x}"
        document.update(run_id=run_id, started=when.isoformat(), finished=(when + dt.timedelta(minutes=20)).isoformat())
        folder = results / run_id
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps(document), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--name-bytes", type=int, default=0, help="length of the first model's name (0: short names)")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1], help="the zoo checkout to run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = root / "runs"
        write_runs(results, args.records, args.models, args.name_bytes)
        size = sum(p.stat().st_size for p in results.rglob("run.json"))
        folders = sorted(str(p) for p in results.iterdir())
        env = {**os.environ, "PYTHONPATH": str(args.tree), "ZOO_PROGRESS": "0"}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "zoo", "report", *folders, "--stored-claims", "--html", str(root / "html"),
                               "--csv", str(root / "claims.csv")], cwd=root, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        whole = args.name_bytes and ("n" * args.name_bytes) in (root / "claims.csv").read_text(encoding="utf-8") \
            if (root / "claims.csv").exists() else False
        page = root / "html" / "index.html"
        print(f"records {args.records}, models {args.models}, name {args.name_bytes or 'short'} bytes, "
              f"records on disk {size / 1e6:.1f} MB, tree {args.tree}")
        print(f"zoo report: exit {done.returncode}, {seconds:.1f} s wall, peak RSS {peak_mb:.0f} MB, "
              f"HTML {page.stat().st_size / 1e6 if page.exists() else 0:.2f} MB"
              + (f", long name whole in the CSV: {bool(whole)}" if args.name_bytes else ""))
        if done.returncode:
            print(done.stderr[-2000:])


if __name__ == "__main__":
    main()
