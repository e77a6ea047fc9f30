"""The drill check groups in one call, so the core judge needs a single added line.

Resilience (retries, hand-off, duplicate writes, policy), end state, and injection checks; and the
drill default "original outcome or a hand-off": when the run handed off, the original tool and
output expectations stay in the report but become advisory.
"""

from __future__ import annotations

from agentcheck.judge.injection import judge_injection
from agentcheck.judge.resilience import handed_off, judge_resilience, judge_writes
from agentcheck.judge.state import judge_state
from agentcheck.scenario import Expectations, Scenario
from agentcheck.trace import Trace
from agentcheck.verdict import CheckResult


def judge_drill_checks(scenario: Scenario, trace: Trace) -> list[CheckResult]:
    expect: Expectations = scenario.expect
    calls = trace.tool_calls()
    checks: list[CheckResult] = []
    if expect.resilience is not None:
        checks.extend(judge_resilience(expect.resilience, calls))
        checks.extend(judge_writes(expect.resilience, calls))
    if expect.state is not None:
        checks.extend(judge_state(expect.state, scenario.state, trace.state))
    if expect.injection is not None:
        checks.extend(judge_injection(expect.injection, calls, trace.output))
    return checks


def handoff_excuses(scenario: Scenario, trace: Trace, checks: list[CheckResult]) -> None:
    """Drill default: a hand-off is an acceptable outcome, so the original expectations turn advisory."""
    resilience = scenario.expect.resilience
    if resilience is None or not resilience.outcome_or_handoff:
        return
    if handed_off(trace.tool_calls(), resilience.handoff_tools):
        for check in checks:
            if check.check.split(".", 1)[0] in ("tools", "output"):
                check.advisory = True
