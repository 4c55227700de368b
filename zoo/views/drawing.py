"""Drawing a report's plots on two cores while the report itself is being written.

matplotlib draws on one core. :class:`Drawing` forks a second process as soon as the plots
are known; it draws them one after another while this process goes on with the rest of the
report (tables, Markdown), and when this process asks for the plots it draws the ones not yet
begun itself: the two take turns through one shared counter, so neither waits while a plot is
left. The forked process inherits the jobs and their data (only the PNGs come back), imports
matplotlib there, and draws exactly what this process would.

No second process is used where forking is not possible or not safe: no ``fork`` start method,
one core, fewer than :data:`MIN_PARALLEL_JOBS` plots, or torch loaded (its OpenMP threads do
not survive a fork); the plots are then drawn here when asked for.

>>> drawing = Drawing(jobs)        # doctest: +SKIP
>>> ...                            # write the tables meanwhile  # doctest: +SKIP
>>> plots = drawing.result()       # doctest: +SKIP
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Any, Optional, Sequence

from zoo.views.plots import Job, Plot

MIN_PARALLEL_JOBS = 4
"""Fewer plots than this are drawn in this process: a second process costs more than it saves."""

_JOBS: list[Job] = []
_NEXT: Any = None
"""The jobs of the drawing being started and the shared counter of the next one, for the
forked process to read (set just before the fork)."""


def _claim(counter: Any, count: int) -> Optional[int]:
    with counter.get_lock():
        number = counter.value
        if number >= count:
            return None
        counter.value = number + 1
        return number


def _draw_share() -> dict[int, Optional[Plot]]:
    """In the forked process: draw plots until none is left; their numbers and PNGs."""
    drawn = {}
    while (number := _claim(_NEXT, len(_JOBS))) is not None:
        drawn[number] = _JOBS[number]()
    return drawn


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def may_fork(jobs: int) -> bool:
    return (jobs >= MIN_PARALLEL_JOBS and cores() >= 2 and "torch" not in sys.modules
            and "fork" in multiprocessing.get_all_start_methods())


class Drawing:
    """Plots being drawn: in a forked process from now on where it may, and here when asked for."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        global _JOBS, _NEXT
        self.jobs = list(jobs)
        self.plots: Optional[list[Optional[Plot]]] = None
        self.pool: Any = None
        self.pending: Any = None
        self.counter: Any = None
        if not may_fork(len(self.jobs)):
            return
        context = multiprocessing.get_context("fork")
        self.counter = context.Value("i", 0)
        _JOBS, _NEXT = self.jobs, self.counter
        try:
            self.pool = context.Pool(1)  # the fork: it sees _JOBS and _NEXT as they are now
            self.pending = self.pool.apply_async(_draw_share)
        except OSError:  # no process to be had (limits): every plot is drawn here
            self.pool, self.counter = None, None
        finally:
            _JOBS, _NEXT = [], None

    def result(self) -> list[Optional[Plot]]:
        """Every job's plot, in order (``None`` where a job had nothing to draw)."""
        if self.plots is not None:
            return self.plots
        if self.pool is None:
            self.plots = [job() for job in self.jobs]
            return self.plots
        mine = {}
        while (number := _claim(self.counter, len(self.jobs))) is not None:
            mine[number] = self.jobs[number]()
        try:
            theirs = self.pending.get()
        finally:
            self.close()
        self.plots = [mine[number] if number in mine else theirs[number] for number in range(len(self.jobs))]
        return self.plots

    def close(self) -> None:
        """End the second process (also when the plots are no longer wanted)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def draw(jobs: Sequence[Job]) -> list[Optional[Plot]]:
    """Every job's plot, in order, drawn on two cores where that is possible."""
    return Drawing(jobs).result()


__all__ = ["Drawing", "MIN_PARALLEL_JOBS", "cores", "draw", "may_fork"]
