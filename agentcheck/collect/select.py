"""Pick the scenarios a run is about: -k keywords, --tag, and the project's excluded tags.

Cheap to import (no pydantic): the CLI uses it on every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

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
