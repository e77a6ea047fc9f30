"""Segment dimensions: functions from a run to the values it belongs to (a run with two tags is in
two `tag` segments). Register more here, and name them in reliability.SEGMENT_DIMENSIONS so
`select: {segments: [...]}` accepts them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agentcheck.reliability import SEGMENT_DIMENSIONS
from agentcheck.verdict import RunMetrics

DIMENSIONS: dict[str, Callable[[RunMetrics], Iterable[str]]] = {
    "tag": lambda m: m.tags,
    "agent": lambda m: (m.agent,),
    "agent_version": lambda m: (f"{m.agent}@{m.agent_version}",) if m.agent_version else (),
    "model_route": lambda m: (m.model_route,) if m.model_route else (),
    "tool_version": lambda m: (),  # a hook: no tool versions are recorded yet
}
assert tuple(DIMENSIONS) == SEGMENT_DIMENSIONS


def in_segments(metrics: RunMetrics, segments: Iterable[str]) -> bool:
    """Whether a run belongs to any of the `dimension=value` segments."""
    for segment in segments:
        dimension, _, value = segment.partition("=")
        values_of = DIMENSIONS.get(dimension)
        if values_of is not None and value in values_of(metrics):
            return True
    return False
