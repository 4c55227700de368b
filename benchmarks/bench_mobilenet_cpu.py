"""Throughput and latency of the four MobileNet V2 variants on this machine's CPU, NCHW vs NHWC.

Cards come from ``metadata/`` (the seed zoo); models are built by timm with random
weights (speed does not depend on the weights). Each row is one ``measure_throughput``
call: throughput median with its IQR and min-max over the timed rounds, and batch-1
latency p50/p90.

Run: ``.venv/bin/python benchmarks/bench_mobilenet_cpu.py [--batch-size 8] [--threads N]``.
On a GPU the same table with AMP: ``--device cuda --dtype fp16 --batch-size 256``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zoo.measure.device import device_name, resolve_device  # noqa: E402
from zoo.measure.throughput.options import BenchOptions  # noqa: E402
from zoo.index import load_index  # noqa: E402
from zoo.measure.setup import setup_for_model  # noqa: E402
from zoo.measure.throughput.measure import measure_throughput  # noqa: E402

MODELS = ("mobilenetv2_100", "mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument(
        "--batch-size",
        type=int,
        default=8,
        help="throughput batch (default 8: keeps the whole table under ~5 minutes on 2 cores)",
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-seconds", type=float, default=1.0)
    args = parser.parse_args()

    import timm

    device = resolve_device(args.device)
    index = load_index([ROOT / "metadata"])
    started = time.perf_counter()
    print(
        f"bench_mobilenet_cpu: {device_name(device)} ({device}), torch {torch.__version__}, timm {timm.__version__}, "
        f"{args.threads or torch.get_num_threads()} threads, {args.dtype}, throughput batch {args.batch_size}, "
        f"{args.rounds} rounds of ~{args.round_seconds:g} s, latency batch 1"
    )
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()
    header = (
        f"{'model':<17} {'layout':<6} {'img/s median':>12} {'IQR':>15} {'min-max':>15} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'batch':>5} {'rounds':>6}"
    )
    print(header)
    print("-" * len(header))
    for name in MODELS:
        card = index.get(name)
        model = timm.create_model(name, pretrained=False).eval()
        for channels_last in (False, True):
            options = BenchOptions(
                device=args.device,
                dtype=args.dtype,
                channels_last=channels_last,
                threads=args.threads,
                batch_size=args.batch_size,
                rounds=args.rounds,
                round_seconds=args.round_seconds,
                warmup_iters=2,
                progress=False,
            )
            got = {m.metric: m for m in measure_throughput(card, model, options, setup_for_model(card, model))}
            layout = "NHWC" if channels_last else "NCHW"
            t, p50, p90 = got["throughput"], got["latency_p50"], got["latency_p90"]
            if t.status != "ok":
                print(f"{name:<17} {layout:<6} {t.status}: {t.reason}")
                continue
            iqr = f"{t.uncertainty.low:.1f}-{t.uncertainty.high:.1f}"  # type: ignore[union-attr]
            extremes = f"{t.conditions['throughput_min']:.1f}-{t.conditions['throughput_max']:.1f}"
            p50_text = f"{p50.value:.2f}" if p50.status == "ok" else p50.status
            p90_text = f"{p90.value:.2f}" if p90.status == "ok" else p90.status
            print(
                f"{name:<17} {layout:<6} {t.value:>12.1f} {iqr:>15} {extremes:>15} "
                f"{p50_text:>8} {p90_text:>8} {t.conditions['batch_size']:>5} {t.conditions['rounds']:>6}",
                flush=True,
            )
    print()
    print(
        f"input {t.conditions['input_size']} from the cards' Image Size; random-init weights; "
        f"total {time.perf_counter() - started:.0f} s"
    )
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
