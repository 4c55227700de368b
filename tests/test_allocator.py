"""The allocator as a condition: tuned glibc stops the per-call page faults, is scoped, and is recorded."""

from __future__ import annotations

import pytest
import torch

from bench_world import TinyNet, card, fast_options
from zoo.errors import InputError
from zoo.judge.history import compare_measurements
from zoo.measure import allocator
from zoo.measure.throughput.measure import measure_throughput
from zoo.measure.throughput.options import BenchOptions

needs_glibc = pytest.mark.skipif(
    allocator.glibc_version() is None or allocator.preloaded() is not None, reason="needs glibc's own malloc"
)

BLOCK = 48 << 20
"""48 MiB: above glibc's largest adaptive mmap threshold (32 MiB), so by default every such
block is a fresh mmap, faulted in page by page and unmapped on free: the forward-pass case."""


def faults_per_block(blocks: int = 4) -> float:
    """Minor page faults per allocate-touch-free of a BLOCK-sized tensor (after one to warm up)."""
    torch.empty(BLOCK, dtype=torch.uint8).fill_(1)
    before = allocator.minor_faults()
    for _ in range(blocks):
        torch.empty(BLOCK, dtype=torch.uint8).fill_(1)
    return (allocator.minor_faults() - before) / blocks


@needs_glibc
def test_tuned_glibc_keeps_freed_blocks_and_the_block_restores_the_default() -> None:
    pages = BLOCK / 4096
    assert allocator.current() in ("glibc-default", "glibc-reset")
    assert faults_per_block() > 0.5 * pages  # the defect: every block faulted in again
    with allocator.use_allocator("tuned") as label:
        assert label == "glibc-tuned" == allocator.current()
        assert faults_per_block() < 0.01 * pages
        assert "M_MMAP_THRESHOLD 1024 MiB" in allocator.describe()
    assert allocator.current() == "glibc-reset"
    assert faults_per_block() > 0.5 * pages  # thresholds back: blocks are mmapped again
    with allocator.use_allocator("default") as label:
        assert label == "glibc-reset"


def test_a_preloaded_allocator_is_recognised_and_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    with allocator.use_allocator("tuned") as label:
        assert label == "jemalloc" == allocator.label_for("default")
    assert allocator.describe("jemalloc") == "jemalloc (LD_PRELOAD)"


def test_allocator_option_is_validated_and_read_from_the_environment() -> None:
    with pytest.raises(InputError, match="--allocator"):
        BenchOptions(allocator="fast")
    assert BenchOptions.from_env({"ZOO_ALLOCATOR": "tuned"}).allocator == "tuned"
    assert BenchOptions().allocator == "default"  # published figures were timed under plain malloc


@needs_glibc
def test_throughput_records_the_allocator_and_the_page_faults_per_call() -> None:
    got = {
        mode: measure_throughput(card(), TinyNet().eval(), fast_options(allocator=mode, rounds=3))[0]
        for mode in ("default", "tuned")
    }
    for mode, m in got.items():
        assert m.status == "ok"
        assert m.conditions["allocator_requested"] == mode
        assert isinstance(m.conditions["minor_faults_per_call"], float)
    assert got["tuned"].conditions["allocator"] == "glibc-tuned"
    assert got["default"].conditions["allocator"] in ("glibc-default", "glibc-reset")
    assert "allocator glibc" in got["tuned"].method
    assert allocator.current() != "glibc-tuned"  # put back after the measurement
    change = compare_measurements("tiny_net", got["tuned"], got["default"])
    assert change.status == "incomparable" and "allocator" in change.differing_conditions
