"""Run a generator (or a call) in a forked worker process and read its items back, in order, through a pipe.

`agentcheck merge` reads each shard file in a worker of its own this way (agentcheck.replay): parsing
20 000 saved results and rendering their report lines is most of a merge, and the shards are
independent, so on a machine with cores to spare they are read side by side while this process
places the results in order. The worker is a fork: it starts with this process's state (the loaded
project, the reporters' settings) and needs nothing pickled on the way in; its items come back in
batches, marshalled when they are plain values, else pickled. An exception in the worker is raised
here, where the item after the last one it sent would have come; a worker that dies without a word is
an internal error. The worker ends with `os._exit`: it never runs this process's exit handlers nor
flushes its buffered files.

Only where `fork` is the platform's own way to start a process (Linux and other POSIX systems; not
macOS, where forking a process that may hold system frameworks is unsafe, nor Windows): see `available`.
"""

from __future__ import annotations

import marshal
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

BATCH = 64
"""Items per message: one write and one read per batch, not per item."""

_MARSHAL, _PICKLE = b"M", b"P"
"""A message's first byte: how the rest is encoded. Batches of plain values (tuples, text, bytes,
numbers: merge's records) go by `marshal`, which writes and reads them in half pickle's time (merge
sends 20 000 records of 2 KB); anything else (a shard's header object, an exception) by pickle."""


class WorkerDied(RuntimeError):
    """The worker process ended without finishing or raising (killed, say)."""


WORKERS_ENV = "AGENTCHECK_WORKERS"
"""Set to 0 (or 1, off, false, no) to keep everything in one process (a sandbox that frowns on fork,
a CPU quota of one)."""


def available() -> bool:
    """Whether workers can be forked here: a platform that forks, a second core for them to use, no
    thread running in this process (a fork copies a thread's locks but not the thread: a rich
    progress bar's refresher, say), and not turned off (AGENTCHECK_WORKERS=0 or 1)."""
    if os.environ.get(WORKERS_ENV, "").strip().lower() in ("0", "1", "off", "false", "no"):
        return False
    if not hasattr(os, "fork") or sys.platform in ("darwin", "win32", "cygwin", "emscripten", "wasi"):
        return False
    import threading

    if threading.active_count() > 1:
        return False
    return cores() > 1


def cores() -> int:
    """The cores this process may run on (its CPU affinity, as `taskset` or a container's cpuset sets
    it), not the machine's: worker counts follow it."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def forked_call(call: Callable[[], object]) -> Worker:
    """Start `call()` in a worker process forked now. `wait(worker)` waits for it to end and raises
    what it raised; `worker.close()` abandons it (stopped if still at work, always waited for)."""

    def make() -> Iterator[None]:
        call()
        return iter(())

    return Worker(make)


def wait(worker: Worker) -> None:
    """Read `worker` to its end (see forked_call)."""
    for _ in worker:
        pass


class Worker:
    """A worker process forked now to run `make()`; iterate it for the items (once), `close()` to stop
    it (safe at any time, also before or after reading: the worker is always waited for)."""

    def __init__(self, make: Callable[[], Iterator[T]]):
        read_end, write_end = os.pipe()
        _widen(write_end)
        blocked = _block_interrupts()  # (until the worker is inside its own handler: see _work)
        try:
            pid = os.fork()
        except BaseException:
            os.close(read_end)
            os.close(write_end)
            _unblock_interrupts(blocked)
            raise
        if pid == 0:  # pragma: no cover - the worker (its work is checked through what it sends)
            _work(make, read_end, write_end, blocked)
        _unblock_interrupts(blocked)
        os.close(write_end)
        self.pid: int | None = pid
        self._read_end: int | None = read_end
        self._finished = False

    def __iter__(self) -> Iterator[Any]:
        read_end, self._read_end = self._read_end, None
        if read_end is None:
            return
        try:
            with os.fdopen(read_end, "rb", buffering=1 << 20) as pipe:
                while True:
                    try:
                        kind, items, *error = _receive(pipe)
                    except Exception as exc:  # (EOF, a cut-off message: the worker died mid-write)
                        raise WorkerDied(f"a worker process ended without finishing its work ({exc!r}); run the "
                                         f"command again, or with {WORKERS_ENV}=0 to keep it in one process") from None
                    yield from items
                    if kind != "items":
                        self._finished = True
                        if kind == "error":
                            raise error[0]
                        return
        finally:
            self.close()

    def close(self) -> None:
        if self._read_end is not None:
            os.close(self._read_end)
            self._read_end = None
        pid, self.pid = self.pid, None
        if pid is not None:
            _reap(pid, stop=not self._finished)


PIPE_BYTES = 1 << 20
"""The pipe's capacity asked for (Linux; its default is 64 KB): a worker writes a batch and goes on
to the next while this side is still busy with the other shards' batches, instead of waiting."""


def _widen(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):  # (not Linux, or more than /proc/sys/fs/pipe-max-size allows)
        pass


def _block_interrupts() -> set[int] | None:
    """Hold SIGINT back around the fork, so a Ctrl-C cannot land in the new worker before its own
    handler is in place (it would unwind this process's stack, copied into the worker)."""
    import signal

    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, OSError, ValueError):
        return None


def _unblock_interrupts(previous: set[int] | None) -> None:
    import signal

    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _sendable(exc: BaseException) -> BaseException:
    """`exc` as it can travel to the parent: itself when it survives a pickle round trip (with the
    worker's traceback as a note, unless it is bad input or an interrupt), else a RuntimeError that
    names it."""
    import traceback

    from agentcheck.problems import BadInput

    if not isinstance(exc, (BadInput, KeyboardInterrupt)):
        exc.add_note("in a worker process:\n" + "".join(traceback.format_exception(exc)).rstrip())
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}\n" + "\n".join(getattr(exc, "__notes__", [])))


def _work(make: Callable[[], Iterator[T]], read_end: int, write_end: int,
          blocked: set[int] | None) -> None:  # pragma: no cover
    code = 0
    try:
        _unblock_interrupts(blocked)
        os.close(read_end)
        with os.fdopen(write_end, "wb", buffering=1 << 16) as pipe:
            batch: list[T] = []
            try:
                for item in make():
                    batch.append(item)
                    if len(batch) >= BATCH:
                        _send(pipe, ("items", batch))
                        batch = []
                _send(pipe, ("end", batch))
            except BaseException as exc:  # (Ctrl-C too: the parent decides what an interrupt means)
                _send(pipe, ("error", batch, _sendable(exc)))
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _send(pipe: Any, message: tuple[Any, ...]) -> None:
    """Write one message: its kind (see _MARSHAL), its length, then it, marshalled when marshal takes it
    whole, else pickled. (Framed, so the reader loads it from bytes: `marshal.load` on a file reads
    each value it holds with a call of its own.)"""
    try:
        kind, data = _MARSHAL, marshal.dumps(message)
    except ValueError:  # (an object marshal does not know, at any depth)
        kind, data = _PICKLE, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(kind + len(data).to_bytes(8, "little"))
    pipe.write(data)


def _receive(pipe: Any) -> tuple[Any, ...]:
    """Read one message (see _send); EOFError when the pipe ends before a whole one."""
    head = pipe.read(9)
    if len(head) < 9:
        raise EOFError("the pipe ended" if not head else "the pipe ended inside a message")
    size = int.from_bytes(head[1:], "little")
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError("the pipe ended inside a message")
    if head[:1] == _MARSHAL:
        return marshal.loads(data)  # type: ignore[no-any-return]
    if head[:1] == _PICKLE:
        return pickle.loads(data)  # type: ignore[no-any-return]
    raise EOFError(f"a message of unknown kind {head[:1]!r}")


def _reap(pid: int, *, stop: bool) -> None:
    """Wait for the worker; `stop`: kill it first if it is still at work (this side stopped reading)."""
    import signal

    try:
        if stop and os.waitpid(pid, os.WNOHANG)[0] == 0:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
