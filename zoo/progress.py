"""The one channel for progress and notes, on stderr, so stdout stays the result.

- on a terminal: rich progress bars (stage, done/total, rate, ETA) that vanish when done;
- piped (CI logs): a plain line every few seconds per task (stage, done/total, rate, ETA)
  and one when it ends, with its time; never ``\\r`` frames;
- ``--quiet`` or ``ZOO_PROGRESS=0``: nothing at all.

Every stage writes here instead of ``print``/``tqdm``/``logging``::

    from zoo import progress
    progress.note("accuracy data: 50,000 images")
    with progress.task("accuracy (2 models)", total=50_000, unit="img") as bar:
        bar.update(64)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, Literal, Optional, TextIO

from zoo.inert import inert_console, inert_text

Mode = Literal["bars", "lines", "off"]

LINE_INTERVAL = 5.0
"""Seconds between two progress lines of one task when piped."""


def _human(value: float, unit: str) -> str:
    if unit == "B":
        for suffix in ("B", "KB", "MB", "GB"):
            if abs(value) < 1000 or suffix == "GB":
                return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
            value /= 1000
    return f"{value:,.0f} {unit}" if float(value).is_integer() else f"{value:,.1f} {unit}"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _rate(rate: float, unit: str) -> str:
    """"35.2 img/s", or for slow work "8.5 s/round" (a rate below one a second reads as 0.0)."""
    if unit != "B" and 0 < rate < 1:
        return f"{1 / rate:.1f} s/{unit[:-1] if unit.endswith('s') else unit}"
    return f"{_human(rate, unit)}/s"


class Task:
    """One piece of long work: ``update`` as it advances, ``close`` (or leave the ``with``) when done."""

    def __init__(self, channel: "Channel", stage: str, total: Optional[float], unit: str, initial: float) -> None:
        self.channel, self.stage, self.total, self.unit = channel, stage, total, unit
        self.done = float(initial)
        self.initial = float(initial)
        self.started = channel.clock()
        self.last_line = self.started
        self.detail = ""
        self.closed = False
        self.first_update: Optional[tuple[float, float]] = None
        """(time, amount done) at the first update: the ETA is timed from there, so start-up
        work before it (warm-up, workers starting, compilation) does not count as a step."""
        self._bar: Any = None
        self._bar_id: Any = None
        if channel.mode == "bars":
            self._bar, self._bar_id = channel._start_bar(self)

    # -- progress
    def update(self, amount: float = 1) -> None:
        self.done += amount
        if self.first_update is None:
            self.first_update = (self.channel.clock(), self.done)
        if self.channel.mode == "bars" and self._bar is not None:
            self._bar.update(self._bar_id, completed=self.done, detail=self.detail)
        elif self.channel.mode == "lines":
            now = self.channel.clock()
            if now - self.last_line >= self.channel.interval:
                self.last_line = now
                self.channel._line(self.line(now))

    def describe(self, detail: str) -> None:
        """A short note shown beside the figures (e.g. the last round's result)."""
        self.detail = detail

    def line(self, now: float) -> str:
        """``stage: done/total unit (pct), rate, ETA, elapsed`` as the piped lines say it."""
        elapsed = now - self.started
        rate = (self.done - self.initial) / elapsed if elapsed > 0 else 0.0
        if self.total and self.unit != "B":
            parts = [f"{self.done:,.0f}/{self.total:,.0f} {self.unit}".rstrip()]
        else:
            parts = [f"{_human(self.done, self.unit)}" + (f"/{_human(self.total, self.unit)}" if self.total else "")]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        parts.append(_rate(rate, self.unit))
        eta = self.eta(now)
        if eta is not None:
            parts.append(f"ETA {_duration(eta)}")
        parts.append(f"{_duration(elapsed)} so far")
        return f"{self.stage}: {', '.join(parts)}" + (f" [{self.detail}]" if self.detail else "")

    def eta(self, now: float) -> Optional[float]:
        """Seconds left at the pace since the first update; None before a second one."""
        if not self.total or self.first_update is None:
            return None
        since, done_then = self.first_update
        if now <= since or self.done <= done_then:
            return None
        return (self.total - self.done) * (now - since) / (self.done - done_then)

    def close(self, stopped: Optional[str] = None) -> None:
        """End the task; ``stopped`` (why, e.g. "interrupted") when it ends before its work does."""
        if self.closed:
            return
        self.closed = True
        now = self.channel.clock()
        if self.channel.mode == "bars" and self._bar is not None:
            self.channel._stop_bar(self._bar)
            if stopped:
                self.channel._line(self._stopped_line(now, stopped))
        elif self.channel.mode == "lines" and stopped:
            self.channel._line(self._stopped_line(now, stopped))
        elif self.channel.mode == "lines" and now - self.started >= 1.0:
            elapsed = now - self.started
            rate = (self.done - self.initial) / elapsed if elapsed > 0 else 0.0
            self.channel._line(f"{self.stage}: done, {_human(self.done, self.unit)} in {_duration(elapsed)} ({_rate(rate, self.unit)})")

    def _stopped_line(self, now: float, why: str) -> str:
        of = f" of {self.total:,.0f}" if self.total and self.unit != "B" else ""
        return f"{self.stage}: {why} after {_human(self.done, self.unit).replace(f' {self.unit}', '')}{of} {self.unit} in {_duration(now - self.started)}".replace("  ", " ")

    def __enter__(self) -> "Task":
        return self

    def __exit__(self, kind: Optional[type], *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.close(stopped="interrupted" if issubclass(kind, KeyboardInterrupt) else "stopped")


class Channel:
    """Where notes and progress go; :func:`configure` sets the process's channel."""

    def __init__(self, mode: Mode, stream: Optional[TextIO] = None, *, interval: float = LINE_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.mode = mode
        self._stream = stream
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._live: Any = None

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr  # looked up late: test runners swap sys.stderr

    def note(self, text: str) -> None:
        """A message for the person watching (not a result: results go to stdout)."""
        if self.mode == "off":
            return
        text = inert_text(text)  # notes quote cards and servers: printed, never obeyed
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self._line(text)

    def task(self, stage: str, total: Optional[float] = None, unit: str = "", initial: float = 0, enabled: bool = True) -> Task:
        """A :class:`Task`; ``enabled=False`` (an options flag) makes it silent."""
        if not enabled and self.mode != "off":
            return Task(Channel("off", clock=self.clock), stage, total, unit, initial)
        return Task(self, stage, total, unit, initial)

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(inert_text(text) + "\n")
            self.stream.flush()

    def _start_bar(self, task: Task) -> tuple[Any, Any]:
        from rich.progress import (
            BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
            TimeRemainingColumn, TransferSpeedColumn,
        )

        figures = [DownloadColumn(), TransferSpeedColumn()] if task.unit == "B" else [MofNCompleteColumn(), TextColumn(task.unit)]
        columns = [TextColumn("{task.description}", markup=False), BarColumn(), TaskProgressColumn(), *figures,
                   TimeRemainingColumn(), TextColumn("{task.fields[detail]}")]
        bar = Progress(*columns, console=inert_console(file=self.stream), transient=True)
        bar.start()
        self._live = bar
        ident = bar.add_task(task.stage, total=task.total, completed=task.done, detail="")
        return bar, ident

    def _stop_bar(self, bar: Any) -> None:
        bar.stop()
        if self._live is bar:
            self._live = None


def resolve_mode(quiet: bool = False, stream: Optional[TextIO] = None) -> Mode:
    """off with ``quiet`` or ``ZOO_PROGRESS=0``; bars on a terminal; lines otherwise."""
    if quiet or os.environ.get("ZOO_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return "off"
    stream = stream or sys.stderr
    return "bars" if getattr(stream, "isatty", lambda: False)() else "lines"


_channel: Optional[Channel] = None


def channel() -> Channel:
    """The process's channel (configured from the environment on first use)."""
    global _channel
    if _channel is None:
        _channel = Channel(resolve_mode())
    return _channel


def configure(quiet: bool = False) -> Channel:
    """Set the process's channel from ``--quiet`` and the environment (the CLI calls this)."""
    global _channel
    _channel = Channel(resolve_mode(quiet))
    return _channel


def note(text: str) -> None:
    channel().note(text)


def task(stage: str, total: Optional[float] = None, unit: str = "", initial: float = 0, enabled: bool = True) -> Task:
    return channel().task(stage, total, unit, initial, enabled)


__all__ = ["Channel", "LINE_INTERVAL", "Task", "channel", "configure", "note", "resolve_mode", "task"]
