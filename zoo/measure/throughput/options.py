"""How a throughput/latency benchmark runs: one frozen record, from flags, env vars or code.

Every option ends up in the measurement's conditions, so two runs can be told apart.

Example::

    >>> from zoo.measure.throughput.options import BenchOptions
    >>> BenchOptions(device="cpu", threads=2).batch_size_for("cpu")
    32
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any, Optional

from zoo.errors import InputError
from zoo.flags import FromEnvironment, env_vars, option
from zoo.measure.allocator import ALLOCATORS

DEVICES = ("auto", "cpu", "cuda")
"""Device choices; ``cuda:N`` is accepted too."""
DTYPES = ("fp32", "bf16", "fp16")
"""fp32 runs as is; bf16/fp16 run under ``torch.autocast`` (AMP), weights stay fp32."""
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")

DEFAULT_GPU_BATCH_SIZE = 256
"""The batch published GPU tables mostly use; halves on out-of-memory."""
DEFAULT_CPU_BATCH_SIZE = 32
"""Large enough to amortise per-call overhead, small enough to finish in seconds."""
DEFAULT_GPU_WARMUP_ITERS = 10
DEFAULT_CPU_WARMUP_ITERS = 3

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True)
class BenchOptions(FromEnvironment):
    """Options of one throughput/latency measurement (see module doc for an example)."""

    device: str = option(
        "auto",
        flag="--device",
        env="ZOO_DEVICE",
        kind="device",
        metavar="[auto|cpu|cuda|cuda:N]",
        help="Where to time: auto (CUDA if available), cpu, cuda, cuda:N.",
    )
    """auto (CUDA when available, else CPU), cpu, cuda or cuda:N."""
    dtype: str = option("fp32", flag="--dtype", env="ZOO_DTYPE", choices=DTYPES, help="fp32, or bf16/fp16 autocast (AMP).")
    """fp32, or bf16/fp16 autocast (AMP)."""
    channels_last: bool = option(
        False, flag="--channels-last", env="ZOO_CHANNELS_LAST", help="NHWC memory format for model and input."
    )
    """Run model and input in NHWC memory format."""
    compile: bool = option(
        False,
        flag="--compile",
        env="ZOO_COMPILE",
        help="torch.compile the model (compilation happens in warm-up, outside the figure).",
    )
    """Wrap the model in ``torch.compile`` (compilation happens in warm-up)."""
    compile_mode: Optional[str] = option(
        None, flag="--compile-mode", env="ZOO_COMPILE_MODE", choices=COMPILE_MODES, help="torch.compile mode.",
        default_text="torch's",
    )
    """``torch.compile`` mode; None is torch's default."""
    compile_backend: str = option("inductor", env="ZOO_COMPILE_BACKEND")
    """``torch.compile`` backend ("eager" compiles the graph capture only; for tests)."""
    threads: Optional[int] = option(
        None,
        flag="--threads",
        env="ZOO_THREADS",
        minimum=1,
        default_text="torch's",
        help="CPU threads for torch (restored afterwards).",
    )
    """CPU threads for intra-op work (``torch.set_num_threads``); None leaves torch's."""
    batch_size: Optional[int] = option(
        None,
        flag="--batch-size",
        env="ZOO_BATCH_SIZE",
        minimum=1,
        default_text=f"{DEFAULT_GPU_BATCH_SIZE} on GPU, {DEFAULT_CPU_BATCH_SIZE} on CPU",
        help="Throughput batch; halves on out-of-memory and records the batch used.",
    )
    """Throughput batch; None is 256 on GPU, 32 on CPU."""
    latency_batch_size: int = 1
    warmup_iters: Optional[int] = option(None, env="ZOO_BENCH_WARMUP_ITERS")
    """Minimum warm-up iterations (at least 1: the first call also compiles); None is 10 on
    GPU, 3 on CPU."""
    warmup_seconds: float = option(1.0, env="ZOO_BENCH_WARMUP_SECONDS")
    """Minimum warm-up time (clocks ramp up, allocators grow), on top of warmup_iters."""
    rounds: int = option(
        5,
        flag="--rounds",
        env="ZOO_BENCH_ROUNDS",
        minimum=1,
        help="Timed rounds; the figure is their median, with IQR and min/max.",
    )
    """Timed rounds; the figure is their median, the spread their IQR and min/max."""
    round_seconds: float = option(1.0, env="ZOO_BENCH_ROUND_SECONDS")
    """Target length of one timed round; the iteration count is set from warm-up."""
    latency_min_iters: int = 10
    """Minimum batch-1 iterations per latency round."""
    progress: bool = True
    """Report the timing rounds on zoo's progress channel (bars on a terminal, lines when piped)."""
    allocator: str = option(
        "default",
        flag="--allocator",
        env="ZOO_ALLOCATOR",
        choices=ALLOCATORS,
        help="malloc as the process has it (what published figures were timed under) or tuned (glibc "
        "thresholds raised: no page faults per call); recorded, figures compare only under the same. "
        "Also the evaluation's unless --eval-allocator.",
    )
    """"default" or "tuned" (see :mod:`zoo.measure.allocator`)."""

    def __post_init__(self) -> None:
        if self.allocator not in ALLOCATORS:
            self._bad("allocator", self.allocator, f"use one of {', '.join(ALLOCATORS)}")
        if not _DEVICE_PATTERN.match(self.device):
            self._bad("device", self.device, "use auto, cpu, cuda or cuda:N")
        if self.dtype not in DTYPES:
            self._bad("dtype", self.dtype, f"use one of {', '.join(DTYPES)}")
        if self.compile_mode is not None and self.compile_mode not in COMPILE_MODES:
            self._bad("compile_mode", self.compile_mode, f"use one of {', '.join(COMPILE_MODES)}")
        for name in ("threads", "batch_size", "warmup_iters"):
            value = getattr(self, name)
            if value is not None and (_not_int(value) or value < 1):
                self._bad(name, value, "use a whole number of at least 1")
        for name in ("latency_batch_size", "rounds", "latency_min_iters"):
            value = getattr(self, name)
            if _not_int(value) or value < 1:
                self._bad(name, value, "use a whole number of at least 1")
        for name in ("warmup_seconds", "round_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self._bad(name, value, "use a number of seconds, 0 or more")

    @staticmethod
    def _bad(name: str, value: Any, hint: str) -> None:
        flag = "--" + name.replace("_", "-")
        raise InputError(
            f"bad benchmark option {flag}={value!r}",
            hint=f"{hint}; set it with {flag} or ${ENV_VARS.get(name, 'ZOO_' + name.upper())}",
        )

    # ------------------------------------------------------------------ derived values

    def batch_size_for(self, device_type: str) -> int:
        """The throughput batch to try first on a device of ``device_type`` ("cpu"/"cuda")."""
        if self.batch_size is not None:
            return self.batch_size
        return DEFAULT_GPU_BATCH_SIZE if device_type == "cuda" else DEFAULT_CPU_BATCH_SIZE

    def warmup_iters_for(self, device_type: str) -> int:
        """Minimum warm-up iterations on a device of ``device_type``."""
        if self.warmup_iters is not None:
            return self.warmup_iters
        return DEFAULT_GPU_WARMUP_ITERS if device_type == "cuda" else DEFAULT_CPU_WARMUP_ITERS

    @property
    def amp(self) -> bool:
        """Whether the run uses autocast (bf16 or fp16)."""
        return self.dtype != "fp32"

    # ------------------------------------------------------------------ records

    def as_scalars(self, prefix: str = "bench_") -> dict[str, Any]:
        """Every option as a flat ``{prefix + name: value}`` dict, for ``RunRecord.options``."""
        return {prefix + f.name: getattr(self, f.name) for f in fields(self)}

    def with_(self, **changes: Any) -> "BenchOptions":
        """A copy with ``changes`` (validated again)."""
        return replace(self, **changes)


ENV_VARS: dict[str, str] = env_vars(BenchOptions)
"""The environment variable declared for each option (read by ``BenchOptions.from_env``, i.e.
:func:`zoo.flags.from_environment`)."""


def _not_int(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int)


__all__ = [
    "BenchOptions",
    "COMPILE_MODES",
    "DEFAULT_CPU_BATCH_SIZE",
    "DEFAULT_GPU_BATCH_SIZE",
    "DEVICES",
    "DTYPES",
    "ENV_VARS",
]
