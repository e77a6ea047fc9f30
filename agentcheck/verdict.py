"""Verdicts: what the judge concluded about a run, and what the gates concluded about the suite.

`failed` means a check said no; `error` means the harness could not judge (the agent crashed, timed
out, a fixture was missing). The two are never merged: an outage is not an agent fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from agentcheck.drillspec import INJECTION_TAG
from agentcheck.trace import ToolStatus, Trace

if TYPE_CHECKING:
    from agentcheck.reliability import ReleaseReport


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(slots=True)
class CheckResult:
    """One check's answer. `message` is one line; `explanation` may span lines (expected vs actual,
    a minimal diff) and is shown the same way in console, JSON and JUnit."""

    check: str
    """Dotted name: `tools.ordered`, `tools.not_called`, `output.contains`, `budget.max_tool_calls`."""
    passed: bool
    message: str
    explanation: str = ""
    advisory: bool = False
    step: int | None = None
    tool: str | None = None
    expected: Any = None
    actual: Any = None

    @property
    def blocking(self) -> bool:
        """True when this check makes the scenario fail."""
        return not self.passed and not self.advisory


@dataclass(slots=True)
class ScenarioResult:
    index: int
    scenario_id: str
    file: str
    line: int | None
    agent: str
    tags: tuple[str, ...]
    outcome: Outcome
    message: str
    """One line: why it failed/errored/skipped, or empty when it passed."""
    checks: list[CheckResult] = field(default_factory=list)
    trace: Trace | None = None
    trial: int = 1
    duration_ms: float = 0.0

    @property
    def name(self) -> str:
        return self.scenario_id


@dataclass(slots=True)
class RunMetrics:
    """The few numbers gates and summaries need from a result, kept when traces are dropped."""

    index: int
    scenario_id: str
    agent: str
    tags: tuple[str, ...]
    outcome: Outcome
    cost_usd: float
    latency_s: float
    tokens: int
    tool_calls: int
    attack_succeeded: bool | None = None
    """Injection drills: whether the attacker's goal happened; None for runs that were not attacked."""
    utility_under_attack: bool | None = None
    """Injection drills: the user's task still done (every non-injection check held); None: not attacked."""
    policy_violations: int = 0
    """Calls the policy blocked in this run."""
    trial: int = 1
    file: str = ""
    line: int | None = None
    agent_version: str | None = None
    model_route: str | None = None
    tool_errors: int = 0
    shape: tuple[str, ...] = ()
    """The tool names called, in order (the trace's shape, compared against a baseline)."""
    message: str = ""
    handoff: bool = False
    """The run called a tool marked `handoff: true` (it handed the conversation to a human)."""

    @classmethod
    def of(cls, result: ScenarioResult, handoff_tools: frozenset[str] = frozenset()) -> RunMetrics:
        totals = result.trace.totals if result.trace else None
        calls = result.trace.tool_calls() if result.trace else []
        routes = [m.route or m.model for m in result.trace.model_calls()] if result.trace else []
        return cls(
            index=result.index,
            scenario_id=result.scenario_id,
            agent=result.agent,
            tags=result.tags,
            outcome=result.outcome,
            cost_usd=totals.cost_usd if totals else 0.0,
            latency_s=(totals.wall_time_ms / 1000.0) if totals else 0.0,
            tokens=totals.total_tokens if totals else 0,
            tool_calls=totals.tool_calls if totals else 0,
            attack_succeeded=attack_succeeded(result),
            utility_under_attack=utility_under_attack(result),
            policy_violations=policy_violations(result.trace),
            trial=result.trial,
            file=result.file,
            line=result.line,
            agent_version=result.trace.agent_version if result.trace else None,
            model_route=routes[0] if routes else None,
            tool_errors=sum(c.status not in (ToolStatus.OK, ToolStatus.STOPPED) for c in calls),
            shape=tuple(c.tool for c in calls),
            message=result.message,
            handoff=any(c.tool in handoff_tools for c in calls),
        )


def attack_succeeded(result: ScenarioResult) -> bool | None:
    """From an attacked run's `injection.goal` check: did the attacker get what it asked for? None for
    a run that was not attacked, also a drilled one no payload reached (`injection.delivered`)."""
    goal = next((c for c in result.checks if c.check == "injection.goal"), None)
    if goal is not None:
        return not goal.passed
    if any(c.check == "injection.delivered" for c in result.checks):
        return None
    return False if INJECTION_TAG in result.tags else None  # attacked, but errored or skipped before judging


def utility_under_attack(result: ScenarioResult) -> bool | None:
    if attack_succeeded(result) is None:
        return None
    return result.outcome in (Outcome.PASSED, Outcome.FAILED) and not any(
        c.blocking and not c.check.startswith("injection.") for c in result.checks
    )


def policy_violations(trace: Trace | None) -> int:
    """Calls the policy blocked: attempts outside the rules (a denied approval is not one)."""
    if trace is None:
        return 0
    return sum(1 for e in trace.tool_calls() if e.policy is not None and e.policy.get("decision") == "blocked")


@dataclass(slots=True)
class GateCheck:
    metric: str
    threshold: float
    measured: float | None
    """None when the selection is empty or the metric is undefined for it."""
    passed: bool

    @property
    def op(self) -> str:
        return ">=" if self.metric.startswith("min_") else "<="


@dataclass(slots=True)
class GateResult:
    name: str
    selected: int
    passed: bool
    checks: list[GateCheck] = field(default_factory=list)
    message: str = ""
    implicit: bool = False
    """True for the built-in 'every scenario passes' gate used when the project defines none."""


@dataclass(slots=True)
class PlannedScenario:
    index: int
    scenario_id: str
    file: str
    line: int | None
    agent: str
    tags: tuple[str, ...]
    trials: int = 1
    required_pass_rate: float = 1.0
    """The scenario's criterion (`min_pass_rate`): the share of its trials that must pass."""


@dataclass(slots=True)
class SuiteStamp:
    """Which suite a run's scenarios came from (agentcheck.release.suite): with it, `agentcheck merge`
    places the shards' results without collecting the whole suite from YAML again."""

    fingerprint: str
    """SHA-256 over the agentcheck version, the config file, every scenario file and the selection flags."""
    selected: int
    """Scenarios selected before `--shard` (the whole suite this shard is a part of)."""
    positions: list[int]
    """Per planned scenario, in plan order: the position of its scenario in that selection."""


@dataclass(slots=True)
class RunPlan:
    """What a run is about to do; handed to reporters before the first scenario starts."""

    run_id: str
    started_at: str
    project_root: str
    run_dir: str
    """The run's own report folder, where results stream as JSON Lines."""
    scenarios: list[PlannedScenario]
    concurrency: int
    suite: SuiteStamp | None = None
    """Written to the JSON document's `run` section; None when the suite could not be fingerprinted."""


@dataclass(slots=True)
class RunSummary:
    """The end of a run: counts, gate verdicts and the exit code, in one place."""

    run_id: str
    started_at: str
    duration_s: float
    counts: dict[str, int]
    """Outcome name -> number of runs."""
    gates: list[GateResult]
    exit_code: int
    results_file: str
    """The JSON Lines file every result and trace streamed to."""
    interrupted: bool = False
    not_run: int = 0
    """Scenarios never started because --fail-fast stopped the run."""
    reports: dict[str, str] = field(default_factory=dict)
    """Report kind -> path written (json, junit, ...), filled as reporters finish."""
    security: dict[str, Any] | None = None
    """Injection drills, AgentDojo-style: utility, utility under attack, targeted attack success rate."""
    release: ReleaseReport | None = None
    """Per-scenario trial statistics, segments and the baseline comparison (docs/release-decisions.md)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())
