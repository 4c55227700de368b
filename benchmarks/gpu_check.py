"""The GPU in one call: every GPU figure zoo claims, measured in one prepared run, as one Markdown summary.

Meant for a GPU machine that is at hand for minutes and reaches no network (``make gpu-check``
there, after ``make gpu-wheels`` here filled ``.gpu-wheels/``: see ``benchmarks/gpu_prep.py``).
Stages, each a fresh process, in the order that keeps the most wanted figures if time runs out:

1. install: zoo's wheel and the wheels the machine lacks, ``pip install --no-index --no-deps
   --target`` (no network), then ``import zoo`` from there;
2. throughput, headline setting: ``bench_vs_timm.py`` (``zoo bench`` beside a bare timing loop
   and timm's ``benchmark.py``, interleaved fresh processes): mobilenetv2_100, fp16 AMP,
   channels_last; its img/s is set beside timm's published RTX 4090 and RTX 5090 figures;
3. the CUDA-marked tests (``pytest -m cuda`` on the test files that carry the mark);
4. evaluation: ``bench_vs_validate.py`` on CUDA, generated JPEGs, one model and four variants
   sharing decode, beside timm's ``validate.py``; eval img/s beside forward-only img/s;
5. throughput, the other settings: bf16 AMP channels_last, and fp16 AMP channels_last under
   ``torch.compile``.

The targets of issue 22, computed here and written in the summary (met or missed, never
asserted): zoo bench / timm benchmark.py >= 0.97 at every setting; four variants sharing
decode >= 2x four validate.py runs. The summary is written again after every stage, so a run
cut short still leaves what it measured; a stage that would not fit in ``--budget`` seconds is
skipped and named.

    python3 benchmarks/gpu_check.py --wheels .gpu-wheels --out gpu-check.md      # on the GPU machine
    .venv/bin/python benchmarks/gpu_check.py --dry-run --out /tmp/gpu-check.md   # here: the same stages on the CPU, tiny

``--dry-run`` runs every stage on the CPU with tiny sizes (batch 2, 16 images, one round; bf16
instead of fp16 autocast, no torch.compile), so the test suite keeps this script working.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
MODEL = "mobilenetv2_100"
RATIO_TARGET = 0.97
"""zoo bench / timm benchmark.py, at every setting (issue 22)."""
SHARED_TARGET = 2.0
"""Four variants sharing decode in one zoo process / four validate.py runs (issue 22)."""
PUBLISHED = (
    ("RTX 4090", "benchmark-infer-amp-nhwc-pt240-cu124-rtx4090.csv", "AMP, NHWC, torch 2.4.0, CUDA 12.4"),
    ("RTX 5090", "benchmark-infer-amp-nchw-pt291-cu130-5090.csv", "AMP, NCHW, torch 2.9.1, CUDA 13.0"),
    ("RTX 5090", "benchmark-infer-amp-nchw-pt291-cu130-5090-dynamo.csv", "AMP, NCHW, torch.compile, torch 2.9.1, CUDA 13.0"),
)
"""timm's published inference tables quoted beside the measured figure (stated, not asserted)."""


@dataclass(frozen=True)
class Setting:
    """One throughput setting of ``bench_vs_timm.py``."""

    name: str
    dtype: str
    channels_last: bool
    compile: bool
    batch_size: int
    rounds: int
    estimate_s: float
    """How long it is expected to take, to decide whether it still fits."""

    @property
    def words(self) -> str:
        parts = [f"{self.dtype} AMP" if self.dtype != "fp32" else "fp32", "channels_last" if self.channels_last else "NCHW"]
        return ", ".join(parts + (["torch.compile"] if self.compile else []) + [f"batch {self.batch_size}"])


@dataclass(frozen=True)
class Plan:
    device: str
    settings: list[Setting]
    images: int
    workers: int
    eval_batch: int
    eval_rounds: int
    variants: int
    """How many MobileNet V2 variants share decode in one zoo process."""
    timm_iters: int
    bare_seconds: float
    skipped: list[str] = field(default_factory=list)
    """Parts of the real run a dry run leaves out, and why."""


def real_plan(args: argparse.Namespace) -> Plan:
    rounds = args.rounds
    return Plan(
        device="cuda",
        settings=[
            Setting("fp16-nhwc", "fp16", True, False, 512, rounds, 40.0 * rounds),
            Setting("bf16-nhwc", "bf16", True, False, 512, rounds, 40.0 * rounds),
            Setting("fp16-nhwc-compile", "fp16", True, True, 512, 1, 150.0),
        ],
        images=args.images or 2000, workers=args.workers or 16, eval_batch=128, eval_rounds=1, variants=4,
        timm_iters=40, bare_seconds=2.0,
    )


def dry_plan(args: argparse.Namespace) -> Plan:
    return Plan(
        device="cpu",
        settings=[Setting("bf16-nhwc", "bf16", True, False, 2, 1, 60.0)],
        images=args.images or 16, workers=args.workers or 2, eval_batch=8, eval_rounds=1, variants=2,
        timm_iters=2, bare_seconds=0.2,
        skipped=["dry run on the CPU: one throughput setting, bf16 AMP channels_last (the CPU's AMP dtype), stands in "
                 "for the three (fp16 and bf16 AMP channels_last, and under torch.compile)",
                 "dry run: two variants share decode instead of four (the same code, half the processes)"],
    )


# --------------------------------------------------------------------------- stages


class Skip(Exception):
    """A stage that cannot run here, and why (not a failure)."""


@dataclass
class Stage:
    name: str
    status: str = "not run"
    """ok, failed, skipped (with why), not run."""
    seconds: float = 0.0
    detail: str = ""
    result: Any = None


class Check:
    """The run: stages, the time budget, and the summary written after each stage."""

    def __init__(self, args: argparse.Namespace, plan: Plan) -> None:
        self.args, self.plan = args, plan
        self.started = time.perf_counter()
        self.stages: list[Stage] = []
        self.site = Path(tempfile.mkdtemp(prefix="zoo-gpu-site-"))
        self.work = Path(tempfile.mkdtemp(prefix="zoo-gpu-work-"))
        self.env = dict(os.environ)
        self.facts: dict[str, str] = {}

    def left(self) -> float:
        return self.args.budget - (time.perf_counter() - self.started)

    def stage(self, name: str, estimate: float, work: Any) -> Stage:
        stage = Stage(name)
        self.stages.append(stage)
        if estimate > self.left():
            stage.status, stage.detail = "skipped", f"would not fit: {self.left():.0f} s of the budget left, about {estimate:.0f} s needed"
        else:
            start = time.perf_counter()
            try:
                stage.result = work()
                stage.status = "ok"
            except Skip as exc:
                stage.status, stage.detail = "skipped", str(exc)
            except Exception as exc:  # noqa: BLE001 - a stage that breaks is reported; the others still run
                stage.status, stage.detail = "failed", f"{type(exc).__name__}: " + _tail(str(getattr(exc, "stderr", "") or exc))
            stage.seconds = time.perf_counter() - start
        self.write()
        return stage

    def python(self, *argv: str, timeout: float, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *argv], cwd=cwd, env=self.env, capture_output=True, text=True,
                              timeout=max(timeout, 1.0), check=True)

    # ---------------------------------------------------------------- the stages' work

    def install(self) -> dict[str, str]:
        wheels = sorted(Path(self.args.wheels).glob("*.whl"))
        if self.args.dry_run:  # wheels made for the GPU machine's Python: here only those this Python takes
            from packaging.tags import sys_tags
            from packaging.utils import parse_wheel_filename

            here = set(sys_tags())
            wheels = [w for w in wheels if parse_wheel_filename(w.name)[3] & here]
        if not wheels:
            why = f"no wheels in {self.args.wheels}: run `make gpu-wheels` here first"
            if self.args.dry_run:
                raise Skip(why + " (dry run: zoo and its needs as installed)")
            raise ValueError(why)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-compile",
                        "--disable-pip-version-check", "--target", str(self.site), *map(str, wheels)],
                       check=True, capture_output=True, text=True, timeout=300)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), self.env.get("PYTHONPATH", "")]))
        probe = ("import json, zoo, pydantic, torch, timm; print(json.dumps({'zoo': zoo.__file__, 'pydantic': pydantic.VERSION, "
                 "'torch': torch.__version__, 'timm': timm.__version__}))")
        out = self.python("-c", probe, timeout=120, cwd=self.work)  # not from the tree: the installed zoo
        found = json.loads(out.stdout.strip().splitlines()[-1])
        return {"wheels": ", ".join(w.name for w in wheels), **found}

    def timm_dir(self) -> Optional[Path]:
        """benchmark.py and validate.py of the timm installed here, else of timm's newest commit."""
        base = (Path(self.args.timm) if self.args.timm else Path(self.args.wheels) / "timm").resolve()
        if (base / "benchmark.py").is_file():
            return base
        version = self.facts.get("timm", "")
        for ref in (f"v{version}", "HEAD"):
            if (base / ref / "benchmark.py").is_file():
                self.facts["timm scripts"] = f"{base / ref}" + ("" if ref != "HEAD" else f" (timm's newest commit; no v{version} folder)")
                return base / ref
        return None

    def throughput(self, setting: Setting) -> dict[str, Any]:
        timm = self.timm_dir()
        out = self.work / f"timm-{setting.name}.json"
        argv = [str(BENCHMARKS / "bench_vs_timm.py"), "--model", MODEL, "--device", self.plan.device, "--dtype", setting.dtype,
                "--batch-size", str(setting.batch_size), "--rounds", str(setting.rounds), "--no-again", "--json", str(out),
                "--timm-iters", str(self.plan.timm_iters), "--bare-seconds", str(self.plan.bare_seconds),
                "--timm", str(timm or self.work / "no-timm")]
        argv += ["--channels-last"] if setting.channels_last else []
        argv += ["--compile"] if setting.compile else []
        argv += ["--threads", str(os.cpu_count() or 1)]
        self.python(*argv, timeout=self.left())
        return json.loads(out.read_text(encoding="utf-8"))

    def cuda_tests(self) -> dict[str, Any]:
        files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                       if re.search(r"mark\.cuda", p.read_text(encoding="utf-8")))
        done = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider", *files],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=max(self.left(), 1.0))
        last = [line for line in done.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
        counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", last[0])}
        if done.returncode not in (0, 5):  # 5: nothing collected
            raise ValueError(f"pytest exited {done.returncode}: {last[0]}\n{_tail(done.stdout)}")
        return {"files": files, "summary": last[0], "counts": counts}

    def evaluation(self) -> dict[str, Any]:
        timm = self.timm_dir()
        out = self.work / "validate.json"
        argv = [str(BENCHMARKS / "bench_vs_validate.py"), "--device", self.plan.device, "--images", str(self.plan.images),
                "--workers", str(self.plan.workers), "--batch-size", str(self.plan.eval_batch),
                "--rounds", str(self.plan.eval_rounds), "--variants", str(self.plan.variants), "--json", str(out),
                "--timm", str(timm or self.work / "no-timm")]
        done = self.python(*argv, timeout=self.left())
        if not out.is_file():
            raise ValueError(_tail(done.stdout or "bench_vs_validate.py wrote nothing"))
        return json.loads(out.read_text(encoding="utf-8"))

    def environment(self) -> dict[str, str]:
        probe = ("import json, os, platform, torch, timm; c = torch.cuda.is_available(); print(json.dumps({"
                 "'device': torch.cuda.get_device_name() if c else platform.processor() or 'cpu', "
                 "'cuda': torch.version.cuda or 'none', 'torch': torch.__version__, 'timm': timm.__version__, "
                 "'python': platform.python_version(), 'cpus': str(os.cpu_count())}))")
        return json.loads(self.python("-c", probe, timeout=120).stdout.strip().splitlines()[-1])

    # ---------------------------------------------------------------- the run

    def run(self) -> None:
        env = self.stage("environment", 10, self.environment)
        self.facts.update(env.result or {})
        installed = self.stage("install zoo from wheels", 30, self.install)
        self.facts.update({k: v for k, v in (installed.result or {}).items() if k in ("zoo", "pydantic")})
        first, *others = self.plan.settings
        self.stage(f"throughput {first.words}", first.estimate_s, lambda: self.throughput(first))
        self.stage("CUDA-marked tests", 60, self.cuda_tests)
        self.stage("evaluation vs validate.py", 120 if self.plan.device == "cuda" else 60, self.evaluation)
        for setting in others:
            self.stage(f"throughput {setting.words}", setting.estimate_s, lambda s=setting: self.throughput(s))
        self.write()

    def write(self) -> None:
        text = summary(self)
        target = Path(self.args.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
        raw = target.with_suffix(".json")
        raw.write_text(json.dumps({"facts": self.facts, "stages": [vars(s) for s in self.stages]}, indent=2, default=str) + "\n",
                       encoding="utf-8")


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(str(text).strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- the summary


def published_figures(timm: Optional[Path]) -> list[tuple[str, str, Optional[float], Optional[int]]]:
    """(GPU, conditions, img/s, batch) of MODEL in each of timm's published tables found."""
    found = []
    for gpu, table, words in PUBLISHED:
        path = next((p for p in ([timm / "results" / table, timm.parent / "results" / table] if timm else []) if p.is_file()), None)
        value, batch = None, None
        if path is not None:
            with path.open(newline="", encoding="utf-8") as handle:
                row = next((r for r in csv.DictReader(handle) if r.get("model") == MODEL), None)
            if row:
                value, batch = float(row["infer_samples_per_sec"]), int(row["infer_batch_size"])
        found.append((gpu, f"{words} ({table})", value, batch))
    return found


def _fmt(value: Optional[float], digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _met(value: Optional[float], target: float) -> str:
    if value is None:
        return "not measured"
    return f"{'met' if value >= target else 'MISSED'} (target >= {target:g})"


def summary(check: Check) -> str:
    plan, facts = check.plan, check.facts
    elapsed = time.perf_counter() - check.started
    lines = [
        "# zoo GPU check" + (" (dry run on the CPU)" if check.args.dry_run else ""),
        "",
        f"{facts.get('device', '?')} · CUDA {facts.get('cuda', '?')} · torch {facts.get('torch', '?')} · "
        f"timm {facts.get('timm', '?')} · Python {facts.get('python', '?')} · {facts.get('cpus', '?')} CPUs · "
        f"{elapsed:.0f} s of a {check.args.budget:.0f} s budget",
        "",
    ]
    if "zoo" in facts:
        lines += [f"zoo installed from its wheel (`{facts['zoo']}`), pydantic {facts.get('pydantic', '?')}; "
                  "the benchmarks run zoo from this tree.", ""]
    if "timm scripts" in facts:
        lines += [f"timm's benchmark.py and validate.py: `{facts['timm scripts']}`.", ""]
    lines += ["## Stages", "", "| stage | status | seconds | detail |", "| --- | --- | ---: | --- |"]
    for stage in check.stages:
        detail = stage.detail.replace("\n", " ").replace("|", "/")[:300]
        lines.append(f"| {stage.name} | {stage.status} | {stage.seconds:.0f} | {detail} |")
    for note in plan.skipped:
        lines.append(f"| — | left out | 0 | {note} |")

    throughput = [(s, st.result) for s in plan.settings for st in check.stages
                  if st.name == f"throughput {s.words}" and st.status == "ok"]
    if throughput:
        lines += ["", "## Throughput: zoo bench beside timm's benchmark.py and a bare loop", "",
                  f"{MODEL}, {plan.device}; medians of interleaved fresh processes.", "",
                  "| setting | zoo img/s | bare img/s | timm img/s | zoo / timm | zoo / bare | zoo / timm target |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for setting, result in throughput:
            medians, ratios = result["medians"], result["ratios"]
            zoo_timm = ratios.get("zoo/timm", {}).get("median")
            lines.append(f"| {setting.words} | {_fmt(medians.get('zoo'))} | {_fmt(medians.get('bare'))} | "
                         f"{_fmt(medians.get('timm'))} | {_fmt(zoo_timm, 3)} | {_fmt(ratios['zoo/bare']['median'], 3)} | "
                         f"{_met(zoo_timm, RATIO_TARGET)} |")
        headline = throughput[0][1]["medians"].get("zoo") if throughput[0][0] is plan.settings[0] else None
        lines += ["", f"### {MODEL} AMP channels_last beside timm's published figures (stated, not asserted)", "",
                  "| where | conditions | img/s | batch |", "| --- | --- | ---: | ---: |",
                  f"| this machine: zoo bench | {plan.settings[0].words} | {_fmt(headline)} | {plan.settings[0].batch_size} |"]
        for gpu, words, value, batch in published_figures(check.timm_dir()):
            lines.append(f"| {gpu} (timm's table) | {words} | {_fmt(value)} | {batch or '—'} |")

    evaluation = next((st.result for st in check.stages if st.name == "evaluation vs validate.py" and st.status == "ok"), None)
    if evaluation:
        medians, first = evaluation["medians"], evaluation["rounds"][0]
        lines += ["", "## Evaluation: zoo's accuracy path beside timm's validate.py", "",
                  f"{evaluation['images']} generated JPEGs, batch {evaluation['batch_size']}, {evaluation['workers']} workers, "
                  f"{evaluation['device']} fp32; variants {', '.join(evaluation['variants'])}.", "",
                  "| figure | value | target |", "| --- | ---: | --- |",
                  f"| one model: validate.py time / zoo time | {_fmt(medians['one'], 2)} | — |",
                  f"| {len(evaluation['variants'])} variants sharing decode: {len(evaluation['variants'])} validate.py runs / "
                  f"one zoo process | {_fmt(medians['four'], 2)} | {_met(medians['four'], SHARED_TARGET)} |",
                  f"| zoo eval img/s / forward-only img/s | {_fmt(medians['eval_over_forward'], 2)} | — |",
                  f"| zoo eval img/s | {_fmt(first['eval_images_per_s'])} | — |",
                  f"| forward-only img/s (same model and batch) | {_fmt(first['forward_images_per_s'])} | — |",
                  f"| top-1, validate.py / zoo (a check: each image labelled with the model's own top-1) | "
                  f"{_fmt(first['top1_validate'], 3)} / {_fmt(first['top1_zoo'], 3)} | — |"]
    tests = next((st.result for st in check.stages if st.name == "CUDA-marked tests" and st.status == "ok"), None)
    if tests:
        lines += ["", "## CUDA-marked tests", "", f"`pytest -m cuda {' '.join(tests['files'])}`: {tests['summary']}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", default=str(ROOT / ".gpu-wheels"), help="the folder gpu_prep.py filled")
    parser.add_argument("--timm", default=None, help="a folder holding timm's benchmark.py and validate.py "
                        "(default: WHEELS/timm/v<installed timm>, else WHEELS/timm/HEAD)")
    parser.add_argument("--out", default="gpu-check.md", help="the Markdown summary (a .json of every figure beside it)")
    # A GPU machine is lent for about 15 minutes in all, its start included: one call must fit twice
    # (a rerun after a failed stage), so 6 minutes by default; 450 (within issue 22's 8 minutes) when
    # only one call is planned.
    parser.add_argument("--budget", type=float, default=360.0, help="seconds; a stage that would not fit is skipped (default 360)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per throughput setting")
    parser.add_argument("--images", type=int, default=None, help="generated JPEGs (default 2000; dry run 16)")
    parser.add_argument("--workers", type=int, default=None, help="decoding workers (default 16; dry run 2)")
    parser.add_argument("--dry-run", action="store_true", help="every stage on the CPU, tiny sizes")
    args = parser.parse_args()
    check = Check(args, dry_plan(args) if args.dry_run else real_plan(args))
    check.run()
    failed = [s.name for s in check.stages if s.status == "failed"]
    print(f"summary: {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
