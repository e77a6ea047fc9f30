"""Pick the scenarios a run is about: -k keywords, --tag, and the project's excluded tags.

Cheap to import (no pydantic): the CLI uses it on every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from agentcheck.problems import Problem, did_you_mean
from agentcheck.project import GateSpec
from agentcheck.scenario import Scenario

_GLOB_CHARS = frozenset("*?[")


def select(
    scenarios: Iterable[Scenario],
    *,
    keywords: Sequence[str] = (),
    tags: Sequence[str] = (),
    exclude_tags: Sequence[str] = (),
) -> list[Scenario]:
    """The scenarios to run, in their original order.

    - `keywords`: a scenario is kept when its id matches any keyword: a glob (fnmatch) when the
      keyword contains `*`, `?` or `[`, else a substring. Both ignore case, like `pytest -k`.
    - `tags`: a scenario is kept when it has any of these tags.
    - `exclude_tags`: a scenario having one is dropped, unless that tag is also named in `tags`
      (asking for a tag explicitly overrides the project's default exclusion, e.g. `demo-failure`).
    """
    patterns = [k.lower() for k in keywords if k]
    wanted = set(tags)
    excluded = set(exclude_tags) - wanted
    out = []
    for scenario in scenarios:
        if patterns and not any(_matches(scenario.id.lower(), p) for p in patterns):
            continue
        if wanted and wanted.isdisjoint(scenario.tags):
            continue
        if excluded and not excluded.isdisjoint(scenario.tags):
            continue
        out.append(scenario)
    return out


def _matches(scenario_id: str, pattern: str) -> bool:
    if _GLOB_CHARS.intersection(pattern):
        return fnmatchcase(scenario_id, pattern)
    return pattern in scenario_id


def gate_selection_problems(
    gates: Sequence[GateSpec], scenarios: Sequence[Scenario], extra_tags: tuple[str, ...] = ()
) -> list[Problem]:
    """A gate that selects no scenario of the whole suite is almost always a typo in its `select`
    (`polcy-critical`); left alone it would pass forever, measuring nothing. `extra_tags` are tags a
    run may add to any scenario (drilled copies), which a gate may select too."""
    problems = []
    all_tags = sorted({t for s in scenarios for t in s.tags} | set(extra_tags))
    all_agents = sorted({s.agent for s in scenarios})
    for index, gate in enumerate(gates):
        if any(gate.select.matches(s.id, s.agent, (*s.tags, *extra_tags)) for s in scenarios):
            continue
        unknown = [t for t in gate.select.tags if t not in all_tags] + [
            a for a in gate.select.agents if a not in all_agents
        ]
        hints = [h for h in (did_you_mean(u, [*all_tags, *all_agents]) for u in unknown) if h]
        src = gate.source
        problems.append(
            Problem(
                src.file if src else None,
                src.line if src else None,
                f"gates[{index}].select",
                f"gate '{gate.name}' selects no scenario in the suite",
                hints[0] if hints else "check its tags, agents and scenario patterns",
            )
        )
    return problems


def nothing_selected(
    scenarios: Sequence[Scenario], *, keywords: Sequence[str], tags: Sequence[str], exclude_tags: Sequence[str]
) -> Problem:
    """The problem to show when a selection is empty, saying why when the exclusion list is the cause."""
    hidden = select(scenarios, keywords=keywords, tags=tags)
    if hidden:
        excluded = sorted({t for s in hidden for t in s.tags if t in exclude_tags})
        return Problem(
            None,
            None,
            "",
            f"no scenarios selected: {len(hidden)} matched but carry a tag in "
            f"defaults.exclude_tags ({', '.join(excluded)})",
            f"add --tag {excluded[0]} to run them" if excluded else None,
        )
    if not scenarios:
        return Problem(None, None, "", "no scenarios selected: the paths given hold no scenario file",
                       "give scenario files or folders; the project file itself is never one")
    known = sorted({t for s in scenarios for t in s.tags})
    unknown = [t for t in tags if t not in known]
    if any("," in t for t in unknown):
        hint = "--tag takes one tag: repeat it, as in --tag a --tag b"
    elif unknown:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        hint = f"no scenario has the tag {', '.join(unknown)}" + (f"; the suite's tags: {shown}" if known else "")
    else:
        hint = "check -k/--tag, or the scenario paths" if keywords or tags else None
    return Problem(None, None, "", "no scenarios selected", hint)
