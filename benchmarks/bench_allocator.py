"""Page faults per forward call and images/s under glibc's malloc as it comes and tuned
(``zoo.measure.allocator``), for one model at batch 8 and 1 (or ``--batch-sizes``; 32 is
the evaluation benchmarks' batch), each in a fresh process, default and tuned interleaved.

Run: ``python benchmarks/bench_allocator.py [--model mobilenetv2_100] [--pairs 3] [--seconds 3]
[--batch-sizes 8,1]`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time, torch, timm
from zoo.measure.allocator import minor_faults, use_allocator
model_name, mode, batch, seconds, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = timm.create_model(model_name).eval()
x = torch.randn(batch, 3, 224, 224)
with use_allocator(mode) as label, torch.inference_mode():
    for _ in range(3):
        model(x)
    calls, faults, started = 0, minor_faults(), time.perf_counter()
    while time.perf_counter() - started < seconds or calls < 5:
        model(x)
        calls += 1
    elapsed, faults = time.perf_counter() - started, minor_faults() - faults
print(json.dumps({"label": label, "faults_per_call": faults / calls, "images_per_s": calls * batch / elapsed}))
"""


def one(model: str, mode: str, batch: int, seconds: float, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, model, mode, str(batch), str(seconds), str(threads)],
        env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenetv2_100")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-sizes", default="8,1", help="comma-separated (default: 8,1)")
    args = parser.parse_args()
    print(f"{args.model}, fp32, {args.threads} threads, {args.pairs} interleaved pairs of fresh processes, "
          f"{args.seconds:g} s timed each; load: {os.getloadavg()[0]:.2f}")
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        runs: dict[str, list[dict]] = {"default": [], "tuned": []}
        for _ in range(args.pairs):
            for mode in ("default", "tuned"):
                runs[mode].append(one(args.model, mode, batch, args.seconds, args.threads))
        ratios = [t["images_per_s"] / d["images_per_s"] for d, t in zip(runs["default"], runs["tuned"])]
        for mode, results in runs.items():
            faults = statistics.median(r["faults_per_call"] for r in results)
            speeds = [r["images_per_s"] for r in results]
            print(f"batch {batch:2d} {mode:7s} ({results[0]['label']}): {faults:9.0f} minor faults/call, "
                  f"{statistics.median(speeds):6.1f} img/s median (range {min(speeds):.1f}-{max(speeds):.1f})")
        print(f"batch {batch:2d} tuned/default img/s: median {statistics.median(ratios):.2f} "
              f"(pairs {', '.join(f'{r:.2f}' for r in ratios)}); load now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
