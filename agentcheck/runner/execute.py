"""Run one scenario once: build the gateway around its fixtures, drive the agent, return the trace.

Whatever the agent does — returns, raises, hangs, returns garbage, hits a cap — this returns a
trace; the reason a run ended early is in `trace.stop`. Judging is the next layer's job.
"""

from __future__ import annotations

import asyncio
import json
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentcheck.agents.base import Agent, RunContext, ToolBox
from agentcheck.llm.binding import bind_models
from agentcheck.project import AgentSpec
from agentcheck.runner.clock import VirtualClock
from agentcheck.runner.fixtures import FixtureBook
from agentcheck.runner.gateway import PolicyHook, ToolCatalog, ToolGateway
from agentcheck.runner.recorder import RunRecorder
from agentcheck.runner.signals import RunStopped
from agentcheck.scenario import Scenario
from agentcheck.trace import StopKind, Trace

_JSON_SCALARS = (str, int, float, bool)


@dataclass(slots=True)
class RunSetup:
    """What every run of a session shares: the catalog, built agents and defaults."""

    catalog: ToolCatalog
    agents: dict[str, Agent]
    agent_specs: dict[str, AgentSpec]
    default_timeout_s: float
    policy: PolicyHook | None = None
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
    if isinstance(output, _JSON_SCALARS):
        return None
    try:
        json.dumps(output)
    except (TypeError, ValueError) as exc:
        return f"the agent returned {type(output).__name__}, which is not JSON data ({exc})"
    return None


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
    gateway = ToolGateway(
        catalog=setup.catalog,
        visible=frozenset(spec.tools) if spec.tools is not None else None,
        fixtures=FixtureBook(scenario.fixtures),
        recorder=recorder,
        policy=setup.policy,
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
    except Exception as exc:  # the agent's own crash fails its scenario, never the whole run
        recorder.halt(
            StopKind.CRASHED,
            f"the agent raised {type(exc).__name__}: {exc}",
            "".join(traceback.format_exception(exc)),
        )
    else:
        if trace.stop is None:
            problem = _check_output(output)
            if problem is None:
                trace.output = output
            else:
                recorder.halt(StopKind.BAD_OUTPUT, problem)
    finally:
        recorder.close()
        release_models()
    return trace
