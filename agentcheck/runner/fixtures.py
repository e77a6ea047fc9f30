"""Which fixture response answers a call: first matching rule, then the sequence, then the default."""

from __future__ import annotations

from typing import Any

from agentcheck.scenario import FixtureResponse, ToolFixture


class FixtureBook:
    """One run's view of the scenario's fixtures; counts calls per tool for sequences."""

    __slots__ = ("_calls", "_fixtures")

    def __init__(self, fixtures: dict[str, ToolFixture]):
        self._fixtures = fixtures
        self._calls: dict[str, int] = {}

    def resolve(self, tool: str, args: Any) -> FixtureResponse | None:
        nth = self._calls.get(tool, 0)
        self._calls[tool] = nth + 1
        fixture = self._fixtures.get(tool)
        if fixture is None:
            return None
        for rule in fixture.rules:
            if rule.when is None or rule.when.matches(args):
                return rule.response
        if nth < len(fixture.sequence):
            return fixture.sequence[nth]
        return fixture.default
