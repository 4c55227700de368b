"""One ``zoo`` command in a fresh interpreter that reports its own figures at exit.

The child measures itself with ``resource.getrusage`` (CPU time and peak RSS, its own and of the
processes it started, e.g. the one that draws a report's plots), so the figures of one command
are not mixed with another's; ``BENCH_MEMORY_CAP`` (bytes) caps its address space, and a child
that reaches the cap reports the exit "out of memory".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Union

CHILD = """
import json, os, resource, runpy, sys, time
cap = int(os.environ.get("BENCH_MEMORY_CAP") or 0)
if cap:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
started = time.perf_counter()
sys.argv = ["zoo", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("zoo", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
except MemoryError:
    code = "out of memory"
usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print("BENCH " + json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
      "children_cpu": children.ru_utime + children.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
      "children_peak_mb": children.ru_maxrss / 1024, "torch": "torch" in sys.modules, "code": code}), file=sys.stderr)
"""


def run_zoo_process(tree: Path, args: list[str], cwd: Union[str, Path], env: Optional[dict[str, str]] = None) -> tuple[dict, str]:
    """``zoo ARGS`` with ``tree`` first on the path, in ``cwd``, with ``env`` added to the
    environment: the child's figures (``process_wall`` added: the whole process, timed from
    outside) and its stderr."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=cwd, env={**os.environ, "PYTHONPATH": str(tree), **(env or {})},
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    line = next((l for l in done.stderr.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"zoo {' '.join(args[:1])} with {tree} reported nothing:\n{done.stderr[-3000:]}")
    return {**json.loads(line[6:]), "process_wall": wall}, done.stderr


__all__ = ["CHILD", "run_zoo_process"]
