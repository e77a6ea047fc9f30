"""Binding one run to the session's model proxy (called by the runner for every run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentcheck.llm.scripted import script_turns

if TYPE_CHECKING:
    from agentcheck.agents.base import RunContext
    from agentcheck.llm.proxy import ModelHub
    from agentcheck.project import AgentSpec
    from agentcheck.runner.recorder import RunRecorder
    from agentcheck.scenario import Scenario


PLACEHOLDER_KEY = "agentcheck-proxy"
"""The API key agents are given for the proxy; the real key stays with the proxy."""
ROUTE_HEADER = "x-agentcheck-route"
"""The header an agent names its model route in (`default` or `escalate`)."""


def _nothing() -> None:
    return None


def needs_models(spec: AgentSpec, scenario: Scenario) -> bool:
    return spec.model is not None or scenario.extensions.get("model_script") is not None


def bind_models(
    hub: ModelHub | None, scenario: Scenario, spec: AgentSpec, context: RunContext, recorder: RunRecorder
) -> Callable[[], None]:
    """Give the run its proxy address (context.model_base_url, and `model_env` in context.extras for
    subprocesses); returns what to call when the run ends."""
    if hub is None or not needs_models(spec, scenario):
        return _nothing
    script: Any = scenario.extensions.get("model_script")
    url = hub.open_run(
        context.trace_id,
        scenario_id=scenario.id,
        trial=context.trial,
        recorder=recorder,
        clock=context.clock,
        settings=spec.model,
        script=script_turns(script) if script is not None else None,
    )
    context.model_base_url = url
    context.extras["model_env"] = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": PLACEHOLDER_KEY}
    return lambda: hub.close_run(context.trace_id)
