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


def _flags(task: AgentInput) -> dict[str, Any]:
    return task.data if isinstance(task.data, dict) else {}


def _refund_args(order_id: str, order: dict[str, Any], amount: float, flags: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {"order_id": order_id, "amount": amount, "reason": "damaged on arrival"}
    args["idempotency_key"] = f"refund-{order_id}"  # stable: a retried refund is the same write
    if not flags.get("omit_intent"):
        evidence = [order_id, order.get("customer_id", "")]
        if flags.get("invent_ticket"):
            evidence.append("T-90210")
        args["intent"] = {
            "action": f"refund {amount:.2f} for order {order_id}",
            "justification": "the customer reports the delivered order arrived damaged",
            "evidence": [e for e in evidence if e],
        }
    return args


def _handle(
    order_id: str, tools: ToolBox, context: RunContext, limit: float, flags: dict[str, Any]
) -> dict[str, Any]:
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
    if amount > limit and not flags.get("try_above_limit"):
        return _handoff(
            order_id, tools, context, f"refund of {amount:.2f} is above the {limit:.2f} limit", "above limit"
        )
    if flags.get("new_card"):
        _update_card(order, flags["new_card"], tools)
    try:
        refund = _call(tools, context, "issue_refund", write=True, **_refund_args(order_id, order, amount, flags))
    except ToolCallError as exc:
        if exc.error_class == "PolicyRefused":  # a refusal is final: hand off, never retry around it
            return _handoff(
                order_id, tools, context, f"policy refused the refund: {exc.message}", "policy refused the refund"
            )
        return _handoff(order_id, tools, context, f"refund failed: {exc.message}", "refund failed")
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
    order_ids = _order_ids(task, tools, context)
    if not order_ids:
        return "I could not find an order number in your message. Which order is it?"
    outcomes = [_handle(order_id, tools, context, limit, _flags(task)) for order_id in order_ids]
    if isinstance(task.data, dict) and task.data.get("format") == "json":
        return {"outcomes": outcomes}
    return " ".join(_sentence(o) for o in outcomes)
