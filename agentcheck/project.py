"""The project: agents, the tool catalog, defaults, budgets, gates and report outputs.

Built by ``agentcheck.collect.project`` from ``agentcheck.yaml``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcheck.modelspec import CassetteSettings, ModelPrice, ModelSettings
from agentcheck.reliability import RegressionRules
from agentcheck.scenario import Budget, SourceRef

if TYPE_CHECKING:
    from agentcheck.policy.spec import Policy


class RiskTier(StrEnum):
    LOW = "low"
    """Runs unattended."""
    MEDIUM = "medium"
    """Needs approval (enforced by the policy engine)."""
    HIGH = "high"
    """Needs stronger approval or is blocked (enforced by the policy engine)."""


@dataclass(slots=True)
class ToolSpec:
    """A tool in the catalog. `parameters` is the JSON Schema every call's arguments must fit."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    writes: bool = False
    risk: RiskTier = RiskTier.LOW
    source: SourceRef | None = None
    timeout_s: float | None = None
    """How long a call may take before it fails with ToolTimeout (simulated latency counts)."""
    idempotency_key: str | None = None
    """The argument carrying an idempotency key: a retry with the same key is applied once."""
    handoff: bool = False
    """Calling it hands the conversation to a human; runs that do count in the hand-off rate."""


@dataclass(slots=True)
class AgentSpec:
    """An agent under test. `kind` picks the adapter (``python`` today)."""

    name: str
    kind: str
    entrypoint: str | None = None
    version: str | None = None
    tools: tuple[str, ...] | None = None
    """The catalog tools this agent may see; None means all of them."""
    options: dict[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    description: str = ""
    source: SourceRef | None = None
    model: ModelSettings | None = None
    """How the agent reaches its model (kind openai, or any agent using the model proxy)."""


GATE_METRICS: dict[str, str] = {
    "min_pass_rate": "pass rate",
    "max_failures": "failed or errored runs",
    "max_mean_cost_usd": "mean cost (USD)",
    "max_p95_cost_usd": "p95 cost (USD)",
    "max_mean_latency_s": "mean latency (s)",
    "max_p95_latency_s": "p95 latency (s)",
    "max_mean_tokens": "mean tokens",
    "max_p95_tokens": "p95 tokens",
    "max_mean_tool_calls": "mean tool calls",
    "max_attack_success_rate": "targeted attack success rate (injection drills)",
    "max_policy_violations": "policy violations (calls the policy blocked)",
    "min_pass_hat_k": "pass^k (all k trials pass), mean over scenarios",
    "min_pass_at_k": "pass@k (one of k trials passes), mean over scenarios",
    "max_flaky": "flaky scenarios",
    "max_regressions": "regressions against the baseline",
}
"""Every threshold a gate may set, with the name reports print for its measured value."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which results a gate looks at. Empty tuples select everything."""

    tags: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    """Glob patterns over scenario ids."""
    segments: tuple[str, ...] = ()
    """`dimension=value` (agent_version=bot@2.1, model_route=fast...); see reliability.SEGMENT_DIMENSIONS."""

    def matches(self, scenario_id: str, agent: str, tags: tuple[str, ...]) -> bool:
        if self.tags and set(self.tags).isdisjoint(tags):
            return False
        if self.agents and agent not in self.agents:
            return False
        return not self.scenarios or any(fnmatch.fnmatchcase(scenario_id, p) for p in self.scenarios)


@dataclass(slots=True)
class GateSpec:
    name: str
    select: Selection = field(default_factory=Selection)
    thresholds: dict[str, float] = field(default_factory=dict)
    source: SourceRef | None = None
    k: int | None = None
    """The k of `min_pass_hat_k` / `min_pass_at_k`."""


@dataclass(slots=True)
class ReportSettings:
    dir: Path
    junit: Path | None
    json: Path | None
    junit_strict: bool = False


@dataclass(frozen=True, slots=True)
class RedactSettings:
    """Extra patterns and keys to mask, on top of the built-in ones unless `defaults` is off."""

    patterns: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    defaults: bool = True


@dataclass(slots=True)
class Defaults:
    timeout_s: float = 60.0
    concurrency: int = 8
    paths: tuple[str, ...] = ("scenarios",)
    exclude_tags: tuple[str, ...] = ()
    """Scenarios with any of these tags are left out unless a --tag names the tag."""
    trials: int = 1
    """Times each scenario runs when neither --trials nor the scenario's `trials:` says."""
    source: SourceRef | None = None
    """Where `paths` is written (its problems point there)."""


@dataclass(slots=True)
class Project:
    root: Path
    config_file: Path | None
    agents: dict[str, AgentSpec] = field(default_factory=dict)
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    defaults: Defaults = field(default_factory=Defaults)
    budget: Budget = field(default_factory=Budget)
    gates: list[GateSpec] = field(default_factory=list)
    reports: ReportSettings | None = None
    redact: RedactSettings = field(default_factory=RedactSettings)
    regressions: RegressionRules = field(default_factory=RegressionRules)

    @property
    def handoff_tools(self) -> frozenset[str]:
        return frozenset(name for name, tool in self.tools.items() if tool.handoff)
    extensions: dict[str, Any] = field(default_factory=dict)
    """Raw sections owned by later layers, kept as written."""
    policy: Policy | None = None
    """The compiled tool-use policy (docs/policy.md); None: no policy, every call is allowed."""
    pricing: dict[str, ModelPrice] = field(default_factory=dict)
    """Model prices: the shipped default table overlaid with the project's `pricing:`."""
    cassettes: CassetteSettings = field(default_factory=CassetteSettings)
