"""Hand-made RunMetrics for the release-decision tests."""

from __future__ import annotations

from agentcheck.verdict import Outcome, RunMetrics

P, F, E, S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED

BOT_CONFIG = """
version: 1
agents:
  bot: {kind: python, entrypoint: bot:run, version: "2.1"}
tools:
  lookup:
    parameters: {type: object, properties: {id: {type: string}}, required: [id]}
defaults: {timeout_s: 5}
"""
"""A project of one python agent (`bot.py`: `run(task, tools, context)`) with one `lookup` tool."""


def runs(scenario_id: str, *outcomes: Outcome, index: int = 0, tags: tuple[str, ...] = ("t",), agent: str = "bot",
         version: str | None = "1.0", cost: float = 0.01, tokens: int = 100, latency: float = 1.0,
         shape: tuple[str, ...] = ("lookup",), tool_errors: int = 0, refused: int = 0,
         handoff: bool = False) -> list[RunMetrics]:
    return [
        RunMetrics(index=index, scenario_id=scenario_id, agent=agent, tags=tags, outcome=o, cost_usd=cost,
                   latency_s=latency, tokens=tokens, tool_calls=len(shape), trial=t, file="scenarios/s.yaml",
                   line=3 + index, agent_version=version, tool_errors=tool_errors, policy_violations=refused,
                   shape=shape, message="" if o is Outcome.PASSED else f"{o.value} because", handoff=handoff)
        for t, o in enumerate(outcomes, start=1)
    ]
