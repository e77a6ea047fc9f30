"""The project: agents, the tool catalog, defaults, budgets, gates and report outputs.

Built by ``agentcheck.collect.project`` from ``agentcheck.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from agentcheck.modelspec import CassetteSettings, ModelPrice, ModelSettings
from agentcheck.scenario import Budget, SourceRef


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
}
"""Every threshold a gate may set, with the name reports print for its measured value."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which results a gate looks at. Empty tuples select everything."""

    tags: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    """Glob patterns over scenario ids."""


@dataclass(slots=True)
class GateSpec:
    name: str
    select: Selection = field(default_factory=Selection)
    thresholds: dict[str, float] = field(default_factory=dict)
    source: SourceRef | None = None


@dataclass(slots=True)
class ReportSettings:
    dir: Path
    junit: Path | None
    json: Path | None
    junit_strict: bool = False


@dataclass(slots=True)
class Defaults:
    timeout_s: float = 60.0
    concurrency: int = 8
    paths: tuple[str, ...] = ("scenarios",)
    exclude_tags: tuple[str, ...] = ()
    """Scenarios with any of these tags are left out unless a --tag names the tag."""


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
    extensions: dict[str, Any] = field(default_factory=dict)
    """Raw sections owned by later layers (policy), kept as written."""
    pricing: dict[str, ModelPrice] = field(default_factory=dict)
    """Model prices: the shipped default table overlaid with the project's `pricing:`."""
    cassettes: CassetteSettings = field(default_factory=CassetteSettings)
