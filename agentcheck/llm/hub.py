"""Starting the session's model proxy when, and only when, some selected run talks to a model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcheck.llm.binding import needs_models

if TYPE_CHECKING:
    from agentcheck.llm.proxy import ModelHub
    from agentcheck.project import Project
    from agentcheck.scenario import Scenario


def start_hub(project: Project, scenarios: list[Scenario], record: str = "none") -> ModelHub | None:
    """The proxy for this session (None when no scenario's agent uses a model or a script)."""
    if not any(needs_models(project.agents[s.agent], s) for s in scenarios):
        return None
    from agentcheck.llm.proxy import ModelHub
    from agentcheck.redact import Redactor

    return ModelHub(
        redactor=Redactor.of(project.redact),
        pricing=project.pricing,
        cassette_dir=project.root / project.cassettes.dir,
        secret_patterns=project.cassettes.secret_patterns,
        record=record,
        require_prices=any({"max_mean_cost_usd", "max_p95_cost_usd"} & set(g.thresholds) for g in project.gates),
    )
