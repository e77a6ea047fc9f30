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
        used, default_agent = self.used, result.agent
        for event in result.trace.events:  # runs per result: the cheapest test first, one lookup per set
            if event.kind != "tool_call":  # model calls carry no decision
                continue
            record = event.policy
            if not record:
                continue
            scopes = record.get("scopes")
            if not scopes or record.get("decision") == "blocked" or record.get("outcome") == "denied":
                continue
            agent = record.get("agent") or default_agent
            known = used.get(agent)
            if known is None:
                used[agent] = set(scopes)
            else:
                known.update(scopes)

    def finish(self, summary: RunSummary) -> None:
        report = lint(self.project, {name: self.used.get(name, set()) for name in self.project.agents})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(to_markdown(report), encoding="utf-8")
        self.path.with_suffix(".json").write_text(dumps(report.to_data(), indent=2), encoding="utf-8")
