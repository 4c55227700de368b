"""Paired verdicts: how wide the interval is for a given --limit, and how big a baseline file is.

1. The paired interval (Tango score, 90% two-sided, finite-population corrected for the 50,000
   ImageNet validation images) for n = 500, 2,000, 5,000 paired images and 0 / 5 / 20 images
   whose correctness changed, split evenly (gained vs lost) and all lost. A claim passes when
   baseline + interval lies within claim +/- tolerance (0.25 pp by default), so the half-width
   plus the baseline's distance from the claim must stay under the tolerance.
2. Coverage: subsets of 2,000 drawn without replacement from 50,000 images of which 0.1% are
   lost and 0.05% gained; how often the interval misses the population's change below / above
   (each should be about 5%, the one-sided level of a pass or drift decision).
3. The size of one baseline file for 50,000 images (ImageNet-style names, labels, top-5 ids of
   a model right on 3 of 4 images), as `zoo baseline save` writes it.

Run: ``.venv/bin/python benchmarks/bench_paired.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo.measure.accuracy.paired import PAIRED_LEVEL, paired_change_interval  # noqa: E402
from zoo.runs.baselines import Baseline, BaselineInfo, save_baseline  # noqa: E402
from zoo.runs.predictions import ImagePredictions  # noqa: E402

POPULATION = 50_000


def interval_table() -> None:
    print(f"paired interval, {PAIRED_LEVEL:.0%} Tango score, N = {POPULATION:,} (pp = percentage points)")
    print(f"{'n':>6} {'changed':>8} {'gained/lost':>12} {'interval (pp)':>18} {'width':>7}")
    for n in (500, 2000, 5000):
        for changed in (0, 5, 20):
            splits = [(changed // 2, changed - changed // 2)] + ([(0, changed)] if changed else [])
            for gained, lost in splits:
                i = paired_change_interval(gained, lost, n, population=POPULATION)
                span = f"[{100 * i.low:+.3f}, {100 * i.high:+.3f}]"
                print(f"{n:>6,} {changed:>8} {f'{gained}/{lost}':>12} {span:>18} {100 * (i.high - i.low):>7.3f}")


def coverage(draws: int = 3000) -> None:
    rng = np.random.default_rng(1)
    population = np.zeros(POPULATION, dtype=np.int8)
    population[:50] = -1
    population[50:75] = 1
    truth = population.sum() / POPULATION
    below = above = 0
    for _ in range(draws):
        sample = rng.choice(population, 2000, replace=False)
        i = paired_change_interval(int((sample == 1).sum()), int((sample == -1).sum()), 2000, population=POPULATION)
        below += truth < i.low
        above += truth > i.high
    print(f"coverage, n = 2,000 of {POPULATION:,}, 0.1% lost / 0.05% gained, {draws:,} draws: "
          f"missed below {below / draws:.1%}, above {above / draws:.1%}")


def baseline_size() -> None:
    rng = np.random.default_rng(0)
    names = tuple(f"ILSVRC2012_val_{i + 1:08d}.JPEG" for i in range(POPULATION))
    labels = rng.integers(0, 1000, POPULATION)
    topk = rng.integers(0, 1000, (POPULATION, 5))
    right = rng.random(POPULATION) < 0.75
    topk[right, 0] = labels[right]
    info = BaselineInfo(
        model="bench", run_id="r", created="", checkpoint_sha256="0" * 64, transform="t", dataset_fingerprint="f",
        dataset="d", dataset_images=POPULATION, population=POPULATION, images=POPULATION, top1=75.0, top5=76.0,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = save_baseline(Path(folder), Baseline(info, ImagePredictions("bench", names, labels, topk), Path("bench.parquet")))
        print(f"baseline file for {POPULATION:,} images (random top-2..5, the worst case to compress): "
              f"{path.stat().st_size / 1024:,.0f} KB")


if __name__ == "__main__":
    interval_table()
    coverage()
    baseline_size()
