"""Writes the least-privilege report after a run: scopes each agent used vs was granted, plus lint.

Markdown at `path`, JSON beside it (same name, `.json`). Only the scopes of calls the policy let
through count as used; the findings are those of `agentcheck policy lint`.
"""

from __future__ import annotations

from pathlib import Path

from agentcheck.policy.lint import lint, to_markdown
from agentcheck.project import Project
from agentcheck.serialize import dumps
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult


class LeastPrivilegeReporter:
    kind = "least-privilege"

    def __init__(self, path: Path, project: Project):
        self.path = path
        self.project = project
        self.used: dict[str, set[str]] = {}

    def start(self, plan: RunPlan) -> None:
        pass

    def result(self, result: ScenarioResult) -> None:
        if result.trace is None:
            return
        used = self.used
        for event in result.trace.events:
            record = event.policy if event.kind == "tool_call" else None  # model calls carry no decision
            if record and record.get("decision") != "blocked" and record.get("outcome") != "denied":
                scopes = record.get("scopes")
                if scopes:
                    agent = record.get("agent") or result.agent
                    if agent in used:
                        used[agent].update(scopes)
                    else:
                        used[agent] = set(scopes)

    def finish(self, summary: RunSummary) -> None:
        report = lint(self.project, {name: self.used.get(name, set()) for name in self.project.agents})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(to_markdown(report), encoding="utf-8")
        self.path.with_suffix(".json").write_text(dumps(report.to_data(), indent=2), encoding="utf-8")
