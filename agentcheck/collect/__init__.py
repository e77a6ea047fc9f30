"""The collect layer: YAML files -> validated -> plain Project and Scenario objects.

Importing this package is cheap; pydantic, jsonschema and yaml are imported only when a project or
scenario file is actually loaded, so `agentcheck --help` stays fast.
"""

from agentcheck.collect.project import find_config, load_project
from agentcheck.collect.scenarios import collect
from agentcheck.collect.select import select

__all__ = ["collect", "find_config", "load_project", "select"]
