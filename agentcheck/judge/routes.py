"""`expect.model_route`: which model route the run took, judged from the route of each model call.

`default` holds when no model call went by the escalation route; `escalate` holds when at least one
did. Calls with no route recorded (an agent that reports none) count as default.
"""

from __future__ import annotations

from agentcheck.trace import Trace
from agentcheck.verdict import CheckResult


def judge_model_route(expected: str | None, trace: Trace) -> list[CheckResult]:
    if expected is None:
        return []
    calls = trace.model_calls()
    escalated = [c for c in calls if c.route == "escalate"]
    taken = "escalate" if escalated else "default"
    routes = ", ".join(f"step {c.step}: {c.route or 'default'} ({c.model})" for c in calls) or "no model calls"
    if taken == expected:
        return [CheckResult(check="model.route", passed=True, message=f"model route {taken}")]
    first = f" first at step {escalated[0].step} ({escalated[0].model})" if escalated else ""
    return [
        CheckResult(
            check="model.route",
            passed=False,
            message=f"expected model route {expected}, got {taken}{first}",
            explanation=f"routes per model call: {routes}",
            expected=expected,
            actual=taken,
        )
    ]
