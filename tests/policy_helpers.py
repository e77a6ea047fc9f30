"""Build a policy from YAML text and drive its engine call by call, without an agent."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from agentcheck.collect import load_project
from agentcheck.policy.engine import RunPolicy, Verdict
from agentcheck.policy.spec import KillSwitch, ScenarioPolicy
from agentcheck.project import Project
from agentcheck.runner.clock import VirtualClock
from agentcheck.runner.recorder import RunRecorder
from agentcheck.scenario import AgentInput, Budget
from agentcheck.trace import ToolStatus, Trace

TOOLS = """
tools:
  read: {parameters: {type: object}, risk: low}
  fetch_page: {parameters: {type: object}, risk: low}
  note: {parameters: {type: object}, writes: true, risk: medium}
  pay:
    parameters:
      type: object
      properties: {amount: {type: number}, key: {type: string}, intent: {type: object}, to: {type: string}}
    writes: true
    risk: high
"""


def project_with(tmp_path: Path, policy: str, tools: str = TOOLS) -> Project:
    text = "version: 1\nagents:\n  bot: {kind: python, entrypoint: bot:run}\n" + textwrap.dedent(tools).lstrip("\n")
    text += "policy:\n" + textwrap.indent(textwrap.dedent(policy).strip("\n"), "  ") + "\n"
    (tmp_path / "agentcheck.yaml").write_text(text)
    return load_project(tmp_path / "agentcheck.yaml", cwd=tmp_path)


class Run:
    """One run: calls go through the engine as the gateway would send them, results are recorded."""

    def __init__(
        self,
        project: Project,
        *,
        approver: tuple[str, ...] = (),
        kill: KillSwitch | None = None,
        task: str = "hi",
        data: Any = None,
        agent: str = "bot",
    ):
        assert project.policy is not None
        self.trace = Trace("t", "s", 1, agent, None, "now")
        self.recorder = RunRecorder(self.trace, Budget(), VirtualClock())
        scenario = ScenarioPolicy(approver=approver, kill_switch=kill)
        self.engine = RunPolicy(project.policy, agent, AgentInput([{"role": "user", "content": task}], data), scenario)

    def call(self, tool: str, args: dict[str, Any] | None = None, result: Any = None) -> Verdict:
        event = self.recorder.begin_tool_call(tool, args or {})
        verdict = self.engine.decide(tool, args or {}, self.recorder)
        event.policy = verdict.record
        if verdict.allowed:
            event.result = result
        else:
            event.status = ToolStatus.REFUSED
        return verdict

    def model_spend(self, usd: float) -> None:
        self.recorder.record_model_call("m", cost_usd=usd)


def decision(verdict: Verdict) -> str:
    outcome = verdict.record.get("outcome")
    return f"{verdict.record['decision']}/{outcome}" if outcome else verdict.record["decision"]
