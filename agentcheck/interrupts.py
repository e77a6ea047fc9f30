"""Ctrl-C held back while something must happen whole.

`agentcheck merge` delivers each saved result to the stream, the numbers and every reporter whole, so
an interrupted merge's reports all hold the same runs; and every command starts its reporters whole,
so a Ctrl-C meanwhile ends the run right after they started, with its reports (an interrupted run's),
rather than with none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Interrupt:
    """A Ctrl-C held back until `check()` (see deferred_interrupt)."""

    def __init__(self) -> None:
        self.pending = False

    def check(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def take(self) -> bool:
        """Whether a Ctrl-C is held, no longer holding it (the caller acts on it)."""
        pending, self.pending = self.pending, False
        return pending

    def _signalled(self, signum: int, frame: object) -> None:
        self.pending = True


@contextmanager
def deferred_interrupt() -> Iterator[Interrupt]:
    """Hold Ctrl-C back inside the block until its `check()` (a Ctrl-C in the middle of a reporter call
    would leave one report a run short, or one reporter unstarted). Only where Python's own handler is
    in place (the main thread; not when SIGINT is ignored or handled by the embedding program). A
    Ctrl-C still held when the block ends is raised then, unless the caller took it (`take`)."""
    import signal
    import threading

    state = Interrupt()
    if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield state
        return
    signal.signal(signal.SIGINT, state._signalled)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    state.check()  # (one that came while the block was finishing)
