"""Gates: selection, pass rate, mean and nearest-rank p95, empty selections, the implicit gate."""

from __future__ import annotations

import pytest

from agentcheck.judge.gates import evaluate_gates, p95
from agentcheck.project import GateSpec, Selection
from agentcheck.verdict import Outcome, RunMetrics


def m(i, outcome="passed", *, cost=0.0, latency=0.0, tokens=0, tags=(), agent="a", sid=None):
    return RunMetrics(i, sid or f"s{i}", agent, tuple(tags), Outcome(outcome), cost, latency, tokens, 1)


def test_p95_nearest_rank():
    assert p95([5.0]) == 5.0
    assert p95(list(range(1, 21))) == 19  # ceil(0.95*20) = 19th value
    assert p95(list(range(1, 101))) == 95
    assert p95([3, 1, 2]) == 3


def test_pass_rate_counts_errors_as_not_passed_and_ignores_skips():
    runs = [m(0), m(1, "failed"), m(2, "error"), m(3, "skipped"), m(4)]
    [gate] = evaluate_gates([GateSpec("g", thresholds={"min_pass_rate": 0.5})], runs)
    assert gate.selected == 4
    assert gate.checks[0].measured == pytest.approx(0.5)
    assert gate.passed


def test_thresholds_compare_in_the_right_direction():
    runs = [m(i, cost=c) for i, c in enumerate([0.01, 0.02, 0.03, 0.10])]
    spec = GateSpec("cost", thresholds={"max_mean_cost_usd": 0.05, "max_p95_cost_usd": 0.05})
    [gate] = evaluate_gates([spec], runs)
    mean_check, p95_check = gate.checks
    assert mean_check.measured == pytest.approx(0.04) and mean_check.passed
    assert p95_check.measured == pytest.approx(0.10) and not p95_check.passed
    assert p95_check.op == "<=" and not gate.passed


def test_selection_by_tag_agent_and_id_glob():
    runs = [m(0, "failed", tags=("x",)), m(1, tags=("y",), agent="b"), m(2, "failed", sid="refund-1")]
    gates = [
        GateSpec("by-tag", Selection(tags=("y",)), {"min_pass_rate": 1.0}),
        GateSpec("by-agent", Selection(agents=("b",)), {"min_pass_rate": 1.0}),
        GateSpec("by-id", Selection(scenarios=("refund-*",)), {"max_failures": 0}),
    ]
    by_tag, by_agent, by_id = evaluate_gates(gates, runs)
    assert (by_tag.selected, by_tag.passed) == (1, True)
    assert (by_agent.selected, by_agent.passed) == (1, True)
    assert (by_id.selected, by_id.passed, by_id.checks[0].measured) == (1, False, 1.0)


def test_empty_selection_passes_and_says_so():
    [gate] = evaluate_gates([GateSpec("g", Selection(tags=("none",)), {"min_pass_rate": 1})], [m(0, "failed")])
    assert gate.passed and gate.selected == 0 and gate.message == "no runs selected"
    assert gate.checks[0].measured is None


def test_without_gates_every_scenario_must_pass():
    [gate] = evaluate_gates([], [m(0), m(1, "skipped")])
    assert gate.implicit and gate.passed
    [gate] = evaluate_gates([], [m(0), m(1, "error")])
    assert not gate.passed and gate.checks[0].measured == 1
