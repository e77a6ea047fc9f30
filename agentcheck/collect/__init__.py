"""The collect layer: YAML files -> validated -> plain Project and Scenario objects.

Importing this package is cheap; pydantic, jsonschema and yaml are imported only when a project or
scenario file is actually loaded, so `agentcheck --help` stays fast. The scenario collector (and the
policy, drill and state vocabularies it brings) is imported on first use too: `merge`, `compare` and
`policy lint` load only the project file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcheck.collect.project import find_config, load_project
from agentcheck.collect.select import select

if TYPE_CHECKING:
    from agentcheck.collect.scenarios import collect

__all__ = ["collect", "find_config", "load_project", "select"]


def __getattr__(name: str) -> Any:
    if name == "collect":
        from agentcheck.collect.scenarios import collect

        return collect
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
