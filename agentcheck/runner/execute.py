"""Run one scenario once: build the gateway around its fixtures, drive the agent, return the trace.

Whatever the agent does — returns, raises, hangs, returns garbage, hits a cap — this returns a
trace; the reason a run ended early is in `trace.stop`. Judging is the next layer's job.
"""

from __future__ import annotations

import asyncio
import json
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentcheck.agents.base import Agent, RunContext, ToolBox
from agentcheck.llm.binding import bind_models
from agentcheck.project import AgentSpec
from agentcheck.runner.clock import VirtualClock
from agentcheck.runner.fixtures import FixtureBook, run_seed
from agentcheck.runner.gateway import PolicyHook, ToolCatalog, ToolGateway
from agentcheck.runner.recorder import RunRecorder
from agentcheck.runner.signals import AgentAborted, RunStopped
from agentcheck.runner.state import StateStore
from agentcheck.scenario import Scenario
from agentcheck.serialize import as_plain_json
from agentcheck.trace import StopKind, Trace


@dataclass(slots=True)
class RunSetup:
    """What every run of a session shares: the catalog, built agents and defaults."""

    catalog: ToolCatalog
    agents: dict[str, Agent]
    agent_specs: dict[str, AgentSpec]
    default_timeout_s: float
    policy: PolicyHook | None = None
    policy_for: Callable[[Scenario], PolicyHook] | None = None
    """Builds each run's own policy hook (approver, kill switch); used instead of `policy` when set."""
    model_base_url: str | None = None
    model_hub: Any = None
    """The session's model proxy (agentcheck.llm.proxy.ModelHub) when any agent uses models."""


def new_trace_id() -> str:
    """32 hex digits, the OpenTelemetry trace-id form, so traces can be exported as spans later."""
    return uuid.uuid4().hex


def _check_output(output: Any) -> str | None:
    """Why an agent's return value is not a usable final answer, or None when it is."""
    if output is None:
        return "the agent returned None; return the final answer as a str or JSON data"
    if isinstance(output, str):
        return None
    try:
        json.dumps(output, allow_nan=False)
    except RecursionError:
        return f"the agent returned {type(output).__name__} nested too deeply to be JSON data"
    except (TypeError, ValueError) as exc:
        return f"the agent returned {type(output).__name__}, which is not JSON data ({exc})"
    return None


_HARNESS_DIRS = (str(Path(__file__).resolve().parents[1]), str(Path(asyncio.__file__).parent))


def agent_traceback(exc: BaseException) -> str:
    """The traceback of an agent's crash without the harness's own frames, which only hide the
    agent's."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(_HARNESS_DIRS) and "threading.py" not in frame.filename
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines.extend(traceback.format_exception_only(exc))
    return "".join(lines)


def _timeout_for(scenario: Scenario, spec: AgentSpec, setup: RunSetup) -> float:
    candidates = [t for t in (scenario.timeout_s, spec.timeout_s) if t is not None]
    timeout = candidates[0] if candidates else setup.default_timeout_s
    cap = scenario.expect.budget.max_wall_time_s
    return min(timeout, cap) if cap is not None else timeout


async def execute(scenario: Scenario, setup: RunSetup, *, trial: int = 1) -> Trace:
    spec = setup.agent_specs[scenario.agent]
    trace = Trace(
        trace_id=new_trace_id(),
        scenario_id=scenario.id,
        trial=trial,
        agent=spec.name,
        agent_version=spec.version,
        started_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    clock = VirtualClock()
    recorder = RunRecorder(trace, scenario.expect.budget, clock)
    book = FixtureBook(scenario.fixtures, seed=run_seed(scenario, trial), state=StateStore(scenario.state))
    gateway = ToolGateway(
        catalog=setup.catalog,
        visible=frozenset(spec.tools) if spec.tools is not None else None,
        fixtures=book,
        recorder=recorder,
        policy=setup.policy_for(scenario) if setup.policy_for is not None else setup.policy,
    )
    context = RunContext(
        scenario_id=scenario.id,
        trial=trial,
        trace_id=trace.trace_id,
        agent=spec,
        clock=clock,
        record_model_call=recorder.record_model_call,
        model_base_url=setup.model_base_url,
    )
    release_models = bind_models(setup.model_hub, scenario, spec, context, recorder)
    timeout = _timeout_for(scenario, spec, setup)
    agent = setup.agents[scenario.agent]
    try:
        output = await asyncio.wait_for(agent.run(scenario.input, ToolBox(gateway), context), timeout)
    except TimeoutError:
        recorder.halt(StopKind.TIMEOUT, f"the agent did not finish within {timeout:g}s")
    except RunStopped:
        pass  # the reason is already on the trace
    except asyncio.CancelledError:
        recorder.halt(StopKind.CANCELLED, "the run was cancelled")
        raise
    except Exception as exc:
        # Any exception from agent code, SystemExit and KeyboardInterrupt included (they arrive wrapped
        # as AgentAborted), fails that scenario and never the whole run.
        if isinstance(exc, AgentAborted):
            exc = exc.original
        recorder.halt(StopKind.CRASHED, f"the agent raised {type(exc).__name__}: {exc}", agent_traceback(exc))
    else:
        if trace.stop is None:
            problem = _check_output(output)
            if problem is None:
                trace.output = as_plain_json(output)  # a tuple as a list, a str subclass as text
            else:
                recorder.halt(StopKind.BAD_OUTPUT, problem)
    finally:
        recorder.close()
        if scenario.state:
            trace.state = as_plain_json(book.state.snapshot())
        release_models()
    return trace
