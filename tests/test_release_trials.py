"""pass^k / pass@k arithmetic against hand-computed values, flaky detection, the error rule, and the
gates that read them."""

from __future__ import annotations

import pytest
from release_helpers import E, F, P, S, runs

from agentcheck.judge.gates import evaluate_gates
from agentcheck.project import GateSpec
from agentcheck.release.trials import aggregate, suite_pass_k
from agentcheck.reliability import pass_at_k, pass_hat_k
from agentcheck.verdict import Outcome


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (4, 2, 1, 0.5),  # k=1 is the pass rate
        (4, 2, 2, 1 / 6),  # C(2,2)/C(4,2) = 1/6
        (4, 3, 2, 3 / 6),  # C(3,2)/C(4,2) = 3/6
        (4, 2, 3, 0.0),  # k > c: cannot have 3 passes out of 2
        (4, 3, 4, 0.0),  # k = n with one failure
        (4, 4, 4, 1.0),  # k = n, all passed
        (5, 4, 3, 4 / 10),  # C(4,3)/C(5,3) = 4/10
        (8, 6, 4, 15 / 70),  # C(6,4)/C(8,4)
    ],
)
def test_pass_hat_k_matches_hand_computed_values(n, c, k, expected):
    assert pass_hat_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (4, 2, 1, 0.5),
        (4, 2, 2, 5 / 6),  # 1 - C(2,2)/C(4,2)
        (4, 2, 3, 1.0),  # n-c < k: some pass is certain
        (4, 0, 4, 0.0),
        (4, 1, 4, 1.0),  # k = n
        (5, 1, 2, 1 - 6 / 10),  # 1 - C(4,2)/C(5,2)
    ],
)
def test_pass_at_k_matches_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_k_above_n_is_undefined_not_a_crash():
    assert pass_hat_k(3, 3, 4) is None
    assert pass_at_k(3, 1, 4) is None
    with pytest.raises(ValueError):
        pass_hat_k(3, 1, 0)
    with pytest.raises(ValueError):
        pass_hat_k(3, 4, 1)


def test_flaky_needs_a_pass_and_a_failure_and_errors_are_counted_apart():
    stats = {s.scenario_id: s for s in aggregate(
        runs("steady", P, P, P, index=0) + runs("flaky", P, F, P, index=1) + runs("outage", P, E, P, index=2)
        + runs("broken", F, F, F, index=3) + runs("down", E, E, index=4) + runs("skip", S, index=5)
    )}
    assert not stats["steady"].flaky and stats["steady"].outcome is Outcome.PASSED
    assert stats["flaky"].flaky and stats["flaky"].outcome is Outcome.FAILED
    assert stats["flaky"].pass_hat_k[2] == pytest.approx(1 / 3)  # C(2,2)/C(3,2)
    # error rule: counts as not passed, is counted apart, and never as a fault nor as flakiness
    outage = stats["outage"]
    assert (outage.passed, outage.failed, outage.errors, outage.trials) == (2, 0, 1, 3)
    assert outage.pass_rate == pytest.approx(2 / 3) and not outage.flaky and outage.outcome is Outcome.ERROR
    assert not stats["broken"].flaky and stats["broken"].outcome is Outcome.FAILED
    assert stats["down"].outcome is Outcome.ERROR and stats["down"].pass_rate == 0
    assert stats["skip"].outcome is Outcome.SKIPPED and stats["skip"].trials == 0 and stats["skip"].pass_rate is None
    assert [s.scenario_id for s in aggregate(runs("b", P, index=1) + runs("a", P, index=0))] == ["a", "b"]


def test_a_scenario_criterion_lets_some_trials_fail():
    metrics = runs("s", P, P, P, F)
    assert aggregate(metrics, {"s": 0.75})[0].outcome is Outcome.PASSED
    assert aggregate(metrics, {"s": 0.8})[0].outcome is Outcome.FAILED
    assert aggregate(metrics)[0].outcome is Outcome.FAILED  # default: every trial


def test_suite_pass_k_is_the_mean_over_scenarios_and_reports_undefined_ones():
    stats = aggregate(runs("a", P, P, P, P, index=0) + runs("b", P, P, F, F, index=1))
    value, undefined = suite_pass_k(stats, 2)
    assert value == pytest.approx((1 + 1 / 6) / 2) and undefined == 0
    assert suite_pass_k(stats, 5) == (None, 2)


def gate(**thresholds) -> GateSpec:
    k = thresholds.pop("k", None)
    return GateSpec(name="g", thresholds=thresholds, k=k)


def test_pass_hat_k_gate_measures_the_mean_and_fails_when_undefined():
    metrics = runs("a", P, P, P, P, index=0) + runs("b", P, P, F, F, index=1)
    (result,) = evaluate_gates([gate(min_pass_hat_k=0.5, k=2)], metrics)
    assert result.passed and result.checks[0].measured == pytest.approx(7 / 12)
    (result,) = evaluate_gates([gate(min_pass_hat_k=0.6, k=2)], metrics)
    assert not result.passed
    (result,) = evaluate_gates([gate(min_pass_hat_k=0.1, k=5)], metrics)
    assert not result.passed and result.checks[0].measured is None
    assert "undefined for k=5: 2 scenario(s) ran fewer than 5 trials" in result.message
    (result,) = evaluate_gates([gate(min_pass_at_k=0.9, k=2)], metrics)
    assert result.passed and result.checks[0].measured == pytest.approx((1 + 5 / 6) / 2)


def test_max_flaky_and_max_regressions_gates():
    metrics = runs("a", P, F, index=0) + runs("b", F, P, index=1) + runs("c", P, P, index=2)
    (result,) = evaluate_gates([gate(max_flaky=1)], metrics)
    assert not result.passed and result.checks[0].measured == 2
    (result,) = evaluate_gates([gate(max_regressions=0)], metrics)
    assert result.passed and result.checks[0].measured is None and "no baseline" in result.message
    (result,) = evaluate_gates([gate(max_regressions=0)], metrics, regressions=3)
    assert not result.passed and result.checks[0].measured == 3


def test_implicit_gate_counts_scenarios_by_their_criterion_when_trials_repeat():
    metrics = runs("a", P, P, P, F, index=0) + runs("b", P, P, P, P, index=1)
    (strict,) = evaluate_gates([], metrics)
    assert not strict.passed and strict.checks[0].measured == 1
    (lenient,) = evaluate_gates([], metrics, required={"a": 0.75})
    assert lenient.passed


def test_gates_select_segments():
    from agentcheck.project import Selection

    metrics = runs("old", P, index=0, version="1.0") + runs("new", F, index=1, version="2.0")
    spec = GateSpec(name="v2", select=Selection(segments=("agent_version=bot@2.0",)), thresholds={"min_pass_rate": 1})
    (result,) = evaluate_gates([spec], metrics)
    assert result.selected == 1 and not result.passed
    spec.select = Selection(segments=("agent_version=bot@1.0", "tag=nope"))
    (result,) = evaluate_gates([spec], metrics)
    assert result.selected == 1 and result.passed
