"""Budget caps enforced while the agent runs: the step that would cross a cap is not taken."""

from __future__ import annotations

from agentcheck.scenario import Budget
from agentcheck.trace import Totals


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def exceeded_before_step(budget: Budget, totals: Totals, *, tool_call: bool, now_ms: float) -> str | None:
    """The cap a new step (tool call or model call) would cross, described; None when it fits."""
    if budget.max_steps is not None and totals.steps + 1 > budget.max_steps:
        return f"max_steps {budget.max_steps} reached (step {totals.steps + 1} refused)"
    if tool_call and budget.max_tool_calls is not None and totals.tool_calls + 1 > budget.max_tool_calls:
        return f"max_tool_calls {budget.max_tool_calls} reached (call {totals.tool_calls + 1} refused)"
    if not tool_call and budget.max_model_calls is not None and totals.model_calls + 1 > budget.max_model_calls:
        return f"max_model_calls {budget.max_model_calls} reached (call {totals.model_calls + 1} refused)"
    return exceeded_after_step(budget, totals, now_ms=now_ms)


def exceeded_after_step(budget: Budget, totals: Totals, *, now_ms: float) -> str | None:
    """The cap that usage already recorded has crossed (tokens and cost are known only afterwards)."""
    checks: list[tuple[str, float | None, float]] = [
        ("max_input_tokens", budget.max_input_tokens, totals.input_tokens),
        ("max_output_tokens", budget.max_output_tokens, totals.output_tokens),
        ("max_total_tokens", budget.max_total_tokens, totals.total_tokens),
        ("max_cost_usd", budget.max_cost_usd, totals.cost_usd),
        ("max_wall_time_s", budget.max_wall_time_s, now_ms / 1000.0),
    ]
    for name, cap, measured in checks:
        if cap is not None and measured > cap:
            return f"{name} {_fmt(cap)} exceeded ({_fmt(round(measured, 6))})"
    return None
