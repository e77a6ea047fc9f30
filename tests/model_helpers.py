"""Projects whose agent talks to a real HTTP model server on 127.0.0.1, run through the session API."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentcheck.session import RunOptions, run
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult
from examples.standin_model import chat_response

TOOLS = """
tools:
  lookup:
    description: Look an order up.
    parameters: {type: object, properties: {id: {type: string}}, required: [id], additionalProperties: false}
  refund:
    description: Refund an order.
    parameters: {type: object, properties: {id: {type: string}}, required: [id]}
"""

FIXTURES = """
fixtures:
  lookup:
    - when: {id: A1}
      returns: {id: A1, amount: 10}
    - error: {class: NotFound, message: no such order, status: 404}
  refund: [{returns: {refund_id: R-9}}]
"""
"""Fixtures for a single-scenario file; indent them for a suite file's scenarios."""


def project(root: Path, base_url: str, scenarios: str, *, agent: str = "", extra: str = "") -> Path:
    """A project with one `openai` agent named bot pointing at `base_url`, and `scenarios` (YAML)."""
    agent_lines = textwrap.indent(textwrap.dedent(agent).strip(), " " * 4) if agent.strip() else ""
    config = (
        "version: 1\nagents:\n  bot:\n    kind: openai\n    model: gpt-4o-mini\n"
        f"    base_url: {base_url}\n    api_key_env: TEST_MODEL_KEY\n{agent_lines}\n"
        f"{textwrap.dedent(TOOLS)}\n{textwrap.dedent(extra)}\n"
    )
    (root / "agentcheck.yaml").write_text(config)
    (root / "scenarios").mkdir(exist_ok=True)
    (root / "scenarios" / "s.yaml").write_text(textwrap.dedent(scenarios).lstrip("\n"))
    return root


class Collect:
    """A reporter that keeps every result, for assertions."""

    def __init__(self) -> None:
        self.results: dict[str, ScenarioResult] = {}

    def start(self, plan: RunPlan) -> None:
        pass

    def result(self, result: ScenarioResult) -> None:
        self.results[result.scenario_id] = result

    def finish(self, summary: RunSummary) -> None:
        pass


def run_project(root: Path, *, record: str = "none") -> tuple[RunSummary, dict[str, ScenarioResult]]:
    collect = Collect()
    summary = run(RunOptions(cwd=root, json_path=False, junit_path=False, reporters=[collect], record=record))
    return summary, collect.results


def scripted_server(turns: list[Callable[[dict[str, Any]], dict[str, Any]] | dict[str, Any]]):
    """An answer function giving `turns` in order (a dict, or a function of the request)."""
    queue = list(turns)

    def answer(path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        turn = queue.pop(0) if queue else chat_response(body["model"], "out of turns")
        if callable(turn):
            turn = turn(body)
        if isinstance(turn, tuple):
            return turn
        return 200, turn, {}

    return answer


def tool_messages(body: dict[str, Any]) -> list[Any]:
    return [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]
