"""The one stall rule for every weights download, the card's URL and the Hugging Face Hub alike.

A transfer that stays under ``--min-rate`` bytes/s for ``--stall-seconds`` is stalled. Two
readings of it cover every way a server can hang a download:

- a body that trickles (1 byte/s never trips a read timeout): :class:`StallRule` watches the
  bytes as they land and raises :class:`~zoo.weights.failures.TransferStalled`;
- a server that sends nothing at all (no headers to a HEAD, no byte of a body): no answer within
  :func:`answer_timeout`, which is the read timeout, shortened to the stall window when the rule
  is on (silence is the slowest rate there is).

A stalled transfer is retried (``FetchOptions.retries``, resuming where the source allows), then
given up with exit 3. Hand-written: neither requests, urllib3, httpx nor huggingface_hub has a
minimum-rate option.
"""

from __future__ import annotations

import time
from typing import Callable

from zoo.weights.failures import TransferStalled
from zoo.weights.integrity import human_bytes
from zoo.weights.options import FetchOptions


def rule_on(options: FetchOptions) -> bool:
    return bool(options.min_rate and options.stall_seconds)


def answer_timeout(options: FetchOptions) -> float:
    """Seconds a server may stay silent (before its answer, or between two bytes of it)."""
    return min(options.read_timeout, options.stall_seconds) if rule_on(options) else options.read_timeout


class StallRule:
    """Fails a transfer that stays under ``options.min_rate`` bytes/s for ``options.stall_seconds``.

    Call :meth:`check` with the byte count each time bytes arrive.
    """

    def __init__(self, options: FetchOptions, size: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.window = options.min_rate, options.stall_seconds
        self.clock = clock
        self.start, self.size = clock(), size

    def check(self, size: int) -> None:
        if not self.rate or not self.window:
            return
        now = self.clock()
        elapsed = now - self.start
        if elapsed < self.window:
            return
        got = size - self.size
        if got < self.rate * elapsed:
            raise TransferStalled(
                f"the transfer stalled: {human_bytes(got)} in the last {elapsed:.0f} s, under the minimum of "
                f"{human_bytes(self.rate)}/s (after {human_bytes(size)} in all)"
            )
        self.start, self.size = now, size


__all__ = ["StallRule", "answer_timeout", "rule_on"]
