"""Run a generator (or a call) in a forked worker process and read its items back, in order, through a pipe.

`agentcheck merge` reads each shard file in a worker of its own this way (agentcheck.replay): parsing
20 000 saved results and rendering their report lines is most of a merge, and the shards are
independent, so on a machine with cores to spare they are read side by side while this process
places the results in order. The worker is a fork: it starts with this process's state (the loaded
project, the reporters' settings) and needs nothing pickled on the way in; its items are pickled in
batches on the way out. An exception in the worker is raised here, where the item after the last one
it sent would have come; a worker that dies without a word is an internal error. The worker ends with
`os._exit`: it never runs this process's exit handlers nor flushes its buffered files.

Only where `fork` is the platform's own way to start a process (Linux and other POSIX systems; not
macOS, where forking a process that may hold system frameworks is unsafe, nor Windows): see `available`.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

BATCH = 64
"""Items per pickle: one write and one read per batch, not per item."""


class WorkerDied(RuntimeError):
    """The worker process ended without finishing or raising (killed, say)."""


WORKERS_ENV = "AGENTCHECK_WORKERS"
"""Set to 0 to keep everything in one process (a sandbox that frowns on fork, a CPU quota of one)."""


def available() -> bool:
    """Whether workers can be forked here, and there is a second core for them to use."""
    if os.environ.get(WORKERS_ENV, "").strip() == "0":
        return False
    if not hasattr(os, "fork") or sys.platform in ("darwin", "win32", "cygwin", "emscripten", "wasi"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores > 1


def forked_iter(make: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The items of `make()`, made in a worker process forked when the first item is asked for.
    Closing this generator early (or an exception here) stops the worker; the worker is always
    waited for."""
    return (yield from started(make))


def forked_call(call: Callable[[], object]) -> Callable[[], None]:
    """Start `call()` in a worker process forked now; the function returned waits for it to end and
    raises what it raised. Call that function (or the worker is left unwaited until this process ends)."""

    def make() -> Iterator[None]:
        call()
        return iter(())

    reader = started(make)

    def join() -> None:
        for _ in reader:
            pass

    return join


def started(make: Callable[[], Iterator[T]]) -> Iterator[T]:
    """`forked_iter`, with the worker forked now, not when the first item is asked for. Read the
    generator returned to its end (or the worker is left unwaited until this process ends)."""
    read_end, write_end = os.pipe()
    _widen(write_end)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the worker (its work is checked through what it sends)
        _work(make, read_end, write_end)
    os.close(write_end)
    return _read(pid, read_end)


def _read(pid: int, read_end: int) -> Iterator[T]:
    try:
        with os.fdopen(read_end, "rb", buffering=1 << 20) as pipe:
            while True:
                try:
                    kind, items, *error = pickle.load(pipe)
                except EOFError:
                    raise WorkerDied("a worker process ended without finishing its work") from None
                yield from items
                if kind == "end":
                    return
                if kind == "error":
                    raise error[0]
    finally:
        _reap(pid)


PIPE_BYTES = 1 << 20
"""The pipe's capacity asked for (Linux; its default is 64 KB): a worker writes a batch and goes on
to the next while this side is still busy with the other shards' batches, instead of waiting."""


def _widen(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):  # (not Linux, or more than /proc/sys/fs/pipe-max-size allows)
        pass


def _work(make: Callable[[], Iterator[T]], read_end: int, write_end: int) -> None:  # pragma: no cover
    code = 0
    try:
        os.close(read_end)
        with os.fdopen(write_end, "wb", buffering=1 << 16) as pipe:
            batch: list[T] = []
            try:
                for item in make():
                    batch.append(item)
                    if len(batch) >= BATCH:
                        pickle.dump(("items", batch), pipe, protocol=pickle.HIGHEST_PROTOCOL)
                        batch = []
                pickle.dump(("end", batch), pipe, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # (Ctrl-C too: the parent decides what an interrupt means)
                try:
                    pickle.dump(("error", batch, exc), pipe, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:
                    pickle.dump(("error", batch, RuntimeError(f"{type(exc).__name__}: {exc}")), pipe,
                                protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _reap(pid: int) -> None:
    """Wait for the worker, stopping it first if it is still at work (this side stopped reading)."""
    import signal

    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass
