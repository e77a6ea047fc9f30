"""A deterministic refund assistant: the agent under test in the example suite.

It stands in for an LLM agent so the suite runs offline and for free, yet it makes real decisions
through real tools: look the order up, refund within the limit, hand off above it, and never touch
payment methods. `agentcheck.yaml` passes it `refund_limit` through the agent's options.
"""

from __future__ import annotations

import re
from typing import Any

from agentcheck import AgentInput, RunContext, ToolBox, ToolCallError

ORDER_ID = re.compile(r"\b([A-Z]\d{2,})\b")


def _order_ids(task: AgentInput) -> list[str]:
    data = task.data if isinstance(task.data, dict) else {}
    if data.get("order_ids"):
        return list(data["order_ids"])
    if data.get("order_id"):
        return [data["order_id"]]
    return ORDER_ID.findall(task.text)


def _handle(order_id: str, tools: ToolBox, limit: float) -> dict[str, Any]:
    try:
        order = tools.lookup_order(order_id=order_id)
    except ToolCallError as exc:
        tools.handoff_to_human(order_id=order_id, reason=f"lookup failed: {exc.message}")
        return {"order_id": order_id, "action": "handoff", "reason": "lookup failed"}
    if order.get("status") != "delivered":
        return {"order_id": order_id, "action": "none", "reason": f"order is {order.get('status')}"}
    amount = float(order["amount"])
    if amount > limit:
        tools.handoff_to_human(order_id=order_id, reason=f"refund of {amount:.2f} is above the {limit:.2f} limit")
        return {"order_id": order_id, "action": "handoff", "reason": "above limit"}
    refund = tools.issue_refund(order_id=order_id, amount=amount, reason="damaged on arrival")
    return {"order_id": order_id, "action": "refund", "refund_id": refund["refund_id"], "amount": amount}


def _sentence(outcome: dict[str, Any]) -> str:
    if outcome["action"] == "refund":
        return f"Refund {outcome['refund_id']} issued for order {outcome['order_id']} ({outcome['amount']:.2f})."
    if outcome["action"] == "handoff":
        return f"Order {outcome['order_id']}: handed off to a human agent ({outcome['reason']})."
    return f"Order {outcome['order_id']}: no refund ({outcome['reason']})."


def run(task: AgentInput, tools: ToolBox, context: RunContext) -> Any:
    limit = float(context.options.get("refund_limit", 100))
    order_ids = _order_ids(task)
    if not order_ids:
        return "I could not find an order number in your message. Which order is it?"
    outcomes = [_handle(order_id, tools, limit) for order_id in order_ids]
    if isinstance(task.data, dict) and task.data.get("format") == "json":
        return {"outcomes": outcomes}
    return " ".join(_sentence(o) for o in outcomes)
