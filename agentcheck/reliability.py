"""Release-decision vocabulary: repeated-trial statistics, segments, baseline comparisons.

Plain data, computed by ``agentcheck.release`` and carried on ``RunSummary.release`` so every
reporter (console, JSON, JUnit, Markdown, annotations) reads the same numbers.

pass^k and pass@k follow the τ-bench estimators (docs/release-decisions.md): from n judged trials
with c passes, pass^k = C(c,k)/C(n,k) (all k fresh trials pass) and pass@k = 1 - C(n-c,k)/C(n,k)
(at least one of k passes). Both are undefined for k > n and are then None, never a crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from agentcheck.verdict import Outcome


def pass_hat_k(n: int, c: int, k: int) -> float | None:
    """Unbiased estimate of P(all k trials pass) from n trials with c passes; None when k > n."""
    _check(n, c, k)
    if k > n:
        return None
    return math.comb(c, k) / math.comb(n, k)


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """Unbiased estimate of P(at least one of k trials passes); None when k > n."""
    _check(n, c, k)
    if k > n:
        return None
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if k < 1 or n < 0 or not 0 <= c <= n:
        raise ValueError(f"need k >= 1 and 0 <= c <= n (got n={n}, c={c}, k={k})")


@dataclass(slots=True)
class ScenarioStats:
    """One scenario over all its trials. Error trials count as not passed (in `pass_rate` and pass^k)
    and are also counted apart in `errors`, so an outage is never read as a pass nor as a fault."""

    index: int
    scenario_id: str
    agent: str
    agent_version: str | None
    tags: tuple[str, ...]
    file: str
    line: int | None
    trials: int
    """Judged trials (passed + failed + errors); skipped trials are left out."""
    passed: int
    failed: int
    errors: int
    skipped: int
    required_pass_rate: float
    """The scenario's own criterion: the share of trials that must pass (1.0: every trial)."""
    outcome: Outcome
    """passed when the criterion holds; error when it fails only because of error trials; else failed."""
    flaky: bool
    """Some trials passed and some failed. Error trials alone never make a scenario flaky: an outage
    is not agent flakiness (they show in `errors`)."""
    pass_rate: float | None
    pass_hat_k: dict[int, float | None] = field(default_factory=dict)
    pass_at_k: dict[int, float | None] = field(default_factory=dict)
    mean_cost_usd: float = 0.0
    mean_tokens: float = 0.0
    mean_latency_s: float = 0.0
    shapes: list[list[str]] = field(default_factory=list)
    """The distinct tool-call sequences (tool names in order) its trials made, sorted."""
    message: str = ""
    """The first failing or erroring trial's message; empty when every trial passed."""


@dataclass(slots=True)
class SegmentRow:
    """The metrics of every run sharing one value of one dimension (tag=refunds, agent=bot...)."""

    dimension: str
    value: str
    scenarios: int
    runs: int
    pass_rate: float | None
    errors: int
    flaky: int
    k: int
    """The k of `pass_hat_k`: the smallest trial count among the segment's scenarios."""
    pass_hat_k: float | None
    mean_cost_usd: float
    mean_tokens: float
    p50_latency_s: float
    p95_latency_s: float
    tool_error_rate: float | None
    """Tool calls answered with an error, refused or invalid, over all tool calls."""
    policy_violations: int
    handoff_rate: float | None = None
    """Runs that called a tool marked `handoff: true`, over all runs."""


@dataclass(slots=True)
class Change:
    """One difference between a baseline and a new run."""

    kind: str
    """newly_failing, newly_passing, newly_flaky, no_longer_flaky, newly_error, added, removed,
    tool_calls_changed, cost_up, tokens_up, latency_up, pass_rate_down."""
    scope: str
    """`scenario` or `segment`."""
    subject: str
    """The scenario id, or `dimension=value` for a segment."""
    regression: bool
    """Whether it counts towards `max_regressions` (see RegressionRules)."""
    message: str
    before: Any = None
    after: Any = None
    file: str | None = None
    line: int | None = None


@dataclass(slots=True)
class Comparison:
    baseline: str
    """Where the baseline came from (a path)."""
    baseline_run_id: str
    regressions: int
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RegressionRules:
    """What counts as a regression when comparing with a baseline (`regressions:` in agentcheck.yaml)."""

    cost_increase: float = 0.2
    """Mean cost per scenario up by more than this fraction (0.2 = 20%)."""
    tokens_increase: float = 0.2
    latency_increase: float = 0.5
    latency_min_delta_s: float = 0.25
    """...and by at least this many seconds: millisecond jitter of fast mocked runs is not a regression."""
    pass_rate_drop: float = 0.0
    """A scenario's pass rate over its trials down by more than this (absolute, 0..1)."""
    tool_calls_changed: bool = False
    """Whether a different tool-call shape counts as a regression (it is always reported)."""
    newly_error: bool = False
    """Whether a scenario that now errors (an outage, not an agent fault) counts as a regression."""


@dataclass(slots=True)
class ReleaseReport:
    """Everything beyond per-run verdicts: per-scenario trial stats, segments, the comparison."""

    scenarios: list[ScenarioStats] = field(default_factory=list)
    segments: list[SegmentRow] = field(default_factory=list)
    comparison: Comparison | None = None
    max_trials: int = 1

    def stats_by_index(self) -> dict[int, ScenarioStats]:
        return {s.index: s for s in self.scenarios}


SEGMENT_DIMENSIONS: tuple[str, ...] = ("tag", "agent", "agent_version", "model_route", "tool_version")
"""What segments group by (agentcheck.release.segments.DIMENSIONS implements each)."""
SEGMENT_PATTERN = r"^(" + "|".join(SEGMENT_DIMENSIONS) + r")=.+$"

RESULTS_SCHEMA = "agentcheck.results/1"
"""The results document version this code reads and writes (json_report.SCHEMA; a test keeps them equal)."""
