"""Evaluation as whole processes: zoo's accuracy path beside timm's own ``validate.py`` on the
same generated JPEGs and the same (random, saved) weights, interleaved; and zoo's evaluation
images/s beside the bare forward pass at the same batch size.

Figures, each a median over ``--rounds`` interleaved rounds of fresh processes:

* one model: wall time of ``validate.py`` / wall time of zoo (target >= 1.5);
* four MobileNet V2 variants: four ``validate.py`` runs / one zoo process scoring all four on
  shared decoded batches (target >= 2.5);
* inside the zoo process: evaluation images/s / forward-only images/s of the same model at the
  same batch size, same threads and allocator (target >= 0.60).

Both sides get the same batch size and decoding workers. validate.py also runs one forward pass
of a random batch before its loop (a warm-up, part of the time its user waits); zoo runs none,
since a warm-up changes no prediction, so the first-call costs land in zoo's first real batch. zoo runs as a user gets it (tuned
allocator, ``zoo.measure.accuracy.measure_accuracy`` as ``zoo verify`` calls it); validate.py as
timm ships it, from ``--timm`` (never copied here). Top-1 of both is printed as a check: each
image sits in the folder of the first model's own top-1 class for it (timm's transform, one
image at a time), and validate.py gets ``--class-map`` with ImageNet's WordNet ids, so a
faithful evaluation reads (near) 100% on both sides.

Run from the repository root (about 6 minutes on 2 cores at the defaults):

    python benchmarks/bench_vs_validate.py [--images 200] [--rounds 3] [--batch-size 32] [--workers 2]
        [--device cuda] [--json FILE]

On CUDA (``--device cuda``) both sides evaluate on the GPU (validate.py ``--device cuda``), fp32,
and the bare forward pass is timed on the GPU with synchronisation. ``--json FILE`` also writes
every figure as JSON (``benchmarks/gpu_check.py`` reads it).

Fewer images weigh each process's start-up more (importing torch and timm, about 4 s, the
same on both sides), so the one-model ratio falls toward 1 as ``--images`` shrinks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from bench_eval import VARIANTS, write_jpegs  # noqa: E402
from zoo.measure.accuracy.data.synsets import imagenet_wnids  # noqa: E402

ZOO = """
import json, sys, time
import torch, timm
from bench_eval import card
from zoo.measure.accuracy.measure import AccuracyEntry, measure_accuracy
from zoo.measure.setup import setup_for_model
from zoo.measure.accuracy.options import EvalOptions
from zoo.measure.allocator import use_allocator
data, weights, batch, workers, allocator, device = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
names = sys.argv[7:]
models = {}
for name in names:
    model = timm.create_model(name)
    model.load_state_dict(torch.load(f"{weights}/{name}.pth", weights_only=True))
    models[name] = model.eval()
options = EvalOptions(data=data, batch_size=batch, workers=workers, device=device, progress=False, allocator=allocator)
scoring = time.perf_counter()
outcome = measure_accuracy([AccuracyEntry(card(n), m, setup_for_model(card(n), m)) for n, m in models.items()], options, None)
scored = time.perf_counter() - scoring
images = outcome.measurements[names[0]][0].conditions["images"]
top1 = {n: ms[0].value for n, ms in outcome.measurements.items()}
forward, timing = None, time.perf_counter()
if len(names) == 1:  # the bare forward pass of the same model, batch, threads and allocator
    on = torch.device(device)
    model, x = models[names[0]].to(on), torch.randn(batch, 3, 224, 224, device=on)
    sync = torch.cuda.synchronize if on.type == "cuda" else (lambda: None)
    with use_allocator(allocator), torch.inference_mode():
        model(x)
        sync()
        calls, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 3 or calls < 3:
            model(x)
            calls += 1
        sync()
        forward = calls * batch / (time.perf_counter() - t0)
print(json.dumps({"forward_seconds": time.perf_counter() - timing, "eval_images_per_s": images / scored,
                  "forward_images_per_s": forward, "top1": top1}))
"""


def env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def zoo_process(args: argparse.Namespace, data: Path, weights: Path, names: list[str]) -> dict:
    """One fresh zoo process; its wall time is measured from outside, as validate.py's is, less the
    seconds it spent timing the bare forward pass afterwards (a figure validate.py does not make)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", ZOO, str(data), str(weights), str(args.batch_size), str(args.workers), args.allocator,
         args.device, *names],
        env=env(), capture_output=True, text=True, check=False,
    )
    if out.returncode:
        raise SystemExit(f"zoo's evaluation failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    wall = time.perf_counter() - started
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "wall": wall - result["forward_seconds"]}


def label_by_prediction(staging: Path, data: Path, weights: Path, name: str, device: str = "cpu") -> None:
    """Move each generated JPEG into the WordNet-id folder of ``name``'s top-1 class for it, under
    timm's own eval transform, so that a correct evaluation scores (near) 100% top-1 on both sides
    and any difference in decoding or transform shows up as a lower figure."""
    import timm
    import torch
    from PIL import Image
    from timm.data import create_transform, resolve_data_config

    model = timm.create_model(name)
    model.load_state_dict(torch.load(weights / f"{name}.pth", weights_only=True))
    model.eval().to(device)
    transform = create_transform(**resolve_data_config({}, model=model), is_training=False)
    wnids = imagenet_wnids()
    paths = sorted(staging.rglob("*.JPEG"))
    with torch.inference_mode():
        for start in range(0, len(paths), 64):  # one image at a time through the transform, 64 at a time through the model
            chunk = paths[start:start + 64]
            inputs = []
            for path in chunk:
                with Image.open(path) as image:
                    inputs.append(transform(image.convert("RGB")))
            for path, top1 in zip(chunk, model(torch.stack(inputs).to(device)).argmax(dim=1).tolist()):
                folder = data / wnids[int(top1)]
                folder.mkdir(parents=True, exist_ok=True)
                path.rename(folder / path.name)


def validate_process(args: argparse.Namespace, data: Path, weights: Path, name: str) -> tuple[float, float]:
    command = [sys.executable, str(Path(args.timm) / "validate.py"), str(data), "--model", name,
               "--checkpoint", str(weights / f"{name}.pth"), "-b", str(args.batch_size), "-j", str(args.workers),
               "--device", args.device, "--log-freq", "1000", "--class-map", str(data.parent / "wnids.txt")]
    started = time.perf_counter()
    out = subprocess.run(command, cwd=args.timm, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if out.returncode:
        raise SystemExit(f"timm's validate.py failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    match = re.search(r'"top1":\s*([0-9.]+)', out.stdout)
    return wall, float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="generated JPEGs (default 200)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--allocator", choices=("default", "tuned"), default="tuned", help="zoo's (default: tuned)")
    parser.add_argument("--timm", default="/tmp/timm", help="a checkout of timm holding validate.py")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (both sides)")
    parser.add_argument("--variants", type=int, default=len(VARIANTS), help=f"how many of the {len(VARIANTS)} variants share decode")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    args.timm = str(Path(args.timm).resolve())
    if not (Path(args.timm) / "validate.py").exists():
        print(f"no validate.py in {args.timm}: pass --timm with a checkout of timm; nothing measured")
        return

    import timm
    import torch

    with tempfile.TemporaryDirectory(prefix="zoo-vs-validate-") as tmp:
        data, weights = Path(tmp) / "val", Path(tmp) / "weights"
        write_jpegs(Path(tmp) / "staging", args.images)
        weights.mkdir()
        torch.manual_seed(0)
        variants = list(VARIANTS[: args.variants])
        for name in variants:
            torch.save(timm.create_model(name).state_dict(), weights / f"{name}.pth")
        label_by_prediction(Path(tmp) / "staging", data, weights, VARIANTS[0], args.device)
        # validate.py maps folders to ImageNet's 1,000 class indices as zoo does (WordNet id order)
        (Path(tmp) / "wnids.txt").write_text("\n".join(imagenet_wnids()) + "\n", encoding="utf-8")
        print(f"{args.images} JPEGs 500x375, batch {args.batch_size}, {args.workers} workers, {args.device} fp32, zoo allocator "
              f"{args.allocator}; {args.rounds} interleaved rounds of fresh processes; load {os.getloadavg()[0]:.2f}")
        one, four, share, rounds = [], [], [], []
        for number in range(args.rounds):
            v_one, v_top1 = validate_process(args, data, weights, VARIANTS[0])
            z_one = zoo_process(args, data, weights, [VARIANTS[0]])
            z_four = zoo_process(args, data, weights, variants)
            v_four = v_one + sum(validate_process(args, data, weights, n)[0] for n in variants[1:])
            one.append(v_one / z_one["wall"])
            four.append(v_four / z_four["wall"])
            share.append(z_one["eval_images_per_s"] / z_one["forward_images_per_s"])
            rounds.append({"validate_one_s": v_one, "zoo_one_s": z_one["wall"], "validate_four_s": v_four, "zoo_four_s": z_four["wall"],
                           "eval_images_per_s": z_one["eval_images_per_s"], "forward_images_per_s": z_one["forward_images_per_s"],
                           "top1_validate": v_top1, "top1_zoo": z_one["top1"][VARIANTS[0]]})
            print(f"round {number + 1}: one model validate.py {v_one:.1f} s, zoo {z_one['wall']:.1f} s "
                  f"({one[-1]:.2f}x); four: validate.py {v_four:.1f} s, zoo {z_four['wall']:.1f} s ({four[-1]:.2f}x); "
                  f"zoo eval {z_one['eval_images_per_s']:.1f} img/s vs forward {z_one['forward_images_per_s']:.1f} "
                  f"img/s ({share[-1]:.2f}); top-1 validate.py {v_top1:.3f}, zoo {z_one['top1'][VARIANTS[0]]:.3f}; "
                  f"load {os.getloadavg()[0]:.2f}")
        summary: dict[str, object] = {"images": args.images, "batch_size": args.batch_size, "workers": args.workers,
                                      "device": args.device, "allocator": args.allocator, "variants": variants,
                                      "rounds": rounds, "medians": {}}
        for key, label, values, target in (
            ("one", "one model, validate.py time / zoo time", one, 1.5),
            ("four", f"{len(variants)} variants, {len(variants)} validate.py runs / zoo shared decode", four, 2.5),
            ("eval_over_forward", "zoo eval img/s / bare forward img/s, same batch", share, 0.60),
        ):
            print(f"{label}: median {statistics.median(values):.2f} (range {min(values):.2f}-{max(values):.2f}; "
                  f"target >= {target})")
            summary["medians"][key] = statistics.median(values)  # type: ignore[index]
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
