"""Overhead of the timing harness: measure_throughput's figure vs a bare loop around the same call.

One process, one model, one input batch, one device. The bare loop is what a careful
person would write by hand: inference_mode, then rounds of ``for _ in range(n): model(x)``
between two clock readings (synchronised on CUDA).

A shared machine's speed drifts by 10-50% from one second to the next (other tenants,
clocks), far more than the 3% to be shown, so the two must run in the same moments:

* ``interleaved`` (default on CPU): measure_throughput is handed a clock (its ``clock``
  argument) that reads ``time.perf_counter`` exactly as the default does and then, right
  after each timed round has been read off, runs one bare round. Bare and harness rounds
  alternate every ~0.3 s, and the bare rounds run outside the harness's timed spans, so
  its figure is untouched. Ratio per trial = harness median / median of the bare rounds
  around its rounds.
* ``alternating`` (default on CUDA, where the harness times with CUDA events): whole
  bare loops before and after each measure_throughput call; ratio against their mean.

The figure is the median ratio over the trials. Target: within 3% of 1.
Run: ``.venv/bin/python benchmarks/bench_overhead.py [--model mobilenetv2_050] [--batch-size 8]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo.measure.device import device_name, resolve_device  # noqa: E402
from zoo.measure.throughput.options import BenchOptions  # noqa: E402
from zoo.measure.setup import setup_for_model  # noqa: E402
from zoo.measure.throughput.measure import measure_throughput  # noqa: E402
from zoo.records import Claim, Measurement, ModelCard, SourceRef  # noqa: E402

TARGET = 0.03


def bare_round(model: torch.nn.Module, x: torch.Tensor, iters: int) -> float:
    """Images/s of one hand-written timed loop of ``iters`` calls."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    with torch.inference_mode():
        sync()
        start = time.perf_counter()
        for _ in range(iters):
            model(x)
        sync()
        return x.shape[0] * iters / (time.perf_counter() - start)


def calls_per_round(model: torch.nn.Module, x: torch.Tensor, round_seconds: float) -> int:
    """How many calls fill a round, from three warm calls."""
    bare_round(model, x, 1)
    per_call = x.shape[0] / bare_round(model, x, 3)
    return max(1, round(round_seconds / per_call))


class InterleavingClock:
    """``time.perf_counter`` for measure_throughput, running a bare round after each timed round.

    With ``warmup_seconds=0`` the harness makes exactly ``warmup`` one-call warm-up blocks,
    then ``rounds`` timed blocks, each read as (start, end). A bare round runs after the
    end reading of the last warm-up block and of every timed block: after the harness has
    read its clock, before it starts its next block.
    """

    def __init__(self, model: torch.nn.Module, x: torch.Tensor, iters: int, warmup: int, rounds: int) -> None:
        self.model, self.x, self.iters = model, x, iters
        self.first, self.last = warmup, warmup + rounds
        self.readings = 0
        self.bare: list[float] = []

    def __call__(self) -> float:
        now = time.perf_counter()
        self.readings += 1
        blocks_done = self.readings // 2 if self.readings % 2 == 0 else -1
        if self.first <= blocks_done <= self.last:
            self.bare.append(bare_round(self.model, self.x, self.iters))
        return now


def interleaved(
    card: ModelCard, model: torch.nn.Module, x: torch.Tensor, options: BenchOptions, trials: int
) -> Optional[list[float]]:
    iters = calls_per_round(model, x, options.round_seconds)
    print(f"mode: interleaved (a bare round of {iters} calls after each harness round); images/s")
    print(f"{'trial':>5}  {'measure_throughput median [IQR]':>34}  {'bare median [IQR]':>26}  {'ratio':>7}")
    ratios = []
    for trial in range(1, trials + 1):
        clock = InterleavingClock(model, x, iters, options.warmup_iters or 1, options.rounds)
        throughput = measure_throughput(card, model, options, setup_for_model(card, model), clock=clock)[0]
        if not _usable(throughput) or len(clock.bare) != options.rounds + 1:
            return None
        bare = statistics.quantiles(clock.bare, n=4, method="inclusive")
        ratio = float(throughput.value) / bare[1]  # type: ignore[arg-type]
        ratios.append(ratio)
        print(
            f"{trial:>5}  {_figure(throughput):>34}  {bare[1]:>8.2f} [{bare[0]:>6.2f}-{bare[2]:>6.2f}]  {ratio:>7.4f}"
        )
    return ratios


def alternating(
    card: ModelCard, model: torch.nn.Module, x: torch.Tensor, options: BenchOptions, trials: int
) -> Optional[list[float]]:
    iters = calls_per_round(model, x, options.round_seconds)

    def bare_loop() -> float:
        return statistics.median(bare_round(model, x, iters) for _ in range(options.rounds))

    print(f"mode: alternating (bare loop of {options.rounds} rounds x {iters} calls before and after); images/s")
    print(
        f"{'trial':>5}  {'bare before':>11}  {'measure_throughput median [IQR]':>34}  {'bare after':>10}  {'ratio':>7}"
    )
    before = bare_loop()
    ratios = []
    for trial in range(1, trials + 1):
        throughput = measure_throughput(card, model, options, setup_for_model(card, model))[0]
        if not _usable(throughput):
            return None
        after = bare_loop()
        ratio = float(throughput.value) / ((before + after) / 2)  # type: ignore[arg-type]
        ratios.append(ratio)
        print(f"{trial:>5}  {before:>11.2f}  {_figure(throughput):>34}  {after:>10.2f}  {ratio:>7.4f}")
        before = after
    return ratios


def _usable(throughput: Measurement) -> bool:
    if throughput.status != "ok" or throughput.uncertainty is None:
        print(f"measure_throughput could not measure: {throughput.reason}")
        return False
    return True


def _figure(m: Measurement) -> str:
    assert m.uncertainty is not None
    return f"{m.value:>8.2f} [{m.uncertainty.low:>6.2f}-{m.uncertainty.high:>6.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenetv2_050")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for both loops (default 1)")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--round-seconds", type=float, default=0.3)
    parser.add_argument("--mode", choices=("interleaved", "alternating"), default=None)
    args = parser.parse_args()

    import timm

    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    mode = args.mode or ("alternating" if device.type == "cuda" else "interleaved")
    model = timm.create_model(args.model, pretrained=False).eval().to(device)
    here = SourceRef("benchmarks/bench_overhead.py", 1)
    size = args.image_size
    card = ModelCard(
        name=args.model, source=here, claims={"image_size": Claim("image_size", "Image Size", size, str(size), here)}
    )
    options = BenchOptions(
        device=str(device),
        threads=args.threads,
        batch_size=args.batch_size,
        rounds=args.rounds,
        round_seconds=args.round_seconds,
        warmup_iters=3,
        warmup_seconds=0.0,
        latency_min_iters=1,
        progress=False,
    )
    x = torch.randn(args.batch_size, 3, size, size, device=device)

    print(
        f"bench_overhead: {args.model} fp32 NCHW, batch {args.batch_size}, {size}px, "
        f"{device_name(device)} ({device}), torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
        f"{args.trials} trials of {args.rounds} rounds x ~{args.round_seconds:g} s"
    )
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ratios = (interleaved if mode == "interleaved" else alternating)(card, model, x, options, args.trials)
    if ratios is None:
        return 3
    median_ratio = statistics.median(ratios)
    verdict = "PASS" if abs(median_ratio - 1.0) <= TARGET else "FAIL"
    print(
        f"ratio measure_throughput / bare loop: median over {len(ratios)} trials {median_ratio:.4f} "
        f"(min {min(ratios):.4f}, max {max(ratios):.4f}); target |ratio - 1| <= {TARGET:.0%}: {verdict}"
    )
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
