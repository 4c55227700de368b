"""measure_throughput on CPU with tiny models: records, conditions, OOM halving, model left as found."""

from __future__ import annotations

from collections import Counter
from typing import Iterator

import pytest
import torch
from torch import nn

from conftest import TinyNet, card, fast_bench_options, measured_throughput
from bench_world import IMAGE_SIDE, OutOfMemoryAbove
from zoo.records import Measurement, from_json_dict, to_json_dict


@pytest.fixture
def two_threads() -> Iterator[int]:
    """Run with torch at 2 threads and put back whatever was there."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


def by_metric(measurements: list[Measurement]) -> dict[str, Measurement]:
    assert [m.metric for m in measurements] == ["throughput", "latency_p50", "latency_p90"]
    return {m.metric: m for m in measurements}


def test_returns_throughput_and_latency_with_their_conditions() -> None:
    model = TinyNet().eval()
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options()))
    throughput = got["throughput"]
    assert throughput.status == "ok"
    assert throughput.unit == "images/s"
    assert isinstance(throughput.value, float) and throughput.value > 0
    assert throughput.uncertainty is not None and throughput.uncertainty.kind == "iqr"
    assert throughput.uncertainty.low <= throughput.value <= throughput.uncertainty.high
    c = throughput.conditions
    assert c["device"] == "cpu" and c["device_name"]
    assert (c["dtype"], c["amp"], c["channels_last"], c["compile"]) == ("fp32", False, False, False)
    assert (c["batch_size_requested"], c["batch_size"], c["oom_halvings"]) == (4, 4, 0)
    assert c["input_size"] == f"3x{IMAGE_SIDE}x{IMAGE_SIDE}"
    assert "Image Size" in str(c["input_size_source"])
    assert c["rounds"] == 3 and c["warmup_iters"] == 2 and c["iters_per_round"] == 1
    assert c["throughput_min"] <= throughput.value <= c["throughput_max"]
    assert c["timer"] == "perf_counter"
    assert "peak_memory_bytes" not in c  # CPU: no allocator statistics to report
    for metric in ("latency_p50", "latency_p90"):
        latency = got[metric]
        assert latency.status == "ok" and latency.unit == "ms"
        assert latency.conditions["batch_size"] == 1
        assert latency.conditions["samples"] == 3 * latency.conditions["iters_per_round"]
        assert latency.conditions["latency_min_ms"] <= latency.value <= latency.conditions["latency_max_ms"]
    assert got["latency_p50"].value <= got["latency_p90"].value


def test_warm_up_and_rounds_call_the_model_as_often_as_reported() -> None:
    model = TinyNet().eval()
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(rounds=4)))
    calls = Counter(seen["batch"] for seen in model.seen)
    t, lat = got["throughput"].conditions, got["latency_p50"].conditions
    assert calls[4] == t["warmup_iters"] + t["rounds"] * t["iters_per_round"] == 2 + 4 * 1
    assert calls[1] == lat["warmup_iters"] + lat["rounds"] * lat["iters_per_round"] == 2 + 4 * 3
    assert all(not seen["grad"] and not seen["training"] for seen in model.seen)


def test_options_reach_the_model_and_are_recorded(two_threads: int) -> None:
    model = TinyNet().eval()
    options = fast_bench_options(threads=1, dtype="bf16", channels_last=True)
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, options))
    assert len(model.seen) == 2 + 3 + 2 + 3 * 3  # warm-up + rounds, throughput then latency
    for seen in model.seen:
        assert seen["threads"] == 1
        assert seen["autocast"] and seen["autocast_dtype"] == torch.bfloat16
        assert seen["channels_last_input"] and seen["channels_last_weight"]
    for m in got.values():
        assert m.status == "ok"
        assert m.conditions["threads"] == 1 and m.conditions["threads_requested"] == 1
        assert (m.conditions["dtype"], m.conditions["amp"], m.conditions["channels_last"]) == ("bf16", True, True)
        assert "autocast bf16" in m.method and "channels_last" in m.method
    assert torch.get_num_threads() == two_threads


def test_the_model_is_left_as_found() -> None:
    model = TinyNet().train()
    params = {name: (p, p.data_ptr()) for name, p in model.named_parameters()}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(channels_last=True))
    assert model.training and all(m.training for m in model.modules())
    for name, p in model.named_parameters():
        assert p is params[name][0] and p.data_ptr() == params[name][1]
        assert p.is_contiguous()
    # eval mode during timing; BN running statistics untouched because nothing ran in train mode
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_thread_count_is_restored_when_the_model_fails(two_threads: int) -> None:
    class Broken(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise ValueError("shapes do not fit")

    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), Broken(), fast_bench_options(threads=1)))
    assert torch.get_num_threads() == two_threads
    for m in got.values():
        assert m.status == "error"
        assert "ValueError: shapes do not fit" in (m.reason or "")


def test_out_of_memory_halves_the_batch_and_records_the_batch_used() -> None:
    model = OutOfMemoryAbove(limit=5)
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(batch_size=32)))
    throughput = got["throughput"]
    assert throughput.status == "ok"
    assert throughput.conditions["batch_size_requested"] == 32
    assert throughput.conditions["batch_size"] == 4
    assert throughput.conditions["oom_halvings"] == 3
    assert any("halved 3 time(s) to 4" in note for note in throughput.notes)
    assert [b for b in model.batches if b > 5] == [32, 16, 8]  # one failing call per oversized batch
    assert got["latency_p50"].status == "ok"


def test_out_of_memory_worded_as_a_runtime_error_is_recognised() -> None:
    model = OutOfMemoryAbove(limit=8, error=RuntimeError)
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(batch_size=20)))
    assert got["throughput"].conditions["batch_size"] == 5
    assert got["throughput"].conditions["oom_halvings"] == 2


def test_out_of_memory_even_at_batch_one_is_unavailable_not_raised() -> None:
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), OutOfMemoryAbove(limit=0), fast_bench_options(batch_size=4)))
    for m in got.values():
        assert m.status == "unavailable"
        assert "out of memory" in (m.reason or "")
    assert "even at batch 1" in (got["throughput"].reason or "")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when CUDA is missing")
def test_cuda_asked_for_without_cuda_is_unavailable_with_the_way_out() -> None:
    model = TinyNet()
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(device="cuda")))
    for m in got.values():
        assert m.status == "unavailable"
        assert "--device cuda asked for but CUDA is not available" in (m.reason or "")
        assert "--device cpu" in (m.reason or "")
        assert m.conditions["device_requested"] == "cuda"
    assert model.seen == []


COMPILED_INPUTS: list[set[tuple[int, ...]]] = []
"""Shapes of the example inputs of each graph the counting backend below was asked to compile."""


def _counting_backend(gm: torch.fx.GraphModule, example_inputs: list[torch.Tensor]):  # type: ignore[no-untyped-def]
    COMPILED_INPUTS.append({tuple(t.shape) for t in example_inputs if isinstance(t, torch.Tensor)})
    return gm.forward


def test_compile_wraps_the_model_and_is_recorded() -> None:
    import torch._dynamo
    from torch._dynamo import register_backend

    if "zoo_test_counting" not in torch._dynamo.list_backends(exclude_tags=()):
        register_backend(_counting_backend, name="zoo_test_counting")
    COMPILED_INPUTS.clear()

    class Plain(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x).mean(dim=(1, 2, 3))

    options = fast_bench_options(compile=True, compile_backend="zoo_test_counting")
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), Plain(), options))
    assert all(m.status == "ok" for m in got.values()), [m.reason for m in got.values()]
    # one static graph for the throughput batch, one for batch 1
    images = sorted(shape for shapes in COMPILED_INPUTS for shape in shapes if shape[1:] == (3, 16, 16))
    assert images == [(1, 3, 16, 16), (4, 3, 16, 16)]
    c = got["throughput"].conditions
    assert c["compile"] is True and c["compile_backend"] == "zoo_test_counting" and c["compile_mode"] == "default"
    assert "torch.compile" in got["throughput"].method


def test_input_size_falls_back_to_timms_pretrained_config() -> None:
    import timm

    model = timm.create_model("test_efficientnet", pretrained=False)
    options = fast_bench_options(batch_size=1, rounds=1, warmup_iters=1, latency_min_iters=1)
    got = by_metric(measured_throughput(card("test_efficientnet"), model, options))
    assert got["throughput"].conditions["input_size"] == "3x160x160"
    assert "timm" in str(got["throughput"].conditions["input_size_source"])


def test_measurements_survive_the_run_record_json_round_trip() -> None:
    for m in measured_throughput(card(image_size=IMAGE_SIDE), TinyNet(), fast_bench_options()):
        assert from_json_dict(Measurement, to_json_dict(m)) == m


def test_a_model_that_cannot_be_copied_is_an_error_not_a_crash() -> None:
    import threading

    model = TinyNet()
    model.lock = threading.Lock()  # type: ignore[assignment]  # deepcopy cannot copy a lock
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(channels_last=True)))
    for m in got.values():
        assert m.status == "error"
        assert "while being prepared for timing" in (m.reason or "") and "lock" in (m.reason or "")
    assert model.seen == []


class WaitingNet(TinyNet):
    """A TinyNet whose every call waits 20 ms without using the CPU: what a process that does
    not get its cores looks like from inside. It runs no operator (its logits are a view of a
    fixed tensor): after a parallel operator, OpenMP's worker threads spin for a while, and on a
    busy machine that spinning alone came to half a CPU per wall second."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import time

        time.sleep(0.02)
        return self.fc.bias.detach().expand(x.shape[0], self.num_classes)


def test_timing_records_the_machines_load_and_the_cpu_it_got() -> None:
    got = by_metric(measured_throughput(card(image_size=IMAGE_SIDE), WaitingNet().eval(), fast_bench_options()))
    for metric, measurement in got.items():
        c = measurement.conditions
        assert isinstance(c["load_1min_before"], float) and isinstance(c["load_1min_after"], float), metric
        assert c["cpus"] and c["cpus"] >= 1
        assert 0 <= c["cpu_per_wall"] < 0.5, (metric, c["cpu_per_wall"])  # it waited, so it used little CPU
