"""The process's memory allocator, as a condition a measurement is made under.

glibc's malloc serves each large block (an activation buffer) with a fresh ``mmap`` and
hands it back to the OS on ``free``, so every forward pass faults its buffers in again
(tens of thousands of minor page faults per call for a small CNN on CPU). ``tuned`` raises
glibc's mmap and trim thresholds (``mallopt``) so freed buffers stay in the heap and are
reused: the same effect jemalloc or tcmalloc give through ``LD_PRELOAD``. zoo tunes glibc
in process rather than re-executing itself under a preloaded library, because glibc is always
there and the switch can be scoped to one measurement; a process started under a preloaded
jemalloc/tcmalloc/mimalloc is recognised and recorded as such (zoo then changes nothing).

There is no library for this (``mallopt`` is a C call); ctypes reaches it directly.

Example::

    with use_allocator("tuned") as label:   # "glibc-tuned"
        run_the_forward_passes()
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

ALLOCATORS = ("default", "tuned")
"""``--allocator`` choices."""

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter numbers (``<malloc.h>``)."""
TUNED_MMAP_THRESHOLD = 1 << 30
"""Blocks below 1 GiB come from the heap, not from a fresh mmap."""
TUNED_TRIM_THRESHOLD = 2 << 30
"""Up to 2 GiB of free heap stays with the process instead of going back to the OS."""
GLIBC_THRESHOLD = 128 * 1024
"""glibc's documented starting value of both thresholds, used to undo ``tuned``."""

PRELOADED = ("jemalloc", "tcmalloc", "mimalloc")
"""Allocators recognised in ``LD_PRELOAD``."""


@dataclass
class _State:
    tuned: bool = False
    was_tuned: bool = False


_STATE = _State()


@lru_cache(maxsize=1)
def _glibc() -> Optional[ctypes.CDLL]:
    """The C library when it is glibc (it has ``mallopt`` and ``gnu_get_libc_version``), else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        return libc
    except (OSError, AttributeError):
        return None


def glibc_version() -> Optional[str]:
    """``"2.36"`` under glibc, None elsewhere (musl, macOS, Windows)."""
    libc = _glibc()
    return libc.gnu_get_libc_version().decode() if libc is not None else None


def preloaded() -> Optional[str]:
    """``"jemalloc"`` (or tcmalloc, mimalloc) when the process was started with it in ``LD_PRELOAD``."""
    value = os.environ.get("LD_PRELOAD", "").lower()
    return next((name for name in PRELOADED if name in value), None)


def current() -> str:
    """A short, stable label of the allocator in effect now; two timing figures compare only
    when their labels agree: ``glibc-default``, ``glibc-tuned``, ``glibc-reset`` (thresholds put
    back after tuning, which is not quite glibc's adaptive default), ``jemalloc``, ``tcmalloc``,
    ``mimalloc`` or ``system`` (not glibc)."""
    name = preloaded()
    if name:
        return name
    if _glibc() is None:
        return "system"
    if _STATE.tuned:
        return "glibc-tuned"
    return "glibc-reset" if _STATE.was_tuned else "glibc-default"


def label_for(mode: str) -> str:
    """The label :func:`use_allocator` (``mode``) will run under, without switching anything."""
    name = preloaded()
    if name:
        return name
    if _glibc() is None:
        return "system"
    if mode == "tuned":
        return "glibc-tuned"
    return "glibc-reset" if _STATE.was_tuned else "glibc-default"


def describe(label: Optional[str] = None) -> str:
    """The label in words, for a measurement's method and the report."""
    label = label or current()
    version = glibc_version()
    words = {
        "glibc-default": f"glibc {version} malloc as it comes",
        "glibc-tuned": (
            f"glibc {version} malloc with mallopt M_MMAP_THRESHOLD {TUNED_MMAP_THRESHOLD >> 20} MiB, "
            f"M_TRIM_THRESHOLD {TUNED_TRIM_THRESHOLD >> 20} MiB"
        ),
        "glibc-reset": f"glibc {version} malloc, thresholds reset to {GLIBC_THRESHOLD >> 10} KiB after tuning",
        "system": "the system's malloc (not glibc; not tunable by zoo)",
    }
    return words.get(label, f"{label} (LD_PRELOAD)")


def _set_thresholds(mmap_threshold: int, trim_threshold: int) -> None:
    libc = _glibc()
    assert libc is not None
    # mallopt answers 0 when it refuses a value: say so rather than measure the default unawares.
    ok = libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold) and libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)
    if not ok:
        raise OSError(f"mallopt refused thresholds {mmap_threshold}/{trim_threshold}")


@contextlib.contextmanager
def use_allocator(mode: str) -> Iterator[str]:
    """Run the block under ``mode`` (``default`` or ``tuned``); yields :func:`current`'s label.

    ``tuned`` raises glibc's thresholds for the block and puts them back afterwards (freeing
    the retained heap with ``malloc_trim``); under a preloaded allocator, or without glibc,
    nothing is changed and the label says what ran. ``default`` undoes an earlier ``tuned``
    of this process for the block.
    """
    if mode not in ALLOCATORS:
        raise ValueError(f"allocator must be one of {', '.join(ALLOCATORS)}, got {mode!r}")
    tunable = preloaded() is None and _glibc() is not None
    before = _STATE.tuned
    want = mode == "tuned"
    if tunable and want != before:
        _switch(want)
    try:
        yield current()
    finally:
        if tunable and _STATE.tuned != before:
            _switch(before)


def _switch(tuned: bool) -> None:
    if tuned:
        _set_thresholds(TUNED_MMAP_THRESHOLD, TUNED_TRIM_THRESHOLD)
        _STATE.was_tuned = True
    else:
        _set_thresholds(GLIBC_THRESHOLD, GLIBC_THRESHOLD)
        _glibc().malloc_trim(0)  # type: ignore[union-attr]
    _STATE.tuned = tuned


def minor_faults() -> int:
    """Minor page faults of this process so far (``getrusage``): the cost the tuned allocator removes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


__all__ = [
    "ALLOCATORS",
    "current",
    "describe",
    "glibc_version",
    "label_for",
    "minor_faults",
    "preloaded",
    "use_allocator",
]
