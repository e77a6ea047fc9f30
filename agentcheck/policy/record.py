"""One line for a decision record (`event.policy`), the same in `show`, the console and JUnit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe_decision(record: Mapping[str, Any]) -> str:
    """`approval_required (denied) by refunds-above-limit (agentcheck.yaml:114): the approver denied
    the call [args.amount=480.0]` — decision, outcome, rule, where, why, and the values it saw."""
    decision = str(record.get("decision", "?"))
    if record.get("outcome"):
        decision += f" ({record['outcome']})"
    where = f" ({record['source']})" if record.get("source") else ""
    reason = f": {record['reason']}" if record.get("reason") else ""
    values = record.get("values")
    seen = ""
    if isinstance(values, Mapping) and values:
        seen = " [" + ", ".join(f"{k}={v!r}" for k, v in values.items()) + "]"
    return f"{decision} by {record.get('rule', '?')}{where}{reason}{seen}"
