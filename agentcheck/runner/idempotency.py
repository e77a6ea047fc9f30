"""Idempotent writes: a write tool that declares an idempotency-key argument applies each key once.

A retry carrying a key already applied in this run is answered with the first call's result and
recorded as a replay (`replay_of`), never written again — as Stripe-style APIs behave. The same
write under a new key is applied again, and the judge reports it as a duplicate write.
"""

from __future__ import annotations

from typing import Any

from agentcheck.project import ToolSpec
from agentcheck.trace import ToolCallEvent, ToolStatus


class IdempotencyLedger:
    """Per run: (tool, key) -> the call that applied it."""

    __slots__ = ("_applied",)

    def __init__(self) -> None:
        self._applied: dict[tuple[str, str], ToolCallEvent] = {}

    @staticmethod
    def key_of(spec: ToolSpec, args: Any) -> str | None:
        if not spec.writes or spec.idempotency_key is None or not isinstance(args, dict):
            return None
        key = args.get(spec.idempotency_key)
        return None if key is None else str(key)

    def replay(self, spec: ToolSpec, args: Any) -> ToolCallEvent | None:
        """The earlier successful call with this call's key, if there is one."""
        key = self.key_of(spec, args)
        return None if key is None else self._applied.get((spec.name, key))

    def applied(self, spec: ToolSpec, event: ToolCallEvent) -> None:
        key = self.key_of(spec, event.args)
        if key is not None and event.status is ToolStatus.OK:
            self._applied.setdefault((spec.name, key), event)
