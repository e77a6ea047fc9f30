"""Budget checks after the run: one check per cap, naming the cap, the limit and what was used."""

from __future__ import annotations

from agentcheck.scenario import Budget
from agentcheck.trace import StopKind, Trace
from agentcheck.verdict import CheckResult


def _used(cap: str, trace: Trace) -> float:
    totals = trace.totals
    return {
        "max_steps": totals.steps,
        "max_tool_calls": totals.tool_calls,
        "max_model_calls": totals.model_calls,
        "max_input_tokens": totals.input_tokens,
        "max_output_tokens": totals.output_tokens,
        "max_total_tokens": totals.total_tokens,
        "max_cost_usd": totals.cost_usd,
        "max_wall_time_s": totals.wall_time_ms / 1000.0,
    }[cap]


def judge_budget(budget: Budget, trace: Trace) -> list[CheckResult]:
    stop = trace.stop
    stopped_cap = None
    if stop is not None and stop.kind is StopKind.BUDGET_EXCEEDED:
        stopped_cap = stop.message.removeprefix("budget exceeded: ").split(" ", 1)[0]
    checks = []
    for cap, limit in budget.caps().items():
        used = _used(cap, trace)
        if cap == stopped_cap and stop is not None:
            passed = False
            message = f"run stopped: {stop.message}"
            explanation = (
                f"budget cap {cap} = {limit:g}; the agent tried to go past it and the run was stopped there "
                f"({stop.message.removeprefix('budget exceeded: ')})"
            )
        else:
            passed = used <= limit
            message = f"{cap}: used {used:g} of {limit:g}" if passed else f"{cap}: used {used:g}, cap {limit:g}"
            explanation = "" if passed else f"budget cap {cap} = {limit:g}; the run used {used:g}"
        checks.append(
            CheckResult(
                check=f"budget.{cap}",
                passed=passed,
                message=message,
                explanation=explanation,
                expected=limit,
                actual=used,
            )
        )
    if stop is not None and stop.kind is StopKind.BUDGET_EXCEEDED and stopped_cap not in budget.caps():
        checks.append(CheckResult(check="budget.stopped", passed=False, message=stop.message))
    return checks
