"""Throughput as whole processes: ``zoo bench`` beside a bare timing loop and timm's own
``benchmark.py``, interleaved, with the ratios zoo/bare and zoo/timm per round.

Every figure comes from a fresh process (imports, model build, warm-up, timing), so what
a user sees from ``zoo bench`` is set beside what a hand-written loop and timm's script
report for the same model, batch, threads and dtype. The allocator is a condition:
``--allocator tuned`` runs zoo and the bare loop with glibc tuned (timm's script always runs
with malloc as it comes, so its ratio is only shown under ``default``). Each round also runs
the bare loop a second time: the ratio of those two identical processes is printed as the
noise floor that a zoo/bare difference must clear.

Run from the repository root (about 4 minutes on 2 cores at the defaults):

    python benchmarks/bench_vs_timm.py [--model mobilenetv2_100] [--batch-size 8] [--rounds 5]
        [--allocator default|tuned] [--timm /tmp/timm] [--device cpu]

On CUDA (``--device cuda --dtype fp16 --channels-last``) zoo and the bare loop run with AMP
and NHWC, timm with ``--amp --channels-last``; ``--compile`` runs all three under
``torch.compile`` (timm's ``--torchcompile``). ``--json FILE`` also writes every figure and
ratio as JSON (``benchmarks/gpu_check.py`` reads it); ``--no-again`` leaves out the second
bare process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = """
import json, sys, time, torch, timm
from zoo.measure.allocator import minor_faults, use_allocator
name, batch, threads, seconds, mode, device, dtype, nhwc, compiled = sys.argv[1:10]
batch, threads, seconds, nhwc = int(batch), int(threads), float(seconds), nhwc == "1"
torch.set_num_threads(threads)
device = torch.device(device)
model = timm.create_model(name).eval().to(device)
x = torch.randn(batch, 3, 224, 224, device=device)
if nhwc:
    model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
if compiled == "1":
    model = torch.compile(model)
amp = torch.autocast(device.type, dtype=torch.float16 if dtype == "fp16" else torch.bfloat16, enabled=dtype != "fp32")
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
with use_allocator(mode), torch.inference_mode(), amp:
    for _ in range(10 if device.type == "cuda" else 3):
        model(x)
    sync()
    calls, faults, started = 0, minor_faults(), time.perf_counter()
    while time.perf_counter() - started < seconds or calls < 5:
        model(x)
        calls += 1
    sync()
    elapsed, faults = time.perf_counter() - started, minor_faults() - faults
print(json.dumps({"images_per_s": calls * batch / elapsed, "faults_per_call": faults / calls}))
"""


THREADS = {"n": 1}


def env() -> dict[str, str]:
    """Every process gets the same environment: timm's benchmark.py sets no thread count itself, and
    whether OMP_NUM_THREADS is set at start (not only torch.set_num_threads later) moved CPU figures
    by tens of percent in runs on a loaded 2-core machine."""
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "OMP_NUM_THREADS": str(THREADS["n"])}


FAULTS: dict[str, list[float]] = {"zoo": [], "bare": [], "again": []}
"""Minor page faults per timed call of each zoo and bare process."""


def zoo_process(args: argparse.Namespace) -> float:
    with tempfile.TemporaryDirectory(prefix="zoo-vs-timm-") as tmp:
        record = Path(tmp) / "run.json"
        command = [
            sys.executable, "-m", "zoo", "bench", args.model, "--index", str(ROOT / "metadata"),
            "--device", args.device, "--dtype", args.dtype, "--batch-size", str(args.batch_size),
            "--threads", str(args.threads), "--rounds", str(args.rounds), "--allocator", args.allocator,
            "--no-record", *(["--channels-last"] if args.channels_last else []), *(["--compile"] if args.compile else []),
        ]
        done = subprocess.run(command, env={**env(), "ZOO_BENCH_RECORD_TO": str(record)}, cwd=ROOT,
                              capture_output=True, text=True, check=False)
        if not record.is_file():
            raise SystemExit(f"zoo bench wrote no record (exit {done.returncode}):\n{done.stderr[-3000:]}")
        run = json.loads(record.read_text())
    [throughput] = [m for m in run["models"][0]["measurements"] if m["metric"] == "throughput"]
    if throughput["status"] != "ok":
        raise SystemExit(f"zoo bench could not measure: {throughput['reason']}")
    FAULTS["zoo"].append(float(throughput["conditions"].get("minor_faults_per_call") or 0.0))
    return float(throughput["value"])


def bare_process(args: argparse.Namespace, key: str = "bare") -> float:
    argv = [args.model, args.batch_size, args.threads, args.rounds * args.bare_seconds, args.allocator, args.device, args.dtype,
            int(args.channels_last), int(args.compile)]
    out = subprocess.run([sys.executable, "-c", BARE, *map(str, argv)], env=env(), capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    FAULTS[key].append(result["faults_per_call"])
    return float(result["images_per_s"])


def timm_process(args: argparse.Namespace) -> float:
    command = [sys.executable, str(Path(args.timm) / "benchmark.py"), "--model", args.model, "--bench", "inference",
               "-b", str(args.batch_size), "--device", args.device, "--num-warm-iter", "3",
               "--num-bench-iter", str(args.timm_iters)]
    if args.dtype != "fp32":
        command += ["--amp", "--amp-dtype", "float16" if args.dtype == "fp16" else "bfloat16"]
    if args.channels_last:
        command.append("--channels-last")
    if args.compile:
        command.append("--torchcompile")
    environ = env()  # the same OMP_NUM_THREADS as zoo and the bare loop
    out = subprocess.run(command, cwd=args.timm, env=environ, capture_output=True, text=True, check=False)
    if out.returncode or "--result" not in out.stdout:
        raise SystemExit(f"timm's benchmark.py failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.split("--result", 1)[1])
    result = result[0] if isinstance(result, list) else result
    return float(result["infer_samples_per_sec"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenetv2_100")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (and zoo's timed rounds)")
    parser.add_argument("--allocator", choices=("default", "tuned"), default="default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=("fp32", "fp16", "bf16"), default="fp32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--timm", default="/tmp/timm", help="a checkout of timm holding benchmark.py")
    parser.add_argument("--timm-iters", type=int, default=40)
    parser.add_argument("--compile", action="store_true", help="torch.compile in all three (timm: --torchcompile)")
    parser.add_argument("--bare-seconds", type=float, default=1.0, help="the bare loop times for ROUNDS x this many seconds")
    parser.add_argument("--no-again", dest="again", action="store_false", help="leave out the second bare process")
    parser.add_argument("--json", default=None, help="also write the figures and ratios to this file")
    args = parser.parse_args()
    args.timm = str(Path(args.timm).resolve())
    THREADS["n"] = args.threads
    with_timm = args.allocator == "default" and (Path(args.timm) / "benchmark.py").exists()
    print(f"{args.model} batch {args.batch_size}, {args.dtype}{' channels_last' if args.channels_last else ''}, "
          f"{args.device}, {args.threads} threads, allocator {args.allocator}; {args.rounds} interleaved rounds of "
          f"fresh processes; load at start {os.getloadavg()[0]:.2f}")
    figures: dict[str, list[float]] = {"zoo": [], "bare": [], "timm": [], "again": []}
    # "again" is a second, identical bare process: bare/again is what two processes of the same
    # code differ by on this machine, the floor a zoo/bare difference has to clear to mean anything
    runners = [("zoo", zoo_process), ("bare", bare_process)]
    runners += [("again", lambda a: bare_process(a, "again"))] if args.again else []
    runners += [("timm", timm_process)] if with_timm else []
    for number in range(args.rounds):
        order = runners[number % len(runners):] + runners[: number % len(runners)]  # rotate who goes first
        for name, runner in order:
            figures[name].append(runner(args))
        row = ", ".join(f"{name} {figures[name][-1]:.1f}" for name, _ in runners)
        faults = "faults/call " + ", ".join(f"{name} {FAULTS[name][-1]:.0f}" for name, _ in runners if FAULTS.get(name))
        print(f"round {number + 1}: {row} img/s ({faults}); zoo/bare {figures['zoo'][-1] / figures['bare'][-1]:.3f}"
              + (f", zoo/timm {figures['zoo'][-1] / figures['timm'][-1]:.3f}" if with_timm else "")
              + f"; load {os.getloadavg()[0]:.2f}")
    for name, _ in runners:
        values = figures[name]
        print(f"{name:5s} median {statistics.median(values):.1f} img/s (range {min(values):.1f}-{max(values):.1f})")
    pairs = [("zoo", "bare")] + ([("again", "bare")] if args.again else []) + ([("zoo", "timm")] if with_timm else [])
    summary: dict[str, object] = {
        "model": args.model, "batch_size": args.batch_size, "device": args.device, "dtype": args.dtype,
        "channels_last": args.channels_last, "compile": args.compile, "threads": args.threads, "allocator": args.allocator,
        "rounds": args.rounds, "timm": with_timm, "figures": {name: figures[name] for name, _ in runners},
        "medians": {name: statistics.median(figures[name]) for name, _ in runners}, "ratios": {},
    }
    for one, other in pairs:
        ratios = [z / o for z, o in zip(figures[one], figures[other])]
        what = " (two identical bare processes: the noise floor of a pair)" if one == "again" else ""
        print(f"{one}/{other}: median {statistics.median(ratios):.3f} of {len(ratios)} interleaved pairs "
              f"(range {min(ratios):.3f}-{max(ratios):.3f}){what}")
        summary["ratios"][f"{one}/{other}"] = {"median": statistics.median(ratios), "values": ratios}  # type: ignore[index]
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
