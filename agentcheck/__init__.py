"""agentcheck: an eval and regression harness for tool-calling AI agents.

The public API is what `__all__` lists. Names load on first use, so `import agentcheck` (and the
CLI's start-up) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # running
    "run": "agentcheck.session",
    "RunOptions": "agentcheck.session",
    "ExitCode": "agentcheck.exitcodes",
    "BadInput": "agentcheck.problems",
    "Problem": "agentcheck.problems",
    # writing agents
    "AgentInput": "agentcheck.scenario",
    "ToolBox": "agentcheck.agents.base",
    "RunContext": "agentcheck.agents.base",
    "ToolCallError": "agentcheck.runner.signals",
    "RunStopped": "agentcheck.runner.signals",
    # the vocabulary
    "Scenario": "agentcheck.scenario",
    "Budget": "agentcheck.scenario",
    "Trace": "agentcheck.trace",
    "ToolCallEvent": "agentcheck.trace",
    "ModelCallEvent": "agentcheck.trace",
    "Outcome": "agentcheck.verdict",
    "CheckResult": "agentcheck.verdict",
    "ScenarioResult": "agentcheck.verdict",
    "GateResult": "agentcheck.verdict",
    "RunSummary": "agentcheck.verdict",
    "Reporter": "agentcheck.report.base",
}

__all__ = [
    "AgentInput",
    "BadInput",
    "Budget",
    "CheckResult",
    "ExitCode",
    "GateResult",
    "ModelCallEvent",
    "Outcome",
    "Problem",
    "Reporter",
    "RunContext",
    "RunOptions",
    "RunStopped",
    "RunSummary",
    "Scenario",
    "ScenarioResult",
    "ToolBox",
    "ToolCallError",
    "ToolCallEvent",
    "Trace",
    "__version__",
    "run",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentcheck' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from agentcheck.agents.base import RunContext, ToolBox
    from agentcheck.exitcodes import ExitCode
    from agentcheck.problems import BadInput, Problem
    from agentcheck.report.base import Reporter
    from agentcheck.runner.signals import RunStopped, ToolCallError
    from agentcheck.scenario import AgentInput, Budget, Scenario
    from agentcheck.session import RunOptions, run
    from agentcheck.trace import ModelCallEvent, ToolCallEvent, Trace
    from agentcheck.verdict import CheckResult, GateResult, Outcome, RunSummary, ScenarioResult
