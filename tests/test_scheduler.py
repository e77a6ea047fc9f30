"""Bounded concurrency, results handed over as they finish, and fail-fast."""

from __future__ import annotations

import asyncio

from agentcheck.runner.scheduler import run_bounded


def test_runs_at_most_n_at_once_and_delivers_in_finishing_order():
    running = 0
    peak = 0
    delivered = []

    async def job(i):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (5 - i))
        running -= 1
        return i

    not_started = asyncio.run(run_bounded(range(5), job, concurrency=2, on_result=delivered.append))
    assert peak == 2
    assert sorted(delivered) == [0, 1, 2, 3, 4]
    assert delivered[0] == 1  # 1 finishes before 0 although 0 started first
    assert not_started == 0


def test_fail_fast_starts_nothing_new_after_a_failure():
    delivered = []

    async def job(i):
        await asyncio.sleep(0)
        return i

    not_started = asyncio.run(
        run_bounded(range(10), job, concurrency=1, on_result=delivered.append, stop_when=lambda r: r == 2)
    )
    assert delivered == [0, 1, 2]
    assert not_started == 7
