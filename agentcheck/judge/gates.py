"""Release gates: named thresholds over a selection of results, each printed measured vs threshold.

Pass rate counts `failed` and `error` runs as not passed; `skipped` runs are left out of every
metric. p95 uses the nearest-rank method (the smallest value with at least 95% of runs at or below
it), which needs no interpolation and is exact for small suites. A gate whose selection is empty
passes and says so: running one scenario locally with `-k` must not fail unrelated gates.
Without any gate, the implicit gate is "every selected scenario passed".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from agentcheck.judge.release_gates import SCENARIO_METRICS, ScenarioCache, measure_release
from agentcheck.project import GateSpec, Selection
from agentcheck.release.dimensions import in_segments
from agentcheck.release.trials import aggregate
from agentcheck.reliability import ScenarioStats
from agentcheck.verdict import GateCheck, GateResult, Outcome, RunMetrics


def selects(selection: Selection, metrics: RunMetrics) -> bool:
    if selection.segments and not in_segments(metrics, selection.segments):
        return False
    return selection.matches(metrics.scenario_id, metrics.agent, metrics.tags)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    rank = math.ceil(0.95 * len(ordered))
    return ordered[max(rank, 1) - 1]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


_FIELDS: dict[str, Callable[[RunMetrics], float]] = {
    "cost_usd": lambda m: m.cost_usd,
    "latency_s": lambda m: m.latency_s,
    "tokens": lambda m: m.tokens,
    "tool_calls": lambda m: m.tool_calls,
}


def measure(metric: str, runs: Sequence[RunMetrics]) -> float | None:
    if not runs:
        return None
    if metric == "min_pass_rate":
        return sum(r.outcome is Outcome.PASSED for r in runs) / len(runs)
    if metric == "max_failures":
        return float(sum(r.outcome is not Outcome.PASSED for r in runs))
    if metric == "max_attack_success_rate":
        attacked = [r.attack_succeeded for r in runs if r.attack_succeeded is not None]
        return sum(attacked) / len(attacked) if attacked else None
    if metric == "max_policy_violations":
        return float(sum(r.policy_violations for r in runs))
    _, stat, field = metric.split("_", 2)
    values = [_FIELDS[field](r) for r in runs]
    return mean(values) if stat == "mean" else p95(values)


def evaluate_gate(gate: GateSpec, metrics: Sequence[RunMetrics], *, regressions: int | None = None,
                  stats_of_all: tuple[int, Sequence[ScenarioStats]] | None = None) -> GateResult:
    """`stats_of_all`: (number of runs not skipped, the run's per-scenario stats), reused instead of
    folding the runs again when the gate selects every run (20 000 scenarios: half a second)."""
    runs = [m for m in metrics if m.outcome is not Outcome.SKIPPED and selects(gate.select, m)]
    checks = []
    notes: list[str] = []
    every = stats_of_all is not None and len(runs) == stats_of_all[0]
    stats = ScenarioCache(runs, stats_of_all[1] if every and stats_of_all is not None else None)
    for metric, threshold in gate.thresholds.items():
        if metric in SCENARIO_METRICS:
            measured, passed, note = measure_release(metric, gate, stats, regressions)
            checks.append(GateCheck(metric=metric, threshold=threshold, measured=measured, passed=passed))
            notes += [note] if note else []
            continue
        measured = measure(metric, runs)
        if measured is None and metric == "max_attack_success_rate" and runs:
            passed = False  # (a gate on attacks that selected no attacked run measured nothing: not a pass)
            notes.append(f"max_attack_success_rate not measured: none of the {len(runs)} runs it selects was "
                         "attacked (run the injection drill, and check that its payloads reach the agent)")
        elif measured is None:
            passed = True
        elif metric.startswith("min_"):
            passed = measured >= threshold
        else:
            passed = measured <= threshold
        checks.append(GateCheck(metric=metric, threshold=threshold, measured=measured, passed=passed))
    passed = all(c.passed for c in checks)
    message = "; ".join(["no runs selected"] if not runs else notes)
    return GateResult(name=gate.name, selected=len(runs), passed=passed, checks=checks, message=message)


def implicit_gate(metrics: Sequence[RunMetrics], required: Mapping[str, float] | None = None) -> GateResult:
    """Used when the project defines no gates: every selected scenario must pass. With repeated
    trials a scenario passes by its own criterion (`min_pass_rate`, default every trial), and `bad`
    counts scenarios; with one trial each that is the number of failed or errored runs."""
    runs = [m for m in metrics if m.outcome is not Outcome.SKIPPED]
    if any(m.trial > 1 for m in runs):
        bad = sum(s.outcome is not Outcome.PASSED for s in aggregate(runs, required))
    else:
        bad = sum(m.outcome is not Outcome.PASSED for m in runs)
    check = GateCheck(metric="max_failures", threshold=0, measured=float(bad), passed=bad == 0)
    return GateResult(
        name="all scenarios pass",
        selected=len(runs),
        passed=check.passed,
        checks=[check],
        message="no gates configured: every selected scenario must pass",
        implicit=True,
    )


def evaluate_gates(
    gates: Sequence[GateSpec],
    metrics: Sequence[RunMetrics],
    *,
    regressions: int | None = None,
    required: Mapping[str, float] | None = None,
    stats: Sequence[ScenarioStats] | None = None,
) -> list[GateResult]:
    """`stats`: the run's per-scenario stats (`aggregate(metrics, ...)`), when already folded."""
    if not gates:
        return [implicit_gate(metrics, required)]
    every = (sum(m.outcome is not Outcome.SKIPPED for m in metrics), stats) if stats is not None else None
    return [evaluate_gate(gate, metrics, regressions=regressions, stats_of_all=every) for gate in gates]
