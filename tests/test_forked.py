"""agentcheck.forked: a generator run in a forked worker process gives the same items, in order; its
exceptions arrive where they happened; a worker that dies is an error, never a short result; a reader
that stops early stops the worker; no worker is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from agentcheck import forked
from agentcheck.problems import BadInput, Problem

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: POSIX only (merge reads in-process there)")


def _children() -> set[int]:
    """This process's child processes still around (zombies included)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        found.add(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


@pytest.fixture(autouse=True)
def no_worker_left_behind():
    before = _children()
    yield
    assert _children() - before == set()


@pytest.mark.parametrize("count", [0, 1, forked.BATCH - 1, forked.BATCH, 3 * forked.BATCH + 7])
def test_items_arrive_in_order_and_in_full(count: int):
    def make() -> Iterator[tuple[int, bytes, dict[str, int]]]:
        for i in range(count):
            yield i, b"x" * (i % 5000), {"pid": os.getpid()}

    items = list(forked.Worker(make))
    assert [(i, b) for i, b, _ in items] == [(i, b"x" * (i % 5000)) for i in range(count)]
    assert all(extra["pid"] != os.getpid() for _, _, extra in items)  # made in another process


def test_plain_batches_are_marshalled_and_others_pickled():
    """A batch of plain values (tuples, text, bytes, numbers: merge's records) goes by marshal, a batch
    holding any other object (or an exception) by pickle; the items arrive the same either way, in
    order; a pipe that ends, or holds something else, is an EOFError (a worker that died)."""
    import io
    from pathlib import PurePosixPath

    def make() -> Iterator[object]:
        for i in range(forked.BATCH * 3):
            if forked.BATCH <= i < 2 * forked.BATCH and i % 7 == 0:
                yield (i, PurePosixPath(f"p{i}"))  # (such an item: its whole batch is pickled)
            else:
                yield (i, f"s{i}", b"raw", 1.5, None, True, ("t",))

    items = list(forked.Worker(make))
    assert [item[0] for item in items] == list(range(forked.BATCH * 3))
    plain, other = next(i for i in range(forked.BATCH, 2 * forked.BATCH) if i % 7), forked.BATCH // 7 * 7 + 7
    assert items[plain] == (plain, f"s{plain}", b"raw", 1.5, None, True, ("t",))
    assert items[other] == (other, PurePosixPath(f"p{other}"))
    for message, tag in ((("items", [(1, "a", b"b", 2.5, None)]), forked._MARSHAL),
                         (("items", [PurePosixPath("x")]), forked._PICKLE),
                         (("error", [], ValueError("boom")), forked._PICKLE)):
        buffer = io.BytesIO()
        forked._send(buffer, message)
        assert buffer.getvalue()[:1] == tag
        buffer.seek(0)
        assert forked._receive(buffer)[:2] == message[:2]
    with pytest.raises(EOFError):
        forked._receive(io.BytesIO(b""))
    with pytest.raises(EOFError, match="unknown kind"):
        forked._receive(io.BytesIO(b"Z" + (3).to_bytes(8, "little") + b"abc"))
    with pytest.raises(EOFError, match="inside a message"):
        forked._receive(io.BytesIO(forked._MARSHAL + (30).to_bytes(8, "little") + b"cut"))


def test_an_exception_arrives_after_the_items_before_it():
    def make() -> Iterator[int]:
        yield from range(forked.BATCH + 3)
        raise BadInput([Problem("shard.json", 3, "results", "a result line is not JSON", "run it again")])

    got: list[int] = []
    with pytest.raises(BadInput) as raised:
        for item in forked.Worker(make):
            got.append(item)
    assert got == list(range(forked.BATCH + 3))
    assert raised.value.problems == [Problem("shard.json", 3, "results", "a result line is not JSON", "run it again")]


def test_an_interrupt_in_the_worker_is_an_interrupt_here():
    def make() -> Iterator[int]:
        yield 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(forked.Worker(make))


def test_a_worker_that_dies_is_an_error_not_a_short_shard():
    def make() -> Iterator[int]:
        yield from range(forked.BATCH)  # one batch made (perhaps still in the worker's buffer)
        os.kill(os.getpid(), signal.SIGKILL)
        yield 0  # never

    got: list[int] = []
    with pytest.raises(forked.WorkerDied):
        for item in forked.Worker(make):
            got.append(item)
    assert got == list(range(len(got)))  # what did arrive is whole and in order


def test_a_reader_that_stops_early_stops_the_worker():
    def make() -> Iterator[bytes]:
        while True:  # would fill the pipe and wait forever
            yield b"y" * 10_000

    worker = forked.Worker(make)
    assert next(iter(worker)) == b"y" * 10_000
    worker.close()  # the fixture checks that the worker is gone


def test_an_unpicklable_exception_still_says_what_it_was():
    class Odd(Exception):
        def __reduce__(self):
            raise TypeError("no")

    def make() -> Iterator[int]:
        raise Odd("the shard was odd")
        yield 0

    with pytest.raises(RuntimeError, match="Odd: the shard was odd"):
        list(forked.Worker(make))


def test_workers_can_be_turned_off_and_never_fork_a_process_with_threads(monkeypatch: pytest.MonkeyPatch):
    import threading

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    monkeypatch.delenv(forked.WORKERS_ENV, raising=False)
    assert forked.available() is (cores > 1 and threading.active_count() == 1)
    for off in ("0", "1", " 0 ", "off", "False", "no"):
        monkeypatch.setenv(forked.WORKERS_ENV, off)
        assert forked.available() is False
    monkeypatch.delenv(forked.WORKERS_ENV)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert forked.available() is False  # (a fork copies a thread's locks, not the thread)
    finally:
        stop.set()
        thread.join()


class _TwoArguments(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a} and {b}")


def test_an_exception_that_cannot_be_rebuilt_still_says_what_it_was_and_where():
    def make() -> Iterator[int]:
        raise _TwoArguments("this", "that")
        yield 0

    with pytest.raises(RuntimeError, match="_TwoArguments: this and that") as raised:
        list(forked.Worker(make))
    assert "in a worker process" in str(raised.value)


def test_a_workers_error_carries_its_traceback_as_a_note():
    def make() -> Iterator[int]:
        raise ValueError("bad shard")
        yield 0

    with pytest.raises(ValueError, match="bad shard") as raised:
        list(forked.Worker(make))
    assert any("in a worker process" in note and "make" in note for note in raised.value.__notes__)


def test_a_call_in_a_worker_is_waited_for_or_abandoned():
    done = []
    worker = forked.forked_call(lambda: done.append(1))
    forked.wait(worker)
    assert done == []  # (it ran in the worker)

    def failing() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        forked.wait(forked.forked_call(failing))
    forked.forked_call(lambda: __import__("time").sleep(30)).close()  # the fixture checks it is gone


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_worker_counts_follow_the_cpu_affinity_not_the_machine():
    """Pinned to one core (taskset, a container's cpuset), nothing is forked: a worker would only take
    turns with this process on that core."""
    code = ("import os; from agentcheck import forked; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "print(forked.cores(), forked.available(), os.cpu_count())")
    env = {k: v for k, v in os.environ.items() if k != forked.WORKERS_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    pinned, available, machine = out.split()
    assert (pinned, available) == ("1", "False") and int(machine) >= 1
