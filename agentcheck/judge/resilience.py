"""Retries, back-off, hand-offs and duplicate writes, read from the trace (check group `resilience`).

A retry is a call of a tool right after that tool's previous call failed; its back-off gap is the
virtual time between the failed call's end and the retry's start. A duplicate write is a second
successful, non-replayed call of a write tool with the same arguments once the idempotency key is
set aside: the same effect applied twice (a double refund).
"""

from __future__ import annotations

import json
from typing import Any

from agentcheck.drillspec import HANDOFF_WORDS, ResilienceExpectations
from agentcheck.faults import retry_after_seconds
from agentcheck.trace import ToolCallEvent, ToolStatus
from agentcheck.verdict import CheckResult


def _same_call(call: ToolCallEvent) -> tuple[str, str]:
    return call.tool, json.dumps(call.args, sort_keys=True, default=str)


def retries(calls: list[ToolCallEvent]) -> dict[str, list[tuple[ToolCallEvent, ToolCallEvent]]]:
    """Tool -> (failed call, its retry) pairs, in trace order. A retry repeats the same tool with the
    same arguments right after that call failed."""
    last: dict[tuple[str, str], ToolCallEvent] = {}
    found: dict[str, list[tuple[ToolCallEvent, ToolCallEvent]]] = {}
    for call in calls:
        key = _same_call(call)
        before = last.get(key)
        if before is not None and before.status is ToolStatus.ERROR:
            found.setdefault(call.tool, []).append((before, call))
        last[key] = call
    return found


def longest_chain(pairs: list[tuple[ToolCallEvent, ToolCallEvent]]) -> int:
    """The most retries of any one call (same arguments) among a tool's retry pairs."""
    per_call: dict[tuple[str, str], int] = {}
    for _, retry in pairs:
        key = _same_call(retry)
        per_call[key] = per_call.get(key, 0) + 1
    return max(per_call.values(), default=0)


RETRY_AFTER_SLACK_S = 1e-5
"""A trace keeps times to the microsecond, so a gap is known to about ±2 µs; a retry that early
is rounding, not impatience."""


def gap_s(failed: ToolCallEvent, retry: ToolCallEvent) -> float:
    return max(0.0, (retry.at_ms - (failed.at_ms + failed.latency_ms)) / 1000.0)


def is_handoff(tool: str, handoff_tools: tuple[str, ...]) -> bool:
    if handoff_tools:
        return tool in handoff_tools
    return any(word in tool.lower() for word in HANDOFF_WORDS)


def handed_off(calls: list[ToolCallEvent], handoff_tools: tuple[str, ...] = ()) -> bool:
    return any(c.status is ToolStatus.OK and is_handoff(c.tool, handoff_tools) for c in calls)


def duplicate_writes(
    calls: list[ToolCallEvent], write_tools: frozenset[str], keys: dict[str, str]
) -> list[tuple[ToolCallEvent, ToolCallEvent]]:
    """(first, duplicate) pairs of successful writes with the same effect."""
    seen: dict[tuple[str, str], ToolCallEvent] = {}
    found = []
    for call in calls:
        if call.tool not in write_tools or call.status is not ToolStatus.OK or call.replay_of is not None:
            continue
        args: Any = call.args
        if isinstance(args, dict) and call.tool in keys:
            args = {k: v for k, v in args.items() if k != keys[call.tool]}
        effect = (call.tool, json.dumps(args, sort_keys=True, default=str))
        if effect in seen:
            found.append((seen[effect], call))
        else:
            seen[effect] = call
    return found


def _check(name: str, passed: bool, message: str, explanation: str = "", **extra: Any) -> CheckResult:
    return CheckResult(check=f"resilience.{name}", passed=passed, message=message, explanation=explanation, **extra)


def judge_resilience(expect: ResilienceExpectations, calls: list[ToolCallEvent]) -> list[CheckResult]:
    checks: list[CheckResult] = []
    found = retries(calls)
    per_tool = {tool: longest_chain(pairs) for tool, pairs in found.items()}
    lines = [
        f"{tool}: step {f.step} failed ({f.error.error_class if f.error else '?'}), retried at step {r.step}"
        f" after {round(gap_s(f, r), 2):g}s"
        for tool, pairs in found.items()
        for f, r in pairs
    ]
    for tool in sorted({*per_tool, *expect.max_retries_per_tool}):
        cap = expect.max_retries_per_tool.get(tool, expect.max_retries)
        if cap is None:
            continue
        count = per_tool.get(tool, 0)
        checks.append(
            _check("max_retries", count <= cap, f"{tool}: {count} retr{'y' if count == 1 else 'ies'} (at most {cap})",
                   "\n".join(lines), tool=tool, expected=cap, actual=count)
        )
    if expect.max_retries is not None and not found:
        checks.append(_check("max_retries", True, "no retries", expected=expect.max_retries, actual=0))
    if expect.respect_retry_after:
        early = []
        for pairs in found.values():
            for failed, retry in pairs:
                wait = retry_after_seconds(failed.error.retry_after if failed.error else None)
                if wait is not None and gap_s(failed, retry) + RETRY_AFTER_SLACK_S < wait:
                    early.append(f"step {retry.step} retried {retry.tool} after {round(gap_s(failed, retry), 2):g}s;"
                                 f" Retry-After asked for {wait:g}s (step {failed.step})")
        checks.append(_check("respect_retry_after", not early,
                             early[0] if early else "every retry waited its Retry-After", "\n".join(early)))
    if expect.handoff is not None:
        did = handed_off(calls, expect.handoff_tools)
        want = "must hand off" if expect.handoff else "must not hand off"
        checks.append(_check("handoff", did == expect.handoff, f"{want}; it {'did' if did else 'did not'}",
                             expected=expect.handoff, actual=did))
    return checks


def judge_writes(expect: ResilienceExpectations, calls: list[ToolCallEvent]) -> list[CheckResult]:
    checks: list[CheckResult] = []
    if expect.no_duplicate_writes:
        pairs = duplicate_writes(calls, expect.write_tools, expect.idempotency_keys)
        explanation = "\n".join(
            f"step {second.step} repeated the write of step {first.step}: {second.tool} {second.args!r}"
            for first, second in pairs
        )
        replays = [c for c in calls if c.replay_of is not None]
        if replays:
            explanation += "".join(f"\nstep {c.step} was an idempotent replay of step {c.replay_of}" for c in replays)
        message = f"{len(pairs)} duplicate write(s)" if pairs else "no duplicate writes"
        checks.append(
            _check("no_duplicate_writes", not pairs, message, explanation.strip(),
                   step=pairs[0][1].step if pairs else None)
        )
    if expect.no_policy_violation:
        refused = [c for c in calls if c.status is ToolStatus.REFUSED]
        checks.append(_check("no_policy_violation", not refused,
                             f"step {refused[0].step}: {refused[0].tool} was refused by the policy" if refused
                             else "no call was refused by the policy"))
    return checks
