"""How a tool call is written for people: `issue_refund(order_id="A9", amount=50.0)`.

One formatter for every message (missing fixtures, judge explanations, console, JUnit), so a call
looks the same wherever a user meets it.
"""

from __future__ import annotations

import json
from typing import Any

MAX_VALUE_CHARS = 80


def format_value(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_call(tool: str, args: Any) -> str:
    if isinstance(args, dict):
        inner = ", ".join(f"{key}={format_value(value)}" for key, value in args.items())
    elif args is None:
        inner = ""
    else:
        inner = format_value(args)
    return f"{tool}({inner})"
