"""A drill at run time: faults in front of a fixture, a stale first answer, a planted payload.

Planting happens on the answer actually given, so a payload lands only where this run reads —
in results of the tools the agent calls — including answers computed from state or a handler.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from agentcheck.drillspec import ToolDrill
from agentcheck.faults import build_fault
from agentcheck.scenario import FixtureResponse


def plant(value: Any, payload: str, field: str | None) -> tuple[Any, bool]:
    """`value` with `payload` appended at `field` (dotted) or to every free-text string."""
    value = copy.deepcopy(value)
    if field is not None:
        *parents, last = field.split(".")
        node = value
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(last), str):
            node[last] = f"{node[last]}\n\n{payload}"
            return value, True
        return value, False
    planted = False

    def walk(node: Any) -> Any:
        nonlocal planted
        if isinstance(node, str) and " " in node.strip():
            planted = True
            return f"{node}\n\n{payload}"
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(value), planted


def drilled(drill: ToolDrill, nth: int, answer: FixtureResponse | None, state: dict[str, Any]) -> FixtureResponse | None:
    """The answer after the drill: `state` remembers per tool whether the stale answer was given."""
    if answer is None or answer.error is not None or answer.timeout:
        return answer
    if drill.stale_first_s is not None and not state.get("stale_given") and answer.value is not None:
        state["stale_given"] = True
        try:
            answer = build_fault("stale", {"age_s": drill.stale_first_s}, answer)
        except ValueError:
            pass  # a scalar answer has no updated_at to age
    if drill.payload is not None:
        value, planted = plant(answer.value, drill.payload, drill.field)
        if planted:
            answer = replace(answer, value=value, untrusted=True)
    return answer
