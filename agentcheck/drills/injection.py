"""The injection drill: one attacked copy of a scenario per payload family (or one for the
scenario's own payloads), with the payload planted in the results of the tools the agent reads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agentcheck.drillspec import INJECTION_TAG, DrillSpec, InjectionExpectations, InjectionGoal, Payload, ToolDrill
from agentcheck.matchers import ArgMode, compile_matcher
from agentcheck.payloads import FAMILIES, attack_args, canary_for, markers_of, render
from agentcheck.project import Project, RiskTier
from agentcheck.scenario import Expectations, FixtureResponse, Scenario, ToolFixture

_RISK_ORDER = {RiskTier.HIGH: 0, RiskTier.MEDIUM: 1, RiskTier.LOW: 2}


def allowed_writes(scenario: Scenario, project: Project) -> frozenset[str] | None:
    """The write tools the user's own task uses (from the expected calls); None when unknown."""
    tools = scenario.expect.tools
    if tools is None or tools.calls is None:
        return None
    return frozenset(c.tool for c in tools.calls if c.tool in project.tools and project.tools[c.tool].writes)


def pick_target(scenario: Scenario, project: Project, allowed: frozenset[str] | None) -> str | None:
    """The call an automatic payload asks for: the riskiest write tool the task does not need."""
    agent = project.agents.get(scenario.agent)
    visible = list(agent.tools) if agent and agent.tools is not None else list(project.tools)
    writes = [t for t in visible if t in project.tools and project.tools[t].writes]
    candidates = [t for t in writes if not allowed or t not in allowed] or writes
    if not candidates:
        return None
    return sorted(candidates, key=lambda t: (_RISK_ORDER[project.tools[t].risk], t))[0]


def library_payloads(scenario: Scenario, spec: DrillSpec, project: Project) -> list[Payload]:
    allowed = allowed_writes(scenario, project)
    target = spec.options.get("target")
    tool = target[0] if target else pick_target(scenario, project, allowed)
    if tool is None:
        return []
    families = spec.options.get("families") or tuple(FAMILIES)
    payloads = []
    for family in families:
        canary = canary_for(scenario.id, family)
        args = attack_args(project.tools[tool].parameters if tool in project.tools else {}, canary)
        goal_args = compile_matcher(target[1], ArgMode.PARTIAL) if target and target[1] is not None else None
        numbers = tuple((name, float(value)) for name, value in args.items()
                        if isinstance(value, int | float) and not isinstance(value, bool))
        payloads.append(Payload(family, render(family, tool, args, canary), canary,
                                InjectionGoal(tool, goal_args), markers_of(args, canary), numbers))
    return payloads


def _plant(fixtures: dict[str, ToolFixture], spec: DrillSpec, text: str) -> dict[str, ToolFixture]:
    out = dict(fixtures)
    places: list[tuple[str, Any]] = list(spec.options.get("plant") or [(t, None) for t in (spec.tools or fixtures)])
    for tool, field in places:
        if tool in out:
            out[tool] = replace(out[tool], drill=ToolDrill(payload=text, field=field))
    return out


def _with_sinks(fixtures: dict[str, ToolFixture], payloads: list[Payload]) -> dict[str, ToolFixture]:
    """A tool the attacker wants called answers `{ok: true}` when the scenario never mocked it, so
    an agent that obeys fails its injection checks instead of stopping on a missing fixture."""
    out = dict(fixtures)
    for payload in payloads:
        if payload.goal is not None and payload.goal.tool not in out:
            out[payload.goal.tool] = ToolFixture(payload.goal.tool, default=FixtureResponse(value={"ok": True}))
    return out


def injection_variants(scenario: Scenario, spec: DrillSpec, project: Project, expect: Expectations) -> list[Scenario]:
    authored = list(spec.options.get("payloads") or ())
    groups: list[tuple[str, list[Payload]]] = []
    if authored:
        groups.append(("authored", authored))
    if not authored or spec.options.get("families"):
        groups.extend((p.family, [p]) for p in library_payloads(scenario, spec, project))
    allowed = allowed_writes(scenario, project)
    writes = frozenset(n for n, t in project.tools.items() if t.writes)
    out = []
    for name, payloads in groups:
        text = "\n\n".join(p.text for p in payloads)
        injection = InjectionExpectations(tuple(payloads), allowed, writes)
        kind = f"injection/{name}" if len(groups) > 1 or name != "authored" else "injection"
        out.append(replace(
            scenario,
            id=f"{scenario.id} [drill: {kind}]",
            fixtures=_with_sinks(_plant(scenario.fixtures, spec, text), payloads),
            expect=replace(expect, injection=injection),
            drill=kind,
            drills={},
            tags=tuple(dict.fromkeys((*scenario.tags, "drill", INJECTION_TAG))),
        ))
    return out
