"""Scenario -> drilled Scenarios: the transformation behind `drills:` and `agentcheck run --drill`."""

from __future__ import annotations

from dataclasses import replace

from agentcheck.collect.drills import write_facts
from agentcheck.drills.injection import injection_variants
from agentcheck.drillspec import DEFAULT_MAX_RETRIES, DrillSpec, ResilienceExpectations, ToolDrill
from agentcheck.faults import fault_at
from agentcheck.judge.resilience import is_handoff
from agentcheck.problems import BadInput, Problem
from agentcheck.project import Project
from agentcheck.scenario import Expectations, Scenario, ToolFixture


def expand(scenarios: list[Scenario], kinds: list[str], project: Project) -> list[Scenario]:
    """The scenarios, each followed by its drilled copies; indexes renumbered in that order."""
    from agentcheck.drillspec import DRILL_KINDS

    unknown = [k for k in kinds if k not in DRILL_KINDS]
    if unknown:
        from agentcheck.problems import did_you_mean

        raise BadInput([
            Problem(None, None, "--drill", f"unknown drill '{k}'", did_you_mean(k, DRILL_KINDS)
                    or f"drills: {', '.join(DRILL_KINDS)}") for k in unknown
        ])
    out: list[Scenario] = []
    for scenario in scenarios:
        out.append(scenario)
        wanted = dict(scenario.drills)
        if not _step_scheduled(scenario):
            for kind in kinds:
                wanted.setdefault(kind, DrillSpec(kind))
        for spec in wanted.values():
            out.extend(drill_scenario(scenario, spec, project))
    for index, scenario in enumerate(out):
        scenario.index = index
    return out


def _step_scheduled(scenario: Scenario) -> bool:
    """A kill switch set `at_step` N marks a point in the run's own step sequence; a suite-wide
    drill adds retries and re-reads that move every step after them, so it would judge a different
    scenario. Such scenarios take part in suite-wide drills only by declaring them (`drills:`)."""
    policy = scenario.policy
    return policy is not None and policy.kill_switch is not None and policy.kill_switch.at_step > 1


def default_expectations(scenario: Scenario, project: Project) -> Expectations:
    """The safety net every drill gets unless the scenario says otherwise: bounded retries, no
    duplicate write, no policy refusal, and the original outcome or a hand-off.

    The original *outcome* is the output, end-state and forbidden-tool expectations; the expected
    call sequence (and an expected model route) is dropped, since retries, re-reads and escalation
    after a tool error are exactly what a drill should cause.
    A scenario that asserts policy decisions itself (its point may be a refusal) keeps those
    assertions instead of the blanket "no policy refusal"."""
    owns_policy_verdict = scenario.policy is not None and scenario.policy.expect is not None
    resilience = ResilienceExpectations(
        max_retries=DEFAULT_MAX_RETRIES,
        no_duplicate_writes=True,
        outcome_or_handoff=True,
        no_policy_violation=not owns_policy_verdict,
        **write_facts(project.tools),
    )
    tools = scenario.expect.tools
    if tools is not None:
        tools = replace(tools, calls=None, counts={}) if tools.not_called else None
    # An escalated model route after a faulted tool is the routing working, not a regression.
    return replace(scenario.expect, tools=tools, resilience=resilience, model_route=None)


def _targets(scenario: Scenario, spec: DrillSpec, project: Project) -> list[str]:
    if spec.tools:
        return [t for t in spec.tools if t in scenario.fixtures]
    # The hand-off is the way out of a drill: faulting it by default would test nothing useful.
    tools = [t for t in sorted(scenario.fixtures) if not is_handoff(t, ())]
    if spec.kind == "stale":
        return [t for t in tools if t in project.tools and not project.tools[t].writes] or tools
    return tools


def _tool_drill(spec: DrillSpec) -> ToolDrill:
    options = spec.options
    if spec.kind == "throttle":
        return ToolDrill(faults=(fault_at("throttle", retry_after=options.get("retry_after", 2),
                                          status=options.get("status", 429)),))
    if spec.kind == "timeout":
        return ToolDrill(faults=(fault_at("timeout"),))
    if spec.kind == "stale":
        return ToolDrill(stale_first_s=float(options.get("age_s", 7 * 24 * 3600)))
    raise ValueError(spec.kind)


def drill_scenario(scenario: Scenario, spec: DrillSpec, project: Project) -> list[Scenario]:
    """The drilled copies of `scenario` for one drill (several for injection: one per payload family)."""
    expect = spec.expect if spec.expect is not None else default_expectations(scenario, project)
    if spec.kind == "injection":
        return injection_variants(scenario, spec, project, expect)
    fixtures = dict(scenario.fixtures)
    for tool in _targets(scenario, spec, project):
        base = fixtures[tool]
        if spec.kind == "outage":
            status = spec.options.get("status", 503)
            fixtures[tool] = ToolFixture(tool, default=fault_at("http_error", status=status), source=base.source)
        else:
            fixtures[tool] = replace(base, drill=_tool_drill(spec))
    return [_copy(scenario, f"{scenario.id} [drill: {spec.kind}]", spec.kind, fixtures, expect)]


def _copy(
    scenario: Scenario, new_id: str, kind: str, fixtures: dict[str, ToolFixture], expect: Expectations
) -> Scenario:
    return replace(scenario, id=new_id, fixtures=fixtures, expect=expect, drill=kind, drills={},
                   tags=tuple(dict.fromkeys((*scenario.tags, "drill", f"drill:{kind.split('/')[0]}"))))
