"""How a tool call is written for people: `issue_refund(order_id="A9", amount=50.0)`.

One formatter for every message (missing fixtures, judge explanations, console, JUnit), so a call
looks the same wherever a user meets it.
"""

from __future__ import annotations

import json
from typing import Any

from agentcheck.redact import scrub


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_value(value: Any, limit: int = 60) -> str:
    """JSON text (what the agent sent over the wire), cut to `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):  # odd data: never let an explanation crash the judge
        text = repr(value)
    return clip(scrub(text), limit)


def format_call(tool: str, args: Any, limit: int = 200) -> str:
    """An actual call as the reader thinks of it: `issue_refund(order_id="A9", amount=50.0)`."""
    if args is None or (isinstance(args, dict) and not args):
        inner = ""
    elif isinstance(args, dict):
        inner = ", ".join(f"{k}={format_value(v)}" for k, v in args.items())
    else:
        inner = format_value(args)
    return clip(f"{tool}({inner})", limit)


def plural(count: int, word: str) -> str:
    """`1 tool call`, `2 tool calls`: counts in messages read as English."""
    return f"{count} {word}{'' if count == 1 else 's'}"
