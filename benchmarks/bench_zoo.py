"""Speed of the whole zoo: ``zoo list`` and ``zoo verify --all --only config,params,flops``.

Prints, for this tree (and, with ``--before TREE``, for another checkout of zoo, run the
same way one after the other): wall seconds, CPU seconds and peak memory of each command,
and whether ``zoo list`` imported torch. On a shared machine the CPU seconds are the steadier
figure: wall time includes waiting for a core. Targets (issue #12): ``zoo list`` under 1 s without
torch; verify at least 3x faster than before with no higher peak memory.

    python benchmarks/bench_zoo.py --index /path/to/hfdocs/source/models/ --before /tmp/old-zoo
    python benchmarks/bench_zoo.py --index ... --shard 1/10   # a deterministic tenth of the models

Each command runs in a fresh interpreter that reports its own peak RSS and CPU time at exit
(``resource.getrusage``), so figures of one run are not mixed with another's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from zoo_process import run_zoo_process  # a sibling module: this folder is on the path when a script runs

ROOT = Path(__file__).resolve().parents[1]

def run_zoo(tree: Path, args: list[str]) -> dict:
    """One ``zoo ARGS`` run with ``tree`` first on the path; its own figures."""
    return run_zoo_process(tree, args, cwd=tempfile.gettempdir())[0]


def bench_list(tree: Path, index: str, repeats: int) -> dict:
    runs = [run_zoo(tree, ["list", "--index", index]) for _ in range(repeats)]
    return {
        "wall_s": statistics.median(r["process_wall"] for r in runs),
        "cpu_s": statistics.median(r["cpu"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "torch_imported": any(r["torch"] for r in runs),
    }


def bench_verify(tree: Path, index: str, shard: str | None) -> dict:
    args = ["verify", "--all", "--only", "config,params,flops", "--index", index, "--no-record"]
    if shard:
        args += ["--shard", shard]
    r = run_zoo(tree, args)
    return {"wall_s": r["process_wall"], "cpu_s": r["cpu"], "peak_mb": r["peak_mb"], "exit": r["code"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=os.environ.get("ZOO_BENCH_INDEX", str(ROOT / "metadata")), help="cards folder or model-index file")
    parser.add_argument("--before", type=Path, default=None, help="another zoo checkout to compare with (e.g. a git worktree of main)")
    parser.add_argument("--shard", default=None, help="only K/N of the models for the verify figure")
    parser.add_argument("--list-repeats", type=int, default=5)
    parser.add_argument("--skip-verify", action="store_true")
    opts = parser.parse_args()

    trees = [("this tree", ROOT)] + ([("before", opts.before.resolve())] if opts.before else [])
    print(f"index: {opts.index}" + (f" (shard {opts.shard})" if opts.shard else ""))
    results = {}
    for label, tree in trees:
        figures = bench_list(tree, opts.index, opts.list_repeats)
        results[(label, "list")] = figures
        print(
            f"zoo list    [{label}]: {figures['wall_s']:.2f} s wall, {figures['cpu_s']:.2f} s CPU (medians of {opts.list_repeats}), "
            f"peak {figures['peak_mb']:.0f} MB, torch imported: {figures['torch_imported']}"
        )
    if not opts.skip_verify:
        for label, tree in trees:
            figures = bench_verify(tree, opts.index, opts.shard)
            results[(label, "verify")] = figures
            print(f"zoo verify  [{label}]: {figures['wall_s']:.1f} s wall, {figures['cpu_s']:.1f} s CPU, peak {figures['peak_mb']:.0f} MB (exit {figures['exit']})")
    if opts.before and not opts.skip_verify:
        new, old = results[("this tree", "verify")], results[("before", "verify")]
        print(
            f"verify speed-up: {old['wall_s'] / new['wall_s']:.1f}x wall, {old['cpu_s'] / new['cpu_s']:.1f}x CPU; "
            f"peak memory {new['peak_mb']:.0f} MB vs {old['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
