"""From a trace to a verdict: every check the scenario asks for, then one outcome.

`error` when the harness could not judge (the agent crashed, hung, returned garbage, or a fixture
was missing); `failed` when a blocking check said no; `passed` otherwise. Advisory checks are
reported and never change the outcome.
"""

from __future__ import annotations

from agentcheck.judge.budgets import judge_budget
from agentcheck.judge.drillchecks import handoff_excuses, judge_drill_checks
from agentcheck.judge.injection import NOT_DELIVERED
from agentcheck.judge.output import judge_output
from agentcheck.judge.policy import judge_policy
from agentcheck.judge.routes import judge_model_route
from agentcheck.judge.trajectory import judge_tools
from agentcheck.scenario import Scenario
from agentcheck.trace import StopKind, ToolCallEvent, ToolStatus, Trace
from agentcheck.verdict import CheckResult, Outcome, ScenarioResult

UNJUDGEABLE = frozenset(
    {StopKind.TIMEOUT, StopKind.CRASHED, StopKind.NO_FIXTURE, StopKind.BAD_OUTPUT, StopKind.CANCELLED,
     StopKind.MODEL_ERROR}
)


def judge_contract(calls: list[ToolCallEvent]) -> list[CheckResult]:
    """One failed check per call that broke the tool contract (unknown tool, arguments off-schema)."""
    return [
        CheckResult(
            check="contract.tool" if call.status is ToolStatus.UNKNOWN_TOOL else "contract.args",
            passed=False,
            message=f"step {call.step}: {call.violation}",
            explanation=f"step {call.step} called {call.tool} with {call.args!r}\n{call.violation}",
            step=call.step,
            tool=call.tool,
            actual=call.args,
        )
        for call in calls
        if call.violation
    ]


def _group(check: str) -> str:
    return check.split(".", 1)[0]


def _result(scenario: Scenario, outcome: Outcome, message: str, trial: int) -> ScenarioResult:
    return ScenarioResult(
        index=scenario.index,
        scenario_id=scenario.id,
        file=scenario.source.file,
        line=scenario.source.line,
        agent=scenario.agent,
        tags=scenario.tags,
        outcome=outcome,
        message=message,
        trial=trial,
    )


def skipped_result(scenario: Scenario, trial: int = 1) -> ScenarioResult:
    return _result(scenario, Outcome.SKIPPED, scenario.skip or "skipped", trial)


def unjudged_result(scenario: Scenario, message: str, trial: int = 1) -> ScenarioResult:
    """An `error` result for a run there is nothing to judge of (a merge's scenario in no shard
    file): the harness could not judge it, so it is neither a pass nor the agent's failure."""
    return _result(scenario, Outcome.ERROR, message, trial)


def judge(scenario: Scenario, trace: Trace) -> ScenarioResult:
    result = _result(scenario, Outcome.PASSED, "", trace.trial)
    result.trace = trace
    result.duration_ms = trace.totals.wall_time_ms
    stop = trace.stop
    if stop is not None and stop.kind in UNJUDGEABLE:
        result.outcome = Outcome.ERROR
        result.message = f"{stop.kind.value}: {stop.message}"
        return result

    expect = scenario.expect
    calls = trace.tool_calls()
    checks: list[CheckResult] = judge_contract(calls)
    if expect.tools is not None:
        checks.extend(judge_tools(expect.tools, calls))
    if expect.output is not None and stop is None:
        checks.extend(judge_output(expect.output, trace.output))
    checks.extend(judge_budget(expect.budget, trace))
    checks.extend(judge_drill_checks(scenario, trace))
    if scenario.policy is not None and scenario.policy.expect is not None:
        checks.extend(judge_policy(scenario.policy, trace))
    checks.extend(judge_model_route(expect.model_route, trace))
    for check in checks:
        if _group(check.check) in expect.advisory:
            check.advisory = True
    handoff_excuses(scenario, trace, checks)
    result.checks = checks
    blocking = [c for c in checks if c.blocking]
    undelivered = next((c for c in blocking if c.check == NOT_DELIVERED), None)
    if undelivered is not None:  # an injection drill that attacked nothing: it does not apply to this run
        result.outcome = Outcome.SKIPPED
        result.message = f"{undelivered.check}: {undelivered.message}"
    elif blocking:
        result.outcome = Outcome.FAILED
        first = blocking[0]
        more = f" (+{len(blocking) - 1} more)" if len(blocking) > 1 else ""
        result.message = f"{first.check}: {first.message}{more}"
    return result
