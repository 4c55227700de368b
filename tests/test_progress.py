"""The one progress channel: lines every few seconds when piped, nothing when quiet."""

from __future__ import annotations

import io

import pytest

from zoo import progress
from zoo.progress import Channel, resolve_mode


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_piped_progress_is_a_line_every_interval_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    channel = Channel("lines", out, interval=5.0, clock=clock)
    with channel.task("accuracy (2 models)", total=1000, unit="img") as task:
        for _ in range(20):
            clock.now += 1.0
            task.update(50)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 5  # at 5, 10, 15, 20 s, and the closing line
    assert lines[0] == "accuracy (2 models): 250/1,000 img (25%), 50 img/s, ETA 15 s, 5.0 s so far"
    assert lines[-1] == "accuracy (2 models): done, 1,000 img in 20 s (50 img/s)"


def test_bytes_are_shown_in_megabytes() -> None:
    out, clock = io.StringIO(), Clock()
    channel = Channel("lines", out, interval=1.0, clock=clock)
    task = channel.task("download w.pth", total=50_000_000, unit="B", initial=10_000_000)
    clock.now = 2.0
    task.update(20_000_000)
    assert out.getvalue().splitlines()[0] == "download w.pth: 30.0 MB/50.0 MB (60%), 10.0 MB/s, 2.0 s so far"
    clock.now = 3.0
    task.update(10_000_000)
    assert out.getvalue().splitlines()[1] == "download w.pth: 40.0 MB/50.0 MB (80%), 10.0 MB/s, ETA 1.0 s, 3.0 s so far"


def test_quiet_and_zoo_progress_0_say_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    out, clock = io.StringIO(), Clock()
    channel = Channel("off", out, clock=clock)
    channel.note("hello")
    with channel.task("x", total=3, unit="img") as task:
        clock.now = 100
        task.update(3)
    assert out.getvalue() == ""
    assert resolve_mode(quiet=True) == "off"
    monkeypatch.setenv("ZOO_PROGRESS", "0")
    assert resolve_mode() == "off"
    monkeypatch.delenv("ZOO_PROGRESS")
    assert resolve_mode(stream=io.StringIO()) == "lines"


def test_a_disabled_task_is_silent_but_notes_still_go_out() -> None:
    out, clock = io.StringIO(), Clock()
    channel = Channel("lines", out, interval=1.0, clock=clock)
    with channel.task("speed", total=10, unit="rounds", enabled=False) as task:
        clock.now = 50
        task.update(10)
    channel.note("zoo: a note")
    assert out.getvalue() == "zoo: a note\n"


def test_the_module_channel_follows_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_channel", None)
    assert progress.configure(quiet=True).mode == "off"
    monkeypatch.setattr(progress, "_channel", None)


def test_slow_work_says_seconds_per_item() -> None:
    out, clock = io.StringIO(), Clock()
    channel = Channel("lines", out, interval=5.0, clock=clock)
    task = channel.task("m speed", total=10, unit="rounds")
    clock.now = 16.0
    task.update(2)
    assert out.getvalue() == "m speed: 2/10 rounds (20%), 8.0 s/round, 16 s so far\n"  # no pace yet: no ETA


def test_the_eta_is_timed_from_the_first_step_not_from_the_start() -> None:
    # Warm-up (or workers starting) before the first round made the first ETA 9m11s for a 2-minute job.
    out, clock = io.StringIO(), Clock()
    channel = Channel("lines", out, interval=0.0, clock=clock)
    task = channel.task("m throughput", total=10, unit="rounds")
    clock.now = 100.0  # a long warm-up, then one round a second
    task.update(1)
    assert "ETA" not in out.getvalue()
    clock.now = 101.0
    task.update(1)
    assert out.getvalue().splitlines()[-1].split(", ")[2] == "ETA 8.0 s"


def test_an_interrupted_task_says_so_and_not_done() -> None:
    out, clock = io.StringIO(), Clock()
    channel = Channel("lines", out, interval=5.0, clock=clock)
    with pytest.raises(KeyboardInterrupt):
        with channel.task("m throughput", total=2, unit="rounds"):
            clock.now = 3.0
            raise KeyboardInterrupt
    assert out.getvalue() == "m throughput: interrupted after 0 of 2 rounds in 3.0 s\n"
