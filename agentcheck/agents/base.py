"""The agent seam: one method the runner drives, whatever the agent is built with.

An adapter turns an `AgentSpec` into an `Agent`; `Agent.run` gets the scenario input, a `ToolBox`
whose calls go through the gateway, and a `RunContext`, and returns the final output. The runner and
the judge only ever see this interface, so new kinds (a built-in OpenAI loop, a subprocess protocol,
an MCP server) are new adapters, not changes to the runner.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agentcheck.project import AgentSpec
from agentcheck.runner.clock import VirtualClock
from agentcheck.runner.gateway import ToolGateway, ToolResponse
from agentcheck.runner.signals import ToolCallError
from agentcheck.scenario import AgentInput


class AgentLoadError(Exception):
    """An agent that cannot be built (its entrypoint will not import); reported as bad input."""

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message)


class ToolBox:
    """What agent code calls tools through. `tools.lookup_order(order_id="A1")` or
    `tools.call("lookup_order", order_id="A1")` return the tool's value or raise ToolCallError;
    `tools.invoke(name, args)` returns a ToolResponse for loops that feed errors back to a model."""

    __slots__ = ("_gateway",)

    def __init__(self, gateway: ToolGateway):
        self._gateway = gateway

    @property
    def names(self) -> list[str]:
        return self._gateway.tool_names()

    def specs(self) -> list[dict[str, Any]]:
        """Name, description and JSON Schema of every tool the agent may use (for function calling)."""
        tools = self._gateway.catalog.tools
        return [
            {"name": n, "description": tools[n].description, "parameters": tools[n].parameters}
            for n in self.names
        ]

    def invoke(self, name: str, args: Any) -> ToolResponse:
        return self._gateway.call(name, args)

    def call(self, name: str, /, **args: Any) -> Any:
        response = self._gateway.call(name, args)
        if response.error is not None:
            raise response.error
        return response.value

    async def acall(self, name: str, /, **args: Any) -> Any:
        """The same as `call`, for async agents that prefer to await their tools."""
        return self.call(name, **args)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def tool(*positional: Any, **args: Any) -> Any:
            if positional:
                raise TypeError(f"tools.{name}() takes keyword arguments only, e.g. tools.{name}(order_id=...)")
            return self.call(name, **args)

        return tool


@dataclass(slots=True)
class RunContext:
    """Everything about the run an agent may need besides its input and tools."""

    scenario_id: str
    trial: int
    trace_id: str
    agent: AgentSpec
    clock: VirtualClock
    record_model_call: Callable[..., Any]
    """`record_model_call(model, input_tokens=, output_tokens=, cost_usd=, latency_ms=, route=)`: for
    agents that call a model themselves; counts against token and cost budgets."""
    model_base_url: str | None = None
    """Where a model proxy listens for this run, when one is configured."""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def options(self) -> dict[str, Any]:
        return self.agent.options

    def sleep(self, seconds: float) -> None:
        """Wait on the virtual clock (retry back-off): recorded in the trace, costs no wall time."""
        if seconds < 0:
            raise ValueError(f"context.sleep() needs seconds >= 0, got {seconds}")
        self.clock.sleep(seconds)


class Agent(Protocol):
    async def run(self, task: AgentInput, tools: ToolBox, context: RunContext) -> Any: ...


ADAPTERS: dict[str, str] = {
    "python": "agentcheck.agents.python:PythonAgent",
    "openai": "agentcheck.agents.openai_loop:OpenAIAgent",
}
"""Agent kind -> adapter class, imported only when a project uses that kind."""


def build_agent(spec: AgentSpec, project_root: Path) -> Agent:
    """Build the adapter for `spec`; raises AgentLoadError with a fix when it cannot."""
    target = ADAPTERS.get(spec.kind)
    if target is None:
        raise AgentLoadError(f"unknown agent kind '{spec.kind}'", f"known kinds: {', '.join(sorted(ADAPTERS))}")
    module_name, _, class_name = target.partition(":")
    adapter = getattr(importlib.import_module(module_name), class_name)
    return adapter(spec, project_root)


__all__ = ["Agent", "AgentLoadError", "RunContext", "ToolBox", "ToolCallError", "build_agent"]
