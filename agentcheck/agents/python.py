"""The `python` adapter: an importable callable `module:function`, sync or async.

The callable takes `(task)`, `(task, tools)` or `(task, tools, context)`. A sync callable runs on an
agent thread of its own, so a hung agent cannot block the event loop or other scenarios; when its timeout
passes, the run is stopped and its next tool call raises RunStopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentcheck.agents.base import AgentLoadError, RunContext, ToolBox
from agentcheck.problems import did_you_mean
from agentcheck.project import AgentSpec
from agentcheck.runner.signals import AgentAborted
from agentcheck.scenario import AgentInput


def load_callable(entrypoint: str, project_root: Path) -> Any:
    module_name, sep, attr = entrypoint.partition(":")
    if not sep or not module_name or not attr:
        raise AgentLoadError(
            f"entrypoint '{entrypoint}' is not of the form 'module:function'",
            "for example 'agents.refunds:run'",
        )
    root = str(project_root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except SystemExit as exc:
        raise AgentLoadError(
            f"entrypoint '{entrypoint}': module '{module_name}' called sys.exit({exc.code!r}) while importing",
            "move the exit under `if __name__ == \"__main__\":`",
        ) from None
    except Exception as exc:  # any import-time failure is the user's to fix, shown in one line
        frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
        last = next((f for f in reversed(frames) if _within(f.filename, project_root)), None)  # the user's line
        where = f" ({Path(last.filename).name}:{last.lineno})" if last else ""
        raise AgentLoadError(
            f"entrypoint '{entrypoint}' does not import: {type(exc).__name__}: {exc}{where}",
            _import_hint(exc, module_name),
        ) from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_") and callable(getattr(target, n, None))]
            raise AgentLoadError(
                f"entrypoint '{entrypoint}': module '{module_name}' has no attribute '{attr}'",
                did_you_mean(part, names) or (f"it defines: {', '.join(sorted(names)[:8])}" if names else
                                              "define the agent function there"),
            )
        target = getattr(target, part)
    if not callable(target):
        raise AgentLoadError(f"entrypoint '{entrypoint}' is not callable", None)
    return target


def _import_hint(exc: Exception, module_name: str) -> str:
    """How to fix a module that does not import: its path when it is the module itself that is not
    found, else what broke inside it."""
    if isinstance(exc, ModuleNotFoundError):
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            return "check the module path: it is imported from the project root (the folder of agentcheck.yaml)"
        top = missing.split(".")[0] or "it"
        return f"install the package the module imports ({top}) in this environment, or add it to the project"
    if isinstance(exc, SyntaxError):
        return f"fix the syntax error in {Path(exc.filename).name if exc.filename else 'the module'}:{exc.lineno}"
    return "fix the error the module raises while it is imported, at the file and line shown"


def _within(filename: str, root: Path) -> bool:
    """Whether a traceback frame's file is in the project (not importlib's, not a library's)."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return False
    try:
        return Path(filename).resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):
        return False


SIGNATURES = "run(task), run(task, tools) or run(task, tools, context)"


def _arity(func: Any, entrypoint: str = "") -> int:
    """How many of (task, tools, context) the agent takes; an AgentLoadError when it can take none of
    those forms (no parameter at all, more than three required, or a required keyword-only one), so
    `validate` says so instead of every run erroring."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return 3
    required_keywords = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if required_keywords:
        raise AgentLoadError(f"entrypoint '{entrypoint}' requires the keyword argument(s) "
                             f"{', '.join(required_keywords)}; agentcheck calls {SIGNATURES}",
                             "give them defaults, or take them from `task.data`")
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 3
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if not positional or len(required) > 3:
        got = "no parameters" if not positional else f"{len(required)} required parameters"
        raise AgentLoadError(f"entrypoint '{entrypoint}' takes {got}; agentcheck calls {SIGNATURES}",
                             "define it as `def run(task):` (add `tools`, then `context`, when it needs them)")
    return max(1, min(3, len(positional)))


class PythonAgent:
    def __init__(self, spec: AgentSpec, project_root: Path):
        if not spec.entrypoint:
            raise AgentLoadError(f"agent '{spec.name}' of kind python needs an entrypoint", "module:function")
        self.spec = spec
        self.func = load_callable(spec.entrypoint, project_root)
        self.arity = _arity(self.func, spec.entrypoint)
        self.is_async = inspect.iscoroutinefunction(self.func) or inspect.iscoroutinefunction(
            getattr(self.func, "__call__", None)  # noqa: B004 - an async __call__ on an instance
        )

    def _args(self, task: AgentInput, tools: ToolBox, context: RunContext) -> tuple[Any, ...]:
        return (task, tools, context)[: self.arity]

    async def run(self, task: AgentInput, tools: ToolBox, context: RunContext) -> Any:
        args = self._args(task, tools, context)
        if self.is_async:
            # An async agent gets its own thread and event loop: one that blocks (time.sleep, a sync
            # HTTP call) then stalls only itself, and its timeout still fires.
            return await _in_thread(_run_coroutine, (self.func, args))
        return await _in_thread(self.func, args)


def _run_coroutine(func: Any, args: tuple[Any, ...]) -> Any:
    return asyncio.run(func(*args))


class _AgentThreads:
    """A cached pool of daemon threads for sync agents.

    Threads are reused (starting one per run costs more than a whole instant run), and a new one is
    started whenever none is idle, so an agent that hangs forever keeps its thread without starving
    the runs after it. Idle threads wait on the queue; as daemons they never delay exit.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
        if spawn:
            threading.Thread(target=self._work, daemon=True, name="agentcheck-agent").start()
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            self._jobs.get()()
            with self._lock:
                self._idle += 1


_THREADS = _AgentThreads()


async def _in_thread(func: Any, args: tuple[Any, ...]) -> Any:
    """Run a sync callable on an agent thread; the awaiting task can be cancelled (timeout)
    without waiting for the thread, which a hung agent would never finish."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def work() -> None:
        try:
            value = func(*args)
        except (SystemExit, KeyboardInterrupt) as exc:
            wrapped = AgentAborted(exc)
            wrapped.__traceback__ = exc.__traceback__
            outcome: tuple[bool, Any] = (False, wrapped)
        except BaseException as exc:
            outcome = (False, exc)
        else:
            outcome = (True, value)
        # RuntimeError: the run already ended (timed out) and its loop is gone; nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    _THREADS.submit(work)
    return await future
