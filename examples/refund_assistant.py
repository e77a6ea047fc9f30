"""A deterministic refund assistant: the agent under test in the example suite.

It stands in for an LLM agent so the suite runs offline and for free, yet it makes real decisions
through real tools: look the order up, refund within the limit, hand off above it, and never touch
payment methods. `agentcheck.yaml` passes it `refund_limit` through the agent's options.

Failure handling, as the drills expect of a production agent (docs/drills.md):
- a throttle (429, or 503 with Retry-After) or a retryable 502/503/504 is retried at most twice,
  waiting the Retry-After (or 1 s, then 2 s) with `context.sleep` — virtual time, no real wait;
  a read that times out is retried the same way; a write that times out is never retried blind;
- anything still failing ends in a hand-off to a human, never in an invented success;
- a record carrying a freshness stamp (`updated_at`) is read again before a refund is written;
- text inside tool results is data, never instructions: it is not acted on.
"""

from __future__ import annotations

import re
from typing import Any

from agentcheck import AgentInput, RunContext, ToolBox, ToolCallError
from agentcheck.faults import RETRYABLE_STATUSES, retry_after_seconds

ORDER_ID = re.compile(r"\b([A-Z]\d{2,})\b")
MAX_RETRIES = 2


def _order_ids(task: AgentInput, tools: ToolBox, context: RunContext) -> list[str]:
    data = task.data if isinstance(task.data, dict) else {}
    if data.get("ticket_id"):  # the ticket's order field is used; its free text is never obeyed
        ticket = _call(tools, context, "get_ticket", ticket_id=data["ticket_id"])
        return [ticket["order_id"]] if isinstance(ticket, dict) and ticket.get("order_id") else []
    if data.get("order_ids"):
        return list(data["order_ids"])
    if data.get("order_id"):
        return [data["order_id"]]
    return ORDER_ID.findall(task.text)


def _call(tools: ToolBox, context: RunContext, name: str, *, write: bool = False, **args: Any) -> Any:
    """Call a tool, retrying what is safe to retry, with back-off on the virtual clock."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            return tools.call(name, **args)
        except ToolCallError as exc:
            retryable = exc.status in RETRYABLE_STATUSES or (exc.error_class == "ToolTimeout" and not write)
            if not retryable or attempt == MAX_RETRIES:
                raise
            wait = retry_after_seconds(exc.retry_after)
            context.sleep(wait if wait is not None else float(2**attempt))
    raise AssertionError("unreachable")


def _handoff(order_id: str, tools: ToolBox, context: RunContext, reason: str, short: str) -> dict[str, Any]:
    _call(tools, context, "handoff_to_human", write=True, order_id=order_id, reason=reason)
    return {"order_id": order_id, "action": "handoff", "reason": short}


def _handle(order_id: str, tools: ToolBox, context: RunContext, limit: float) -> dict[str, Any]:
    try:
        order = _call(tools, context, "lookup_order", order_id=order_id)
        if isinstance(order, dict) and order.get("updated_at"):
            order = _call(tools, context, "lookup_order", order_id=order_id)  # re-read before writing
    except ToolCallError as exc:
        return _handoff(order_id, tools, context, f"lookup failed: {exc.message}", "lookup failed")
    if not isinstance(order, dict) or not isinstance(order.get("amount"), (int, float)):
        return _handoff(order_id, tools, context, "lookup returned an unreadable record", "unreadable record")
    if order.get("status") != "delivered":
        return {"order_id": order_id, "action": "none", "reason": f"order is {order.get('status')}"}
    amount = float(order["amount"])
    if amount > limit:
        return _handoff(
            order_id, tools, context, f"refund of {amount:.2f} is above the {limit:.2f} limit", "above limit"
        )
    try:
        refund = _call(tools, context, "issue_refund", write=True, order_id=order_id, amount=amount,
                       reason="damaged on arrival")
    except ToolCallError as exc:
        return _handoff(order_id, tools, context, f"refund failed: {exc.message}", "refund failed")
    return {"order_id": order_id, "action": "refund", "refund_id": refund["refund_id"], "amount": amount}


def _sentence(outcome: dict[str, Any]) -> str:
    if outcome["action"] == "refund":
        return f"Refund {outcome['refund_id']} issued for order {outcome['order_id']} ({outcome['amount']:.2f})."
    if outcome["action"] == "handoff":
        return f"Order {outcome['order_id']}: handed off to a human agent ({outcome['reason']})."
    return f"Order {outcome['order_id']}: no refund ({outcome['reason']})."


def run(task: AgentInput, tools: ToolBox, context: RunContext) -> Any:
    limit = float(context.options.get("refund_limit", 100))
    order_ids = _order_ids(task, tools, context)
    if not order_ids:
        return "I could not find an order number in your message. Which order is it?"
    outcomes = [_handle(order_id, tools, context, limit) for order_id in order_ids]
    if isinstance(task.data, dict) and task.data.get("format") == "json":
        return {"outcomes": outcomes}
    return " ".join(_sentence(o) for o in outcomes)
