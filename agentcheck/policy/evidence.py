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

    __slots__ = ("ids", "pending")  # one per run that cites evidence: no instance dict

    def __init__(self, pending: list[Any] | None = None) -> None:
        self.ids: set[str] = set()
        self.pending: list[Any] = [] if pending is None else pending

    def add(self, value: Any) -> None:
        self.pending.append(value)

    def _index_pending(self) -> None:
        """Add every scalar of the queued values (nested dicts and lists too) to `ids`."""
        ids = self.ids
        stack, self.pending = self.pending, []
        pop, push = stack.pop, stack.extend
        while stack:
            item = pop()
            kind = type(item)
            if kind is str:
                ids.add(item)
                if " " in item or "\n" in item:
                    ids.update(_TOKEN.findall(item))
            elif kind is dict:
                push(item.values())
            elif kind is list or kind is tuple:
                push(item)
            elif item is None or kind is bool:
                continue
            elif kind is int:
                ids.add(str(item))
            elif kind is float:
                ids.add(str(item))
                if item.is_integer():
                    ids.add(str(int(item)))
            else:  # subclasses of the JSON types, as their base type would index
                base = next((t for t in (bool, str, dict, list, tuple, int, float) if isinstance(item, t)), None)
                if base is not None and base is not bool:
                    push([base(item)])

    def __contains__(self, evidence: object) -> bool:
        if evidence in self.ids:
            return True
        pending = self.pending
        if not pending:
            return False
        if len(pending) <= _SHALLOW_MAX and type(evidence) is str and _shallow_hit(evidence, pending):
            return True  # a text value equal to it, where the index would have put it: no need to index yet
        self._index_pending()
        return evidence in self.ids


_SHALLOW_MAX = 8
"""Queued values a lookup scans shallowly before indexing them (bounded, so long runs stay linear)."""


def _shallow_hit(evidence: str, values: list[Any]) -> bool:
    """Whether `evidence` is one of the values, or a value directly inside one (a mapping's value, a
    list's item, a value of a mapping in a list): the usual place of a record id. Only text equal to
    it counts (exactly `str`, as the index keeps it), so a hit is an id the index would hold; the
    C-level `in` screens first, and only a hit is confirmed element by element."""
    for value in values:
        kind = type(value)
        if kind is dict:
            if evidence in value.values() and _holds_text(value.values(), evidence):
                return True
        elif kind is list:
            if evidence in value and _holds_text(value, evidence):
                return True
            for item in value:
                if type(item) is dict and evidence in item.values() and _holds_text(item.values(), evidence):
                    return True
        elif kind is str and value == evidence:
            return True
    return False


def _holds_text(items: Any, evidence: str) -> bool:
    for item in items:  # noqa: SIM110 - a loop, not any(generator): this runs on most decisions that cite evidence
        if type(item) is str and item == evidence:
            return True
    return False


def cited_ids(evidence: list[Any]) -> list[str]:
    """The ids cited by an intent's evidence list: strings, or mappings with an `id`."""
    return [str(item["id"]) if isinstance(item, dict) else str(item) for item in evidence]


def key_missing(value: Any) -> bool:
    """Whether an idempotency key argument is absent in effect: missing, empty, or only spaces (a key
    of spaces deduplicates nothing a retry could tell apart)."""
    return not value or (isinstance(value, str) and not value.strip())


def intent_problem(intent: Any) -> str | None:
    """Why `intent` is not well-formed structured intent, or None when it is."""
    if type(intent) is dict:  # the usual well-formed shape, checked in one pass
        action, why, evidence = intent.get("action"), intent.get("justification"), intent.get("evidence")
        if (
            type(action) is str
            and type(why) is str
            and type(evidence) is list
            and evidence
            and action.strip()
            and why.strip()
        ):
            for item in evidence:
                if type(item) is not str or not item.strip():
                    break  # an id in another shape, or blank: the full check below says which
            else:
                return None
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
