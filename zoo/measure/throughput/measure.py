"""Inference throughput (images/s) and batch-1 latency (p50/p90 ms) of one model.

The method lives in :mod:`zoo.measure.throughput.timing`; this module puts the model and its input
on the device, runs the method, and turns the figures into Measurement records with
every condition that shaped them. It never raises for a missing device or for running
out of memory: those become "unavailable" Measurements with the reason.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, ContextManager, Optional, Union

import torch

from zoo import progress
from zoo.measure.allocator import describe as describe_allocator
from zoo.measure.allocator import minor_faults, use_allocator
from zoo.measure.device import DeviceUnavailable, device_name, resolve_device
from zoo.measure.throughput.load import load_conditions, sample as load_sample
from zoo.measure.throughput.memory import (
    Halved,
    OutOfMemoryAtMinimum,
    allocated_memory,
    is_out_of_memory,
    peak_memory,
    reset_peak_memory,
    run_halving_on_oom,
)
from zoo.measure.throughput.options import BenchOptions
from zoo.measure.throughput.prepare import (
    AmpUnavailable,
    autocast_for,
    compiled,
    cudnn_autotune,
    is_compile_failure,
    model_for_benchmark,
    torch_threads,
)
from zoo.measure.throughput.timing import (
    TIMING_METRICS,
    Clock,
    LatencyTiming,
    Step,
    ThroughputTiming,
    stopwatches_for,
    time_latency,
    time_throughput,
)
from zoo.measure.setup import EvalSetup
from zoo.records import Measurement, Metric, ModelCard, Scalar, Uncertainty


@dataclass(frozen=True)
class InputSize:
    """The (channels, height, width) a model is timed at, and where that came from."""

    channels: int
    height: int
    width: int
    source: str

    def __str__(self) -> str:
        return f"{self.channels}x{self.height}x{self.width}"


def resolve_input_size(card: ModelCard, setup: EvalSetup) -> InputSize:
    """The input size of the card's resolved evaluation setup (the card's Image Size, else its library's config)."""
    channels, height, width = setup.input_size
    source = dict(setup.origin).get("input_size", "")
    claim = card.claim(Metric.IMAGE_SIZE)
    if claim is not None and source.startswith("card"):
        source = f"card {claim.field} ({claim.source})"
    elif setup.library == "timm" or not source:
        source = "timm pretrained_cfg input_size"
    return InputSize(int(channels), int(height), int(width), source)


def _as_side(value: object) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value.strip())
    return None


def measure_throughput(
    card: ModelCard,
    model: torch.nn.Module,
    options: BenchOptions,
    setup: EvalSetup,
    *,
    clock: Optional[Clock] = None,
) -> list[Measurement]:
    """Throughput, latency p50 and latency p90 of ``model`` under ``options``.

    Returns three Measurements (metrics "throughput", "latency_p50", "latency_p90").
    The model is left as found (device, memory format, train/eval flags); the thread
    count and cuDNN autotune flag are restored. ``clock`` replaces the host clock (tests).

    Example::

        measurements = measure_throughput(card, model, BenchOptions(device="cpu"), setup)
    """
    conditions: dict[str, Scalar] = _requested_conditions(options)
    try:
        device = resolve_device(options.device)
        conditions.update(device=str(device), device_name=device_name(device))
        input_size = resolve_input_size(card, setup)
        conditions.update(input_size=str(input_size), input_size_source=input_size.source)
        autocast_for(device, options.dtype)  # fail early: unusable AMP is "unavailable"
    except (DeviceUnavailable, AmpUnavailable) as exc:
        return [Measurement.unavailable(m, str(exc), conditions=dict(conditions)) for m in TIMING_METRICS]
    except Exception as exc:  # timm could not tell the model's input size
        reason = f"cannot tell the input size to time the model at: {_first_line(exc)}"
        return [Measurement.failed(m, reason, conditions=dict(conditions)) for m in TIMING_METRICS]

    run = _Run(card, model, options, device, input_size, conditions, clock)
    return run.measure()


class _Run:
    """One model's timing session: shared state of the throughput and latency phases."""

    def __init__(
        self,
        card: ModelCard,
        model: torch.nn.Module,
        options: BenchOptions,
        device: torch.device,
        input_size: InputSize,
        conditions: dict[str, Scalar],
        clock: Optional[Clock],
    ) -> None:
        self.card = card
        self.model = model
        self.options = options
        self.device = device
        self.input_size = input_size
        self.conditions = conditions
        self.throughput_watch, self.latency_watch = stopwatches_for(device, clock)
        self.progress: progress.Task = _progress_bar(card.name, "throughput", options, enabled=False)
        """The progress of the phase being timed (one task per phase: --rounds N shows N of N)."""
        self.faults_per_call: Optional[float] = None

    def measure(self) -> list[Measurement]:
        try:
            with contextlib.ExitStack() as stack:
                allocator = stack.enter_context(use_allocator(self.options.allocator))
                self.conditions["allocator"] = allocator
                threads = stack.enter_context(torch_threads(self.options.threads))
                autotune = stack.enter_context(cudnn_autotune(self.device))
                self.conditions["threads"] = threads
                if self.device.type == "cuda":
                    self.conditions["cudnn_benchmark"] = autotune
                return self._timed(stack)
        except Exception as exc:  # preparing the model (copy, move, compile) failed
            doing = "while being prepared for timing (copied, moved or compiled)"
            return [self._failure(m, exc, None, doing) for m in TIMING_METRICS]

    def _timed(self, stack: contextlib.ExitStack) -> list[Measurement]:
        """Both phases on the prepared model; its last reference goes when this returns,
        before ``stack`` releases the benchmark copy and the device cache."""
        bench_model = stack.enter_context(
            model_for_benchmark(self.model, self.device, channels_last=self.options.channels_last)
        )
        if self.options.compile:
            stack.callback(_reset_compiled_graphs)
            bench_model = compiled(bench_model, mode=self.options.compile_mode, backend=self.options.compile_backend)
        return [self._throughput(bench_model), *self._latency(bench_model)]

    # ------------------------------------------------------------------ phases

    def _input(self, batch_size: int) -> torch.Tensor:
        size = self.input_size
        generator = torch.Generator(device=self.device).manual_seed(0)
        x = torch.randn((batch_size, size.channels, size.height, size.width), generator=generator, device=self.device)
        if self.options.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _amp(self) -> ContextManager[object]:
        return autocast_for(self.device, self.options.dtype)

    def _throughput(self, bench_model: torch.nn.Module) -> Measurement:
        options = self.options
        requested = options.batch_size_for(self.device.type)
        self.conditions["batch_size_requested"] = requested

        def attempt(batch_size: int) -> tuple[ThroughputTiming, Optional[int], Optional[int]]:
            x = self._input(batch_size)
            step = _step(bench_model, x)
            reset_peak_memory(self.device)
            baseline = allocated_memory(self.device)
            faults: list[int] = []
            report_round = self._on_round(f"batch {batch_size}", "img/s")

            def on_round(index: int, value: float) -> None:
                faults.append(minor_faults())  # outside the timed block, like the progress bar
                report_round(index, value)

            with torch.inference_mode(), self._amp():
                timing = time_throughput(
                    step,
                    batch_size,
                    self.throughput_watch,
                    rounds=options.rounds,
                    round_seconds=options.round_seconds,
                    warmup_iters=options.warmup_iters_for(self.device.type),
                    warmup_seconds=options.warmup_seconds,
                    on_round=on_round,
                )
            # page faults per call over the timed rounds after the first (warm-up and the first
            # round fault the buffers in once under any allocator); None with a single round
            self.faults_per_call = (
                round((faults[-1] - faults[0]) / ((len(faults) - 1) * timing.iters_per_round), 1)
                if len(faults) > 1
                else None
            )
            return timing, baseline, peak_memory(self.device)

        start = load_sample()
        try:
            with self._phase("throughput"):
                halved = run_halving_on_oom(attempt, requested, self.device, on_halve=self._on_halve)
        except Exception as exc:
            return self._failure(Metric.THROUGHPUT.value, exc, requested)
        measurement = self._throughput_measurement(halved)
        measurement.conditions.update(load_conditions(start, load_sample()))
        return measurement

    def _latency(self, bench_model: torch.nn.Module) -> list[Measurement]:
        options = self.options
        batch_size = options.latency_batch_size
        start = load_sample()
        try:
            x = self._input(batch_size)
            with self._phase("latency"), torch.inference_mode(), self._amp():
                timing = time_latency(
                    _step(bench_model, x),
                    self.latency_watch,
                    batch_size=batch_size,
                    rounds=options.rounds,
                    round_seconds=options.round_seconds,
                    min_iters=options.latency_min_iters,
                    warmup_iters=options.warmup_iters_for(self.device.type),
                    warmup_seconds=options.warmup_seconds,
                    on_round=self._on_round(f"latency batch {batch_size}", "ms"),
                )
            del x
        except Exception as exc:
            return [self._failure(m, exc, batch_size) for m in TIMING_METRICS[1:]]
        load = load_conditions(start, load_sample())
        measurements = self._latency_measurements(timing)
        for measurement in measurements:
            measurement.conditions.update(load)
        return measurements

    # ------------------------------------------------------------------ records

    def _throughput_measurement(
        self, halved: Halved[tuple[ThroughputTiming, Optional[int], Optional[int]]]
    ) -> Measurement:
        timing, baseline, peak = halved.result
        spread = timing.images_per_second
        conditions = dict(self.conditions)
        conditions.update(
            batch_size=timing.batch_size,
            oom_halvings=halved.halvings,
            rounds=spread.count,
            iters_per_round=timing.iters_per_round,
            warmup_iters=timing.warmup.iterations,
            warmup_seconds=round(timing.warmup.seconds, 4),
            timer=timing.timer,
            throughput_min=spread.minimum,
            throughput_max=spread.maximum,
            minor_faults_per_call=self.faults_per_call,
        )
        if peak is not None:
            conditions["peak_memory_bytes"] = peak
        if baseline is not None:
            conditions["memory_before_batch_bytes"] = baseline
        notes = [
            f"median of {spread.count} rounds of {timing.iters_per_round} x batch {timing.batch_size}; "
            f"IQR {spread.q1:.4g}-{spread.q3:.4g}, min {spread.minimum:.4g}, max {spread.maximum:.4g} images/s"
        ]
        if halved.halvings:
            notes.append(
                f"batch {halved.requested_batch_size} ran out of memory; halved {halved.halvings} time(s) "
                f"to {timing.batch_size} ({halved.oom_messages[0]})"
            )
        return Measurement(
            metric=Metric.THROUGHPUT.value,
            status="ok",
            value=spread.median,
            unit="images/s",
            method=self._method(f"median images/s of {spread.count} timed rounds", timing),
            conditions=conditions,
            uncertainty=Uncertainty(kind="iqr", low=spread.q1, high=spread.q3),
            notes=notes,
        )

    def _latency_measurements(self, timing: LatencyTiming) -> list[Measurement]:
        base = dict(self.conditions)
        base.update(
            batch_size=timing.batch_size,
            rounds=timing.p50_ms.count,
            iters_per_round=timing.iters_per_round,
            samples=timing.sample_count,
            warmup_iters=timing.warmup.iterations,
            warmup_seconds=round(timing.warmup.seconds, 4),
            timer=timing.timer,
            latency_min_ms=timing.min_ms,
            latency_max_ms=timing.max_ms,
        )
        base.pop("batch_size_requested", None)
        out = []
        for metric, spread, q in (
            (Metric.LATENCY_P50.value, timing.p50_ms, 50),
            (Metric.LATENCY_P90.value, timing.p90_ms, 90),
        ):
            out.append(
                Measurement(
                    metric=metric,
                    status="ok",
                    value=spread.median,
                    unit="ms",
                    method=self._method(
                        f"p{q} of each round's batch-{timing.batch_size} calls, median of {spread.count} rounds",
                        timing,
                    ),
                    conditions=dict(base),
                    uncertainty=Uncertainty(kind="iqr", low=spread.q1, high=spread.q3),
                    notes=[
                        f"p{q} per round over {spread.count} rounds of {timing.iters_per_round} calls at "
                        f"batch {timing.batch_size}: IQR {spread.q1:.4g}-{spread.q3:.4g}, "
                        f"min {spread.minimum:.4g}, max {spread.maximum:.4g} ms"
                    ],
                )
            )
        return out

    def _method(self, what: str, timing: Union[ThroughputTiming, LatencyTiming]) -> str:
        options = self.options
        parts = [
            f"{what} after {timing.warmup.iterations} warm-up calls (excluded)",
            timing.timer,
            f"torch {torch.__version__} inference_mode",
            f"allocator {describe_allocator(str(self.conditions.get('allocator')))}",
        ]
        if options.amp:
            parts.append(f"autocast {options.dtype}")
        if options.channels_last:
            parts.append("channels_last")
        if options.compile:
            parts.append(f"torch.compile(backend={options.compile_backend}, mode={options.compile_mode or 'default'})")
        return "; ".join(parts)

    def _failure(
        self, metric: str, exc: BaseException, batch_size: Optional[int], doing: str = "while being timed"
    ) -> Measurement:
        conditions = dict(self.conditions)
        where = self.conditions.get("device_name", str(self.device))
        if isinstance(exc, OutOfMemoryAtMinimum):
            reason = (
                f"out of memory on {where} even at batch {exc.batch_size} ({exc.message}); "
                "free device memory or measure with --device cpu"
            )
            return Measurement.unavailable(metric, reason, conditions=conditions)
        message = _first_line(exc)
        if is_out_of_memory(exc):
            at = f" at batch {batch_size}" if batch_size is not None else ""
            reason = f"out of memory on {where}{at} ({message}); free device memory or lower --batch-size"
            return Measurement.unavailable(metric, reason, conditions=conditions)
        if self.options.compile and is_compile_failure(exc):
            reason = f"torch.compile (backend {self.options.compile_backend}) failed: {message}; run without --compile"
            return Measurement.unavailable(metric, reason, conditions=conditions)
        at = f" at batch {batch_size}" if batch_size is not None else ""
        return Measurement.failed(metric, f"the model failed {doing}{at}: {message}", conditions=conditions)

    # ------------------------------------------------------------------ progress

    def _phase(self, name: str) -> progress.Task:
        """A progress task for one phase's rounds, the current one for :meth:`_on_round`."""
        self.progress = _progress_bar(self.card.name, name, self.options)
        return self.progress

    def _on_round(self, label: str, unit: str) -> Callable[[int, float], None]:
        def report(index: int, value: float) -> None:
            self.progress.describe(f"{label}: {value:.4g} {unit}")
            self.progress.update(1)

        return report

    def _on_halve(self, old: int, new: int, message: str) -> None:
        progress.note(f"zoo: {self.card.name}: out of memory at batch {old} ({message}); retrying at batch {new}")


def _step(model: torch.nn.Module, x: torch.Tensor) -> Step:
    def step() -> object:
        return model(x)

    return step


def _requested_conditions(options: BenchOptions) -> dict[str, Scalar]:
    conditions: dict[str, Scalar] = {
        "device_requested": options.device,
        "dtype": options.dtype,
        "amp": options.amp,
        "channels_last": options.channels_last,
        "compile": options.compile,
        "threads_requested": options.threads,
        "allocator_requested": options.allocator,
    }
    if options.compile:
        conditions["compile_mode"] = options.compile_mode or "default"
        conditions["compile_backend"] = options.compile_backend
    return conditions


def _progress_bar(name: str, phase: str, options: BenchOptions, *, enabled: bool = True) -> progress.Task:
    return progress.task(f"{name} {phase}", total=options.rounds, unit="rounds", enabled=enabled and options.progress)


def _reset_compiled_graphs() -> None:
    """Drop torch.compile's graphs, which hold the benchmark copy's tensors alive."""
    import torch._dynamo

    torch._dynamo.reset()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


__all__ = ["InputSize", "TIMING_METRICS", "measure_throughput", "resolve_input_size"]
