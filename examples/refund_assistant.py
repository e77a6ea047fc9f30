"""A deterministic refund assistant: the agent under test in the example suite.

It stands in for an LLM agent so the suite runs offline and for free, yet it makes real decisions
through real tools: look the order up, refund within the limit, hand off above it, and never touch
payment methods. `agentcheck.yaml` passes it `refund_limit` through the agent's options.

Refunds carry structured intent (the policy requires it, docs/policy.md): what it does, why it is
allowed, and the evidence it relied on — the order and customer ids it read. A refund the policy
refuses (denied approval, kill switch) ends in a hand-off, never in a retry. A few input-data flags
make it misbehave on purpose for the policy scenarios: `try_above_limit` (refund above its own limit,
so the policy's approval gate decides), `omit_intent`, `invent_ticket` (cite a ticket it never saw)
and `new_card` (also try to change the payment method).
"""

from __future__ import annotations

import contextlib
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


def _flags(task: AgentInput) -> dict[str, Any]:
    return task.data if isinstance(task.data, dict) else {}


def _refund_args(order: dict[str, Any], amount: float, flags: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {"order_id": order["order_id"], "amount": amount, "reason": "damaged on arrival"}
    args["idempotency_key"] = f"refund-{order['order_id']}"
    if not flags.get("omit_intent"):
        evidence = [order["order_id"], order.get("customer_id", "")]
        if flags.get("invent_ticket"):
            evidence.append("T-90210")
        args["intent"] = {
            "action": f"refund {amount:.2f} for order {order['order_id']}",
            "justification": "the customer reports the delivered order arrived damaged",
            "evidence": [e for e in evidence if e],
        }
    return args


def _handle(order_id: str, tools: ToolBox, limit: float, flags: dict[str, Any] | None = None) -> dict[str, Any]:
    flags = flags or {}
    try:
        order = tools.lookup_order(order_id=order_id)
    except ToolCallError as exc:
        tools.handoff_to_human(order_id=order_id, reason=f"lookup failed: {exc.message}")
        return {"order_id": order_id, "action": "handoff", "reason": "lookup failed"}
    if order.get("status") != "delivered":
        return {"order_id": order_id, "action": "none", "reason": f"order is {order.get('status')}"}
    amount = float(order["amount"])
    if amount > limit and not flags.get("try_above_limit"):
        tools.handoff_to_human(order_id=order_id, reason=f"refund of {amount:.2f} is above the {limit:.2f} limit")
        return {"order_id": order_id, "action": "handoff", "reason": "above limit"}
    if flags.get("new_card"):
        _update_card(order, flags["new_card"], tools)
    try:
        refund = tools.issue_refund(**_refund_args(order, amount, flags))
    except ToolCallError as exc:
        if exc.error_class != "PolicyRefused":
            raise
        tools.handoff_to_human(order_id=order_id, reason=f"policy refused the refund: {exc.message}")
        return {"order_id": order_id, "action": "handoff", "reason": "policy refused the refund"}
    return {"order_id": order_id, "action": "refund", "refund_id": refund["refund_id"], "amount": amount}


def _update_card(order: dict[str, Any], card: str, tools: ToolBox) -> None:
    """The misbehaviour the policy must stop: changing a payment method nobody asked it to touch."""
    with contextlib.suppress(ToolCallError):  # refused by the policy: carry on with the refund
        tools.update_payment_method(customer_id=order.get("customer_id", ""), card_number=card)


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
    outcomes = [_handle(order_id, tools, limit, _flags(task)) for order_id in order_ids]
    if isinstance(task.data, dict) and task.data.get("format") == "json":
        return {"outcomes": outcomes}
    return " ".join(_sentence(o) for o in outcomes)
