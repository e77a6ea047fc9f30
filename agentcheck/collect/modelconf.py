"""The model parts of ``agentcheck.yaml``: agent model settings, the price table, cassettes.

Kept apart from the project loader so the loader only calls in: `model_settings` per agent,
`price_table` and `cassette_settings` once, `model_problems` with the cross-checks (a prompt file
that is missing, an escalation rule without an escalation model, a secret pattern that is not a
regular expression), and `unpriced_problems` before a run (a cost cap with a model that has no price).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agentcheck.modelspec import (
    DEFAULT_PRICES,
    DEFAULT_PRICES_DATE,
    CassetteSettings,
    ModelPrice,
    ModelRoutes,
    ModelSettings,
    find_price,
)
from agentcheck.problems import Problem

if TYPE_CHECKING:
    from agentcheck.collect.project_models import AgentModel, ProjectModel
    from agentcheck.project import Project
    from agentcheck.scenario import Scenario

ProblemAt = Callable[[tuple[str | int, ...], str, str | None], None]


def model_settings(spec: AgentModel, root: Path) -> ModelSettings | None:
    """The agent's model settings, or None for an agent that neither is kind openai nor uses the proxy."""
    if spec.kind != "openai" and not spec.model_proxy and spec.base_url is None and spec.model is None:
        return None
    routes = None
    if spec.routes is not None:
        routes = ModelRoutes(spec.routes.default, spec.routes.escalate, tuple(spec.routes.rules))
    prompt = spec.system_prompt
    if spec.system_prompt_file is not None:
        path = root / spec.system_prompt_file
        prompt = path.read_text(encoding="utf-8") if path.is_file() else None
    options = dict(spec.request_options)
    if spec.temperature is not None:
        options["temperature"] = spec.temperature
    defaults = ModelSettings(model="")
    return ModelSettings(
        model=spec.model or (routes.default if routes else ""),
        base_url=(spec.base_url or defaults.base_url).rstrip("/"),
        api_key_env=spec.api_key_env or defaults.api_key_env,
        system_prompt=prompt,
        request_options=options,
        max_steps=spec.max_steps or defaults.max_steps,
        routes=routes,
        timeout_s=spec.request_timeout_s or defaults.timeout_s,
        max_retries=spec.max_retries if spec.max_retries is not None else defaults.max_retries,
    )


def price_table(model: ProjectModel) -> dict[str, ModelPrice]:
    """The shipped default prices overlaid with the project's own."""
    table = dict(DEFAULT_PRICES)
    for name, price in model.pricing.items():
        table[name] = ModelPrice(input=price.input, output=price.output, cached_input=price.cached_input)
    return table


def cassette_settings(model: ProjectModel) -> CassetteSettings:
    return CassetteSettings(dir=model.cassettes.dir, secret_patterns=tuple(model.cassettes.secret_patterns))


def model_problems(model: ProjectModel, root: Path, problem: ProblemAt) -> None:
    for name, agent in model.agents.items():
        at = ("agents", name)
        if agent.kind == "openai" and agent.model is None and agent.routes is None:
            problem(at, f"agent '{name}' of kind openai needs a model", "add `model: gpt-4o-mini` (or routes.default)")
        if agent.system_prompt is not None and agent.system_prompt_file is not None:
            problem((*at, "system_prompt_file"), "give either system_prompt or system_prompt_file, not both", None)
        if agent.system_prompt_file is not None and not (root / agent.system_prompt_file).is_file():
            problem((*at, "system_prompt_file"), f"file not found: {agent.system_prompt_file}",
                    "the path is relative to the project root")
        if agent.routes is not None and agent.routes.rules and agent.routes.escalate is None:
            problem((*at, "routes", "rules"), "escalation rules need an escalation model", "add `escalate: <model>`")
    for index, pattern in enumerate(model.cassettes.secret_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            problem(("cassettes", "secret_patterns", index), f"not a regular expression: {exc}", None)


def unpriced_problems(project: Project, scenarios: list[Scenario]) -> list[Problem]:
    """A cost cap or cost gate is set and a model in use has no price: the run must not start."""
    cost_gates = [g for g in project.gates if {"max_mean_cost_usd", "max_p95_cost_usd"} & set(g.thresholds)]
    capped = [s for s in scenarios if s.expect.budget.max_cost_usd is not None]
    if not cost_gates and not capped and project.budget.max_cost_usd is None:
        return []
    problems: list[Problem] = []
    for agent_name in sorted({s.agent for s in scenarios}):
        spec = project.agents[agent_name]
        if spec.model is None:
            continue
        for model_name in spec.model.models():
            if find_price(model_name, project.pricing) is None:
                src = spec.source
                problems.append(
                    Problem(
                        src.file if src else None,
                        src.line if src else None,
                        f"agents.{agent_name}",
                        f"model '{model_name}' has no price, but a cost budget or cost gate is set",
                        f"add it under `pricing:` ({{input: ..., output: ...}} USD per million tokens);"
                        f" the shipped table is dated {DEFAULT_PRICES_DATE}",
                    )
                )
    return problems
