"""Which fixture response answers a call: first matching rule, then the sequence, then the
stateful operation or handler, then the default.

A response with a `chance` applies only when the run's seeded generator says so; otherwise
resolution moves on (next rule, then past the sequence). A duplicate delivery answers the tool's
next call again. The generator is seeded per scenario and trial, so a drill reproduces exactly.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from agentcheck.runner.drilling import drilled
from agentcheck.runner.state import StateStore, call_handler
from agentcheck.scenario import FixtureResponse, Scenario, ToolFixture


def run_seed(scenario: Scenario, trial: int = 1) -> int:
    """The seed of one run: the scenario's own, or one derived from its id; varied by trial."""
    base = scenario.seed if scenario.seed is not None else zlib.crc32(scenario.id.encode())
    return base * 1000 + trial


class FixtureBook:
    """One run's view of the scenario's fixtures; counts calls per tool for sequences."""

    __slots__ = ("_calls", "_drill_state", "_fixtures", "_pending", "rng", "state")

    def __init__(
        self, fixtures: dict[str, ToolFixture], *, seed: int = 0, state: StateStore | None = None
    ):
        self._fixtures = fixtures
        self._calls: dict[str, int] = {}
        self._pending: dict[str, FixtureResponse] = {}
        self._drill_state: dict[str, dict[str, Any]] = {}
        self.rng = random.Random(seed)
        self.state = state or StateStore({})

    def resolve(self, tool: str, args: Any) -> FixtureResponse | None:
        nth = self._calls.get(tool, 0)
        self._calls[tool] = nth + 1
        pending = self._pending.pop(tool, None)
        if pending is not None:
            return pending
        fixture = self._fixtures.get(tool)
        if fixture is not None and fixture.drill is not None:
            if nth < len(fixture.drill.faults):
                return fixture.drill.faults[nth]
            state = self._drill_state.setdefault(tool, {})
            shifted = nth - len(fixture.drill.faults)  # sequences count from the first real answer
            response = drilled(fixture.drill, shifted, self._pick(tool, args, shifted), state)
        else:
            response = self._pick(tool, args, nth)
        if response is not None and response.duplicate:
            self._pending[tool] = response
        return response

    def latency_ms(self, response: FixtureResponse) -> float:
        return response.latency.draw(self.rng) if response.latency is not None else response.latency_ms

    def _applies(self, response: FixtureResponse) -> bool:
        return response.chance is None or self.rng.random() < response.chance

    def _pick(self, tool: str, args: Any, nth: int) -> FixtureResponse | None:
        fixture = self._fixtures.get(tool)
        if fixture is None:
            return None
        for rule in fixture.rules:
            if (rule.when is None or rule.when.matches(args)) and self._applies(rule.response):
                return rule.response
        if nth < len(fixture.sequence) and self._applies(fixture.sequence[nth]):
            return fixture.sequence[nth]
        if fixture.state is not None:
            return self.state.apply(fixture.state, args)
        if fixture.handler is not None:
            return call_handler(fixture.handler, args, self.state)
        if fixture.default is not None and self._applies(fixture.default):
            return fixture.default
        return None
