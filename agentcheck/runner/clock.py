"""A per-run clock whose waits are simulated: latency and back-off cost no wall time.

A fixture's `latency_ms` and an agent's retry sleep advance the virtual offset instead of sleeping,
so a drill with a 30 s Retry-After finishes at once while the trace, and every time budget, still
see the 30 s.
"""

from __future__ import annotations

import time


class VirtualClock:
    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._virtual_ms = 0.0

    def now_ms(self) -> float:
        """Milliseconds since the run started: real elapsed time plus every simulated wait."""
        return (time.perf_counter() - self._start) * 1000.0 + self._virtual_ms

    @property
    def virtual_ms(self) -> float:
        return self._virtual_ms

    def advance(self, ms: float) -> None:
        if ms > 0:
            self._virtual_ms += ms

    def sleep(self, seconds: float) -> None:
        """What an agent calls instead of time.sleep: the wait is recorded, not spent."""
        self.advance(seconds * 1000.0)
