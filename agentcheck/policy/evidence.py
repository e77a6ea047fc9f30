"""Grounding: which ids the run has seen so far, so cited evidence can be checked against them.

An id is grounded when it appeared earlier in the run: in the agent's input (messages or data) or in
a tool result that was actually returned. Every scalar is kept whole, and text is also split into
id-like tokens ("see ticket T-1." yields `T-1`), so an id quoted inside a sentence counts.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-#:/@.]*[A-Za-z0-9]|[A-Za-z0-9]")


class SeenIds:
    """Values are queued as they arrive and indexed on the first lookup, so a run that never cites
    evidence never pays for indexing its tool results."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.pending: list[Any] = []

    def add(self, value: Any) -> None:
        self.pending.append(value)

    def _index(self, value: Any) -> None:
        """Add every scalar in `value` (nested dicts and lists too)."""
        stack = [value]
        ids = self.ids
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif isinstance(item, str):
                ids.add(item)
                if " " in item or "\n" in item:
                    ids.update(_TOKEN.findall(item))
            elif isinstance(item, bool) or item is None:
                continue
            elif isinstance(item, int | float):
                ids.add(str(item))
                if isinstance(item, float) and item.is_integer():
                    ids.add(str(int(item)))

    def __contains__(self, evidence: object) -> bool:
        if self.pending:
            for value in self.pending:
                self._index(value)
            self.pending.clear()
        return evidence in self.ids


def cited_ids(evidence: list[Any]) -> list[str]:
    """The ids cited by an intent's evidence list: strings, or mappings with an `id`."""
    return [str(item["id"]) if isinstance(item, dict) else str(item) for item in evidence]


def intent_problem(intent: Any) -> str | None:
    """Why `intent` is not well-formed structured intent, or None when it is."""
    if intent is None:
        return "missing intent: the call must carry `intent: {action, justification, evidence}`"
    if not isinstance(intent, dict):
        return f"malformed intent: expected a mapping, got {type(intent).__name__}"
    for key in ("action", "justification"):
        value = intent.get(key)
        if not isinstance(value, str) or not value.strip():
            return f"malformed intent: `{key}` must be non-empty text"
    evidence = intent.get("evidence")
    if not isinstance(evidence, list) or not evidence:
        return "malformed intent: `evidence` must be a non-empty list of ids (ticket, policy, record)"
    for index, item in enumerate(evidence):
        ok = (isinstance(item, str) and item.strip()) or (
            isinstance(item, dict) and isinstance(item.get("id"), str | int) and str(item["id"]).strip()
        )
        if not ok:
            return f"malformed intent: evidence[{index}] must be an id or a mapping with `id`"
    return None
