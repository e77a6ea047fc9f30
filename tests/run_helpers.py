"""Builders for run-layer tests: scenarios, catalogs and setups without any YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentcheck.project import AgentSpec, ToolSpec
from agentcheck.runner.execute import RunSetup
from agentcheck.runner.gateway import ToolCatalog
from agentcheck.scenario import (
    AgentInput,
    Budget,
    Expectations,
    FixtureResponse,
    FixtureRule,
    Scenario,
    SourceRef,
    ToolErrorSpec,
    ToolFixture,
)


@dataclass
class Equals:
    """A minimal matcher: partial equality on the keys given (enough for run-layer tests)."""

    expected: dict[str, Any]

    def matches(self, actual: Any) -> bool:
        return isinstance(actual, dict) and all(actual.get(k) == v for k, v in self.expected.items())

    def mismatches(self, actual: Any) -> list[str]:
        return [] if self.matches(actual) else ["differs"]

    def describe(self) -> Any:
        return self.expected


CATALOG = {
    "lookup": ToolSpec(
        "lookup",
        parameters={"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
    ),
    "refund": ToolSpec("refund", writes=True),
}


def value(v: Any, latency_ms: float = 0.0) -> FixtureResponse:
    return FixtureResponse(value=v, latency_ms=latency_ms)


def error(cls: str, message: str, status: int | None = None) -> FixtureResponse:
    return FixtureResponse(error=ToolErrorSpec(cls, message, status))


def fixture(tool: str, *, rules=(), sequence=(), default=None) -> ToolFixture:
    return ToolFixture(
        tool,
        rules=tuple(FixtureRule(Equals(w) if w is not None else None, r) for w, r in rules),
        sequence=tuple(sequence),
        default=default,
    )


def scenario(
    sid: str = "s1",
    *,
    text: str = "hello",
    fixtures: dict[str, ToolFixture] | None = None,
    budget: Budget | None = None,
    timeout_s: float | None = None,
    expect: Expectations | None = None,
    index: int = 0,
    tags: tuple[str, ...] = (),
) -> Scenario:
    exp = expect or Expectations()
    if budget is not None:
        exp = Expectations(tools=exp.tools, output=exp.output, budget=budget, advisory=exp.advisory)
    return Scenario(
        id=sid,
        agent="a",
        input=AgentInput(messages=[{"role": "user", "content": text}]),
        source=SourceRef("scenarios/x.yaml", 1),
        fixtures=fixtures or {},
        expect=exp,
        timeout_s=timeout_s,
        index=index,
        tags=tags,
    )


class FuncAgent:
    """Wraps a plain function as an Agent, the way the python adapter would for a sync callable."""

    def __init__(self, func):
        self.func = func

    async def run(self, task, tools, context):
        from agentcheck.agents.python import _in_thread

        return await _in_thread(self.func, (task, tools, context))


class AsyncFuncAgent:
    def __init__(self, func):
        self.func = func

    async def run(self, task, tools, context):
        return await self.func(task, tools, context)


def setup(agent, *, timeout_s: float = 5.0, tools: tuple[str, ...] | None = None) -> RunSetup:
    spec = AgentSpec("a", "python", "x:y", version="1.2", tools=tools)
    return RunSetup(ToolCatalog(CATALOG), {"a": agent}, {"a": spec}, timeout_s)
