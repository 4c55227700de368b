"""Out-of-memory recognition and the halving loop, through injected failures."""

from __future__ import annotations

import pytest
import torch

from zoo.measure.throughput.memory import OutOfMemoryAtMinimum, allocated_memory, is_out_of_memory, peak_memory, run_halving_on_oom

CPU = torch.device("cpu")


def test_out_of_memory_is_recognised_in_its_usual_forms() -> None:
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert is_out_of_memory(
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
    )
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_out_of_memory(ValueError("out of memory"))  # only allocator errors count


def test_halving_retries_until_the_batch_fits() -> None:
    tried: list[int] = []
    told: list[tuple[int, int]] = []

    def attempt(batch: int) -> str:
        tried.append(batch)
        if batch > 10:
            raise torch.OutOfMemoryError(f"CUDA out of memory at {batch}")
        return f"ran {batch}"

    halved = run_halving_on_oom(attempt, 48, CPU, on_halve=lambda old, new, msg: told.append((old, new)))
    assert tried == [48, 24, 12, 6]
    assert told == [(48, 24), (24, 12), (12, 6)]
    assert (halved.result, halved.batch_size, halved.requested_batch_size, halved.halvings) == ("ran 6", 6, 48, 3)
    assert halved.oom_messages[0] == "OutOfMemoryError: CUDA out of memory at 48"


def test_no_halving_when_the_first_batch_fits() -> None:
    halved = run_halving_on_oom(lambda b: b * 2, 8, CPU)
    assert (halved.result, halved.batch_size, halved.halvings, halved.oom_messages) == (16, 8, 0, [])


def test_out_of_memory_at_the_minimum_gives_up() -> None:
    tried: list[int] = []

    def attempt(batch: int) -> None:
        tried.append(batch)
        raise torch.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(OutOfMemoryAtMinimum) as caught:
        run_halving_on_oom(attempt, 5, CPU)
    assert tried == [5, 2, 1]
    assert caught.value.batch_size == 1


def test_other_errors_are_not_mistaken_for_out_of_memory() -> None:
    tried: list[int] = []

    def attempt(batch: int) -> None:
        tried.append(batch)
        raise RuntimeError("expected 4D input")

    with pytest.raises(RuntimeError, match="expected 4D input"):
        run_halving_on_oom(attempt, 64, CPU)
    assert tried == [64]


def test_cpu_has_no_allocator_statistics() -> None:
    assert allocated_memory(CPU) is None and peak_memory(CPU) is None
