"""Policy assertions and the violations gate, judged from the decisions recorded on a trace."""

from __future__ import annotations

from agentcheck.judge.gates import evaluate_gate
from agentcheck.judge.policy import judge_policy
from agentcheck.policy.spec import DecisionExpectation, Handoff, PolicyExpectations, ScenarioPolicy
from agentcheck.project import GateSpec
from agentcheck.trace import ToolCallEvent, ToolStatus, Trace
from agentcheck.verdict import Outcome, RunMetrics, policy_violations


def _call(step: int, tool: str, decision: str, *, writes: bool = True, rule: str = "r", outcome: str | None = None):
    record = {"decision": decision, "rule": rule, "writes": writes, "reason": "why"}
    if outcome:
        record["outcome"] = outcome
    status = ToolStatus.OK if decision == "allowed" or outcome == "approved" else ToolStatus.REFUSED
    return ToolCallEvent(step, f"call_{step}", tool, {}, status, policy=record)


def _trace(*events: ToolCallEvent, output: str = "done") -> Trace:
    return Trace("t", "s", 1, "bot", None, "now", events=list(events), output=output)


def _policy(**expect) -> ScenarioPolicy:
    return ScenarioPolicy(expect=PolicyExpectations(**expect), handoff=Handoff(("handoff",), ("[HANDOFF]",)))


def test_expected_decisions_in_call_order_per_tool():
    trace = _trace(_call(1, "pay", "allowed"), _call(2, "pay", "approval_required", outcome="denied"))
    expect = (
        DecisionExpectation("pay", "allowed"),
        DecisionExpectation("pay", "approved"),
        DecisionExpectation("pay", "blocked"),
    )
    first, second, third = judge_policy(_policy(decisions=expect), trace)
    assert first.passed and first.message == "call 1 of pay → allowed"
    assert not second.passed and second.message == "call 2 of pay → approval_required (denied), expected approved"
    assert "step 2 pay → approval_required (denied) by r: why" in second.explanation
    assert not third.passed and "called 2 time(s)" in third.message


def test_no_violations_and_the_gate_count_blocked_calls_only():
    trace = _trace(_call(1, "pay", "blocked"), _call(2, "pay", "approval_required", outcome="denied"))
    (check,) = judge_policy(_policy(no_violations=True), trace)
    assert not check.passed and check.actual == 1
    assert policy_violations(trace) == 1
    runs = [
        RunMetrics(0, "a", "bot", (), Outcome.PASSED, 0, 0, 0, 2, policy_violations=1),
        RunMetrics(1, "b", "bot", (), Outcome.PASSED, 0, 0, 0, 2, policy_violations=2),
    ]
    gate = evaluate_gate(GateSpec("zero", thresholds={"max_policy_violations": 0}), runs)
    assert not gate.passed and gate.checks[0].measured == 3


def test_handoff_by_tool_or_marker_and_not_followed_by_writes():
    by_tool = _trace(_call(1, "pay", "blocked"), _call(2, "handoff", "allowed"))
    assert judge_policy(_policy(handoff=True), by_tool)[0].passed
    then_writes = _trace(_call(1, "handoff", "allowed"), _call(2, "pay", "blocked"))
    assert not judge_policy(_policy(handoff=True), then_writes)[0].passed
    by_marker = _trace(_call(1, "read", "allowed", writes=False), output="Passing you on [handoff]")
    assert judge_policy(_policy(handoff=True), by_marker)[0].passed
    assert not judge_policy(_policy(handoff=False), by_marker)[0].passed


def test_stops_after_kill():
    good = _trace(_call(1, "pay", "blocked", rule="kill_switch"), _call(2, "handoff", "allowed"))
    assert judge_policy(_policy(stops_after_kill=True), good)[0].passed
    bad = _trace(
        _call(1, "pay", "blocked", rule="kill_switch"),
        _call(2, "read", "allowed", writes=False),
        _call(3, "pay", "blocked", rule="kill_switch"),
    )
    (check,) = judge_policy(_policy(stops_after_kill=True), bad)
    assert not check.passed and check.step == 3 and "1 write attempt(s) after" in check.message
