"""Failure text shared by the judges: call signatures, excerpts and minimal diffs.

A failure is read in a CI log, often by someone who did not write the scenario, so every rendering
here is short and shaped like the thing it describes: a call looks like a call
(`issue_refund(order_id="A9", amount=50.0)`), an expected call shows its constraints inline
(`amount<=42.0`), and a diff names only what differs.
"""

from __future__ import annotations

import difflib
from typing import Any

from agentcheck.calls import clip as _clip
from agentcheck.calls import format_value
from agentcheck.matchers import Matcher
from agentcheck.redact import scrub

_SYMBOLS = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_MODE_WRAPPERS = ("$exact", "$partial")


def _is_ops(spec: Any) -> bool:
    return isinstance(spec, dict) and bool(spec) and all(isinstance(k, str) and k.startswith("$") for k in spec)


def _format_arg(key: str, spec: Any) -> str:
    """One expected argument with its constraint inline; anything unusual falls back to JSON."""
    if not (_is_ops(spec) and len(spec) == 1):
        return f"{key}={format_value(spec)}"
    ((op, value),) = spec.items()
    if op in _SYMBOLS:
        return f"{key}{_SYMBOLS[op]}{format_value(value)}"
    if op == "$in":
        return f"{key} in {format_value(value)}"
    if op == "$not_in":
        return f"{key} not in {format_value(value)}"
    if op == "$regex":
        return f"{key}~/{value}/"
    if op == "$type":
        return f"{key}:{'|'.join(value) if isinstance(value, list) else value}"
    if op == "$any":
        return f"{key}=*"
    if op == "$absent":
        return f"{key}=<absent>"
    if op == "$contains":
        return f"{key} contains {format_value(value)}"
    if op == "$literal":
        return f"{key}={format_value(value)}"
    if op == "$len" and not isinstance(value, dict):
        return f"len({key})={value}"
    return f"{key}={format_value(spec)}"


def format_expected_call(tool: str, matcher: Matcher | None, limit: int = 200) -> str:
    """An expected call with its constraints inline: `issue_refund(order_id="A123", amount<=42.0)`."""
    if matcher is None or getattr(matcher, "ignores_all", False):
        return f"{tool}(...)"
    spec = matcher.describe()
    while _is_ops(spec) and len(spec) == 1 and next(iter(spec)) in _MODE_WRAPPERS:
        spec = next(iter(spec.values()))
    if isinstance(spec, dict) and not _is_ops(spec):
        inner = ", ".join(_format_arg(str(k), v) for k, v in spec.items())
    else:
        inner = format_value(spec)
    return _clip(f"{tool}({inner})", limit)


def format_constraint(spec: Any) -> str:
    """A matcher over a number in words a count message can use: `<= 1`, `>= 1 and <= 3`, `2`."""
    if not _is_ops(spec):
        return format_value(spec)
    parts = []
    for op, value in spec.items():
        if op in _SYMBOLS:
            parts.append(f"{_SYMBOLS[op]} {format_value(value)}")
        elif op == "$in":
            parts.append(f"one of {format_value(value)}")
        else:
            parts.append(format_value({op: value}))
    return " and ".join(parts)


def excerpt(text: str, limit: int = 200, around: int | None = None) -> str:
    """A quotable slice of a long text: its start, or a window centred on position `around`."""
    text = scrub(text)
    if len(text) <= limit:
        return text
    if around is None:
        return text[: limit - 1] + "…"
    start = max(0, min(around - limit // 2, len(text) - limit))
    piece = text[start : start + limit]
    return ("…" if start > 0 else "") + piece + ("…" if start + limit < len(text) else "")


def _path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(value)"


def _string_diff(expected: str, actual: str, limit: int) -> list[str]:
    lines = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "expected", "actual", lineterm="", n=1)
    return list(lines)[:limit]


def minimal_diff(expected: Any, actual: Any, limit: int = 12) -> list[str]:
    """What differs between two JSON values, one line per difference, JSON-typed (1 == 1.0 but
    true != 1). deepdiff is imported here, not at module level: it costs 0.2 s of CLI start-up."""
    if isinstance(expected, str) and isinstance(actual, str) and "\n" in expected + actual:
        return _string_diff(expected, actual, limit)
    from deepdiff import DeepDiff

    try:
        lines = _diff_lines(DeepDiff(expected, actual, view="tree"))
        if not lines:
            # deepdiff aligns lists by hashing items, and hash(True) == hash(1): a true-vs-1 change
            # inside a list goes unseen. Comparing position by position catches it.
            lines = _diff_lines(DeepDiff(expected, actual, view="tree", zip_ordered_iterables=True))
    except Exception:  # an explanation must never crash the judge over odd data
        lines = [f"(value): expected {format_value(expected)}, got {format_value(actual)}"]
    lines.sort()
    return lines[:limit] + ([f"… {len(lines) - limit} more differences"] if len(lines) > limit else [])


def _diff_lines(diff: Any) -> list[str]:
    lines: list[str] = []
    for kind, levels in diff.items():
        for level in levels:
            t1, t2 = level.t1, level.t2
            where = _path(level.path(output_format="list"))
            if kind == "type_changes" and _same_number(t1, t2):
                continue  # Python types differ, JSON's do not: 1 and 1.0 are the same number
            if kind in ("dictionary_item_added", "attribute_added"):
                lines.append(f"{where}: unexpected key, got {format_value(t2)}")
            elif kind in ("dictionary_item_removed", "attribute_removed"):
                lines.append(f"{where}: missing key (expected {format_value(t1)})")
            elif kind == "iterable_item_added":
                lines.append(f"{where}: unexpected item {format_value(t2)}")
            elif kind == "iterable_item_removed":
                lines.append(f"{where}: missing item {format_value(t1)}")
            else:
                lines.append(f"{where}: expected {format_value(t1)}, got {format_value(t2)}")
    return lines


def _same_number(a: Any, b: Any) -> bool:
    def num(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    return num(a) and num(b) and a == b


def expected_vs_actual(expected: Any, actual: Any, limit: int = 200) -> str:
    """Two aligned lines, the first thing a reader compares."""
    return f"expected: {format_value(expected, limit)}\n  actual: {format_value(actual, limit)}"
