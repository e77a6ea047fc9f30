"""Run many jobs with bounded concurrency, handing each result over as soon as it is ready.

Results arrive in finishing order; each carries its collection index, so reporters can restore the
stable order. With `stop_when`, no new job starts once a result satisfies it (fail-fast); jobs
already running finish and are reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def run_bounded(
    items: Iterable[T],
    job: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    on_result: Callable[[R], None],
    stop_when: Callable[[R], bool] | None = None,
) -> int:
    """Returns how many items were never started (non-zero only after a fail-fast stop)."""
    iterator = iter(items)
    pending: set[asyncio.Task[R]] = set()
    stopping = False
    not_started = 0

    def refill() -> None:
        while not stopping and len(pending) < concurrency:
            item = next(iterator, _END)
            if item is _END:
                return
            pending.add(asyncio.ensure_future(job(item)))  # type: ignore[arg-type]

    try:
        refill()
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                pending.discard(task)
                result = task.result()
                on_result(result)
                if stop_when is not None and stop_when(result):
                    stopping = True
            refill()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    if stopping:
        not_started = sum(1 for _ in iterator)
    return not_started


_END = object()
