"""A drill at run time: faults in front of a fixture, a stale first answer, a planted payload.

The stale drill answers the first read with an aged copy and keeps the real answer for the next
read with the same arguments, so an agent that re-reads gets the fresh record without using up a
sequence position.

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


def stale_copy(age_s: float, answer: FixtureResponse) -> FixtureResponse | None:
    """The answer with `updated_at` `age_s` old, or None when it has nowhere to carry a timestamp."""
    try:
        return build_fault("stale", {"age_s": age_s}, answer)
    except ValueError:
        return None


def planted(drill: ToolDrill, answer: FixtureResponse) -> FixtureResponse:
    """The answer with the drill's payload in its text fields, marked untrusted when it landed."""
    if drill.payload is None:
        return answer
    value, landed = plant(answer.value, drill.payload, drill.field)
    return replace(answer, value=value, untrusted=True) if landed else answer
