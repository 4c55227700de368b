"""The CUDA path: events, synchronisation, AMP, channels_last, peak memory, real OOM halving.

Skipped without a CUDA device (the CPU tests cover the method itself).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from conftest import TinyNet, card, fast_bench_options, measured_throughput
from bench_world import IMAGE_SIDE
from zoo.measure.throughput.timing import CudaEventStopwatch, WallStopwatch

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_amp_channels_last_on_cuda_records_device_timer_and_peak_memory() -> None:
    model = TinyNet().eval()  # on the CPU: measured on a GPU copy
    autotune_before = torch.backends.cudnn.benchmark
    got = {
        m.metric: m
        for m in measured_throughput(
            card(image_size=IMAGE_SIDE), model, fast_bench_options(device="cuda", dtype="fp16", channels_last=True, batch_size=8)
        )
    }
    assert all(m.status == "ok" for m in got.values()), [m.reason for m in got.values()]
    c = got["throughput"].conditions
    assert str(c["device"]).startswith("cuda:")
    assert c["device_name"] == torch.cuda.get_device_name()
    assert c["timer"] == "cuda-events"
    assert got["latency_p50"].conditions["timer"] == "perf_counter+synchronize"
    assert c["cudnn_benchmark"] is True and torch.backends.cudnn.benchmark == autotune_before
    assert isinstance(c["peak_memory_bytes"], int) and c["peak_memory_bytes"] > 0
    assert c["peak_memory_bytes"] >= c["memory_before_batch_bytes"]
    assert model.seen, "the benchmark copy's calls are logged in the original's shared log"
    for seen in model.seen:
        assert seen["device"] == "cuda"
        assert seen["autocast"] and seen["autocast_dtype"] == torch.float16
        assert seen["channels_last_input"] and seen["channels_last_weight"]
    assert all(p.device.type == "cpu" and p.is_contiguous() for p in model.parameters())


def test_a_model_already_on_the_gpu_is_left_there_unchanged() -> None:
    model = TinyNet().cuda().eval()
    pointers = [p.data_ptr() for p in model.parameters()]
    measured_throughput(card(image_size=IMAGE_SIDE), model, fast_bench_options(device="cuda", channels_last=True))
    assert [p.data_ptr() for p in model.parameters()] == pointers
    assert all(p.is_cuda and p.is_contiguous() for p in model.parameters())
    assert not model.training


def test_bf16_is_unavailable_or_measured_never_raised() -> None:
    got = measured_throughput(card(image_size=IMAGE_SIDE), TinyNet(), fast_bench_options(device="cuda", dtype="bf16"))
    expected = "ok" if torch.cuda.is_bf16_supported() else "unavailable"
    assert [m.status for m in got] == [expected] * 3


class AllocatesAbove(nn.Module):
    """Asks the CUDA allocator for an impossible block when the batch is above ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.linear = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > self.limit:
            torch.empty(1 << 50, dtype=torch.uint8, device=x.device)  # 1 PiB: a real OutOfMemoryError
        return self.linear(x.mean(dim=(2, 3)))


def test_real_cuda_out_of_memory_halves_the_batch_and_frees_the_cache() -> None:
    got = {
        m.metric: m for m in measured_throughput(card(image_size=IMAGE_SIDE), AllocatesAbove(6), fast_bench_options(device="cuda", batch_size=48))
    }
    throughput = got["throughput"]
    assert throughput.status == "ok", throughput.reason
    assert throughput.conditions["batch_size"] == 6
    assert throughput.conditions["oom_halvings"] == 3
    assert "out of memory" in throughput.notes[-1].lower()


def test_cuda_events_agree_with_a_synchronised_host_clock() -> None:
    a = torch.randn(2048, 2048, device="cuda")

    def step() -> torch.Tensor:
        return a @ a

    for _ in range(5):
        step()
    events = CudaEventStopwatch(torch.device("cuda", torch.cuda.current_device())).time_block(step, 20)
    wall = WallStopwatch(synchronize=torch.cuda.synchronize).time_block(step, 20)
    assert events > 0 and wall > 0
    assert 0.5 < events / wall < 1.5
