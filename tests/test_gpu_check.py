"""``benchmarks/gpu_check.py --dry-run``: the GPU check's every stage, on the CPU with tiny sizes.

The GPU machine is at hand for minutes now and then; this keeps the one prepared command from
rotting between two such moments. timm's ``benchmark.py`` and ``validate.py`` are not part of
this repository (``make gpu-wheels`` copies them from a timm checkout); here they are stand-ins
that take the same arguments, print results in timm's format and log what they were asked,
so the test can hold each setting to the flags timm's scripts must get. The wheels folder holds
one hand-made wheel, so the install stage runs ``pip install --no-index --no-deps --target``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BENCHMARK_STANDIN = '''
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--model"); p.add_argument("--bench"); p.add_argument("-b", "--batch-size", type=int)
p.add_argument("--device"); p.add_argument("--num-warm-iter"); p.add_argument("--num-bench-iter")
p.add_argument("--amp", action="store_true"); p.add_argument("--amp-dtype", default="float16")
p.add_argument("--channels-last", action="store_true"); p.add_argument("--torchcompile", nargs="?", const="inductor")
a = p.parse_args()
with open(os.environ["STANDIN_LOG"], "a") as log:
    log.write(json.dumps({"script": "benchmark.py", **vars(a)}) + "\\n")
print("--result")
print(json.dumps({"model": a.model, "infer_samples_per_sec": 100.0, "infer_batch_size": a.batch_size}, indent=4))
'''

VALIDATE_STANDIN = '''
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("data"); p.add_argument("--model"); p.add_argument("--checkpoint"); p.add_argument("-b", type=int)
p.add_argument("-j", type=int); p.add_argument("--device"); p.add_argument("--log-freq"); p.add_argument("--class-map")
a = p.parse_args()
assert os.path.isfile(a.checkpoint) and os.path.isdir(a.data) and os.path.isfile(a.class_map)
with open(os.environ["STANDIN_LOG"], "a") as log:
    log.write(json.dumps({"script": "validate.py", **vars(a)}) + "\\n")
print("--result")
print(json.dumps({"model": a.model, "top1": 100.0, "top5": 100.0}, indent=4))
'''


def hand_made_wheel(folder: Path) -> Path:
    """A wheel of one module, ``gpu_check_probe``, written by hand (no build backend needed)."""
    files = {"gpu_check_probe.py": b"INSTALLED = True\n",
             "gpu_check_probe-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: gpu-check-probe\nVersion: 0.1\n",
             "gpu_check_probe-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for name, data in files.items()
    ) + "gpu_check_probe-0.1.dist-info/RECORD,,\n"
    wheel = folder / "gpu_check_probe-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("gpu_check_probe-0.1.dist-info/RECORD", record)
    return wheel


@pytest.mark.slow
def test_the_dry_run_runs_every_stage_and_writes_one_summary(tmp_path: Path) -> None:
    timm = tmp_path / "timm"
    timm.mkdir()
    (timm / "benchmark.py").write_text(BENCHMARK_STANDIN, encoding="utf-8")
    (timm / "validate.py").write_text(VALIDATE_STANDIN, encoding="utf-8")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    hand_made_wheel(wheels)
    log, out = tmp_path / "standin.log", tmp_path / "out" / "gpu-check.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--dry-run", "--timm", str(timm), "--wheels", str(wheels),
         "--out", str(out), "--budget", "600"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**__import__("os").environ, "STANDIN_LOG": str(log), "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = out.read_text(encoding="utf-8")
    figures = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    stages = {stage["name"]: stage for stage in figures["stages"]}
    assert {name: stage["status"] for name, stage in stages.items()} == {
        "environment": "ok",
        "install zoo from wheels": "ok",
        "throughput bf16 AMP, channels_last, batch 2": "ok",
        "CUDA-marked tests": "ok",
        "evaluation vs validate.py": "ok",
    }
    assert "gpu_check_probe-0.1-py3-none-any.whl" in stages["install zoo from wheels"]["result"]["wheels"]
    # every CUDA-marked test was collected and, without a GPU, skipped
    tests = stages["CUDA-marked tests"]["result"]
    assert tests["counts"].get("skipped", 0) >= 3 and not tests["counts"].get("failed")
    assert "tests/test_bench_cuda.py" in tests["files"]

    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    benchmarks = [c for c in calls if c["script"] == "benchmark.py"]
    assert [(c["amp"], c["amp_dtype"], c["channels_last"], c["batch_size"], c["device"], c["torchcompile"])
            for c in benchmarks] == [(True, "bfloat16", True, 2, "cpu", None)]
    validated = sorted(c["model"] for c in calls if c["script"] == "validate.py")
    assert validated == ["mobilenetv2_100", "mobilenetv2_110d"]  # the one-model run is the first of the variants
    assert all(c["device"] == "cpu" and c["j"] == 2 and c["b"] == 8 for c in calls if c["script"] == "validate.py")

    result = stages["throughput bf16 AMP, channels_last, batch 2"]["result"]
    assert result["medians"]["zoo"] > 0 and result["medians"]["bare"] > 0 and result["medians"]["timm"] == 100.0
    assert (result["dtype"], result["channels_last"], result["batch_size"]) == ("bf16", True, 2)
    assert f"{result['ratios']['zoo/timm']['median']:.3f}" in summary
    evaluation = stages["evaluation vs validate.py"]["result"]
    assert (evaluation["images"], evaluation["device"], evaluation["variants"]) == (16, "cpu", ["mobilenetv2_100", "mobilenetv2_110d"])
    assert evaluation["rounds"][0]["top1_zoo"] >= 87.5  # each image sits in the folder of its own top-1 class
    for heading in ("## Throughput: zoo bench beside timm's benchmark.py and a bare loop",
                    "## Evaluation: zoo's accuracy path beside timm's validate.py", "## CUDA-marked tests",
                    "beside timm's published figures (stated, not asserted)"):
        assert heading in summary
    assert "stands in for the three" in summary
