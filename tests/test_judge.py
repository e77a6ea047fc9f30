"""From trace to verdict: error vs failed, contract violations, budgets, advisory checks."""

from __future__ import annotations

from agentcheck.judge.judge import judge, skipped_result
from agentcheck.matchers import ArgMode, compile_matcher
from agentcheck.scenario import (
    Budget,
    CallExpectation,
    Expectations,
    OutputExpectations,
    ToolExpectations,
    TrajectoryMode,
)
from agentcheck.trace import ErrorInfo, StopKind, StopReason, ToolCallEvent, ToolStatus, Totals, Trace
from agentcheck.verdict import Outcome
from tests.run_helpers import scenario


def trace(*calls: ToolCallEvent, output="done", stop: StopReason | None = None, **totals) -> Trace:
    t = Trace("t" * 32, "s1", 1, "a", None, "2026-01-01T00:00:00Z", list(calls), output,
              Totals(tool_calls=len(calls), steps=len(calls), **totals), stop)
    return t


def call(step, tool, args, status=ToolStatus.OK, violation=None):
    return ToolCallEvent(step, f"call_{step}", tool, args, status, violation=violation,
                         error=ErrorInfo("X", "y") if status is not ToolStatus.OK else None)


def expect_calls(*pairs, mode=TrajectoryMode.ORDERED, **kw) -> Expectations:
    calls = tuple(CallExpectation(t, compile_matcher(a, ArgMode.PARTIAL)) for t, a in pairs)
    return Expectations(tools=ToolExpectations(mode=mode, calls=calls), **kw)


def test_passing_trace_passes_with_every_check_recorded():
    sc = scenario(expect=expect_calls(("lookup", {"id": "A"}), output=OutputExpectations(contains=("done",))))
    result = judge(sc, trace(call(1, "lookup", {"id": "A"})))
    assert result.outcome is Outcome.PASSED and result.message == ""
    assert [c.check for c in result.checks] == ["tools.ordered", "output.contains"]
    assert all(c.passed for c in result.checks)


def test_unjudgeable_stops_are_errors_without_checks():
    for kind in (StopKind.CRASHED, StopKind.TIMEOUT, StopKind.NO_FIXTURE, StopKind.BAD_OUTPUT):
        result = judge(scenario(expect=expect_calls(("lookup", {}))),
                       trace(output=None, stop=StopReason(kind, "it broke")))
        assert result.outcome is Outcome.ERROR
        assert result.message == f"{kind.value}: it broke"
        assert result.checks == []


def test_budget_stop_is_a_failure_naming_the_cap_and_skips_output_checks():
    sc = scenario(expect=Expectations(output=OutputExpectations(contains=("x",)), budget=Budget(max_tool_calls=2)))
    stop = StopReason(StopKind.BUDGET_EXCEEDED, "budget exceeded: max_tool_calls 2 reached (call 3 refused)")
    result = judge(sc, trace(call(1, "lookup", {}), call(2, "lookup", {}), output=None, stop=stop))
    assert result.outcome is Outcome.FAILED
    assert [c.check for c in result.checks] == ["budget.max_tool_calls"]
    assert "max_tool_calls 2 reached" in result.checks[0].message
    assert result.message.startswith("budget.max_tool_calls: run stopped")


def test_budget_caps_judged_after_a_normal_run():
    sc = scenario(budget=Budget(max_cost_usd=0.01, max_steps=5))
    result = judge(sc, trace(call(1, "lookup", {}), cost_usd=0.02))
    by_name = {c.check: c for c in result.checks}
    assert not by_name["budget.max_cost_usd"].passed and by_name["budget.max_steps"].passed
    assert by_name["budget.max_cost_usd"].actual == 0.02
    assert result.outcome is Outcome.FAILED


def test_contract_violations_fail_and_name_the_step():
    bad = call(2, "lookup", {"id": 5}, ToolStatus.INVALID_ARGS, violation="arguments do not fit: id: 5 is not a string")
    unknown = call(3, "nope", {}, ToolStatus.UNKNOWN_TOOL, violation="unknown tool 'nope'")
    result = judge(scenario(), trace(call(1, "lookup", {"id": "A"}), bad, unknown))
    checks = {c.check: c for c in result.checks}
    assert checks["contract.args"].step == 2 and "step 2" in checks["contract.args"].message
    assert checks["contract.tool"].step == 3
    assert result.outcome is Outcome.FAILED and "(+1 more)" in result.message


def test_advisory_groups_report_but_never_fail():
    sc = scenario(expect=Expectations(output=OutputExpectations(contains=("missing",)), advisory=frozenset({"output"})))
    result = judge(sc, trace())
    assert result.outcome is Outcome.PASSED
    [check] = result.checks
    assert not check.passed and check.advisory and not check.blocking


def test_skipped_result_keeps_the_reason():
    sc = scenario()
    sc.skip = "flaky upstream"
    result = skipped_result(sc)
    assert result.outcome is Outcome.SKIPPED and result.message == "flaky upstream"
