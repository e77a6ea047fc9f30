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

from agentcheck.drillspec import ToolDrill
from agentcheck.runner.drilling import planted, stale_copy
from agentcheck.runner.state import StateStore, call_handler
from agentcheck.scenario import FixtureResponse, Scenario, ToolFixture

_ANY = object()


def run_seed(scenario: Scenario, trial: int = 1) -> int:
    """The seed of one run: the scenario's own, or one derived from its id; varied by trial."""
    base = scenario.seed if scenario.seed is not None else zlib.crc32(scenario.id.encode())
    return base * 1000 + trial


class FixtureBook:
    """One run's view of the scenario's fixtures; counts calls per tool for sequences."""

    __slots__ = ("_calls", "_fixtures", "_pending", "_skipped", "_stale_given", "rng", "state")

    def __init__(
        self, fixtures: dict[str, ToolFixture], *, seed: int = 0, state: StateStore | None = None
    ):
        self._fixtures = fixtures
        self._calls: dict[str, int] = {}
        self._pending: dict[str, tuple[Any, FixtureResponse]] = {}
        """Tool -> (the arguments it answers, or _ANY; the response) for its next call."""
        self._skipped: dict[str, int] = {}
        """Calls answered from `_pending`: they take no sequence position."""
        self._stale_given: set[str] = set()
        self.rng = random.Random(seed)
        self.state = state or StateStore({})

    def resolve(self, tool: str, args: Any) -> FixtureResponse | None:
        nth = self._calls.get(tool, 0)
        self._calls[tool] = nth + 1
        pending = self._pending.get(tool)
        if pending is not None and (pending[0] is _ANY or pending[0] == args):
            del self._pending[tool]
            self._skipped[tool] = self._skipped.get(tool, 0) + 1
            return pending[1]
        position = nth - self._skipped.get(tool, 0)
        fixture = self._fixtures.get(tool)
        drill = fixture.drill if fixture is not None else None
        if drill is None:
            response = self._pick(tool, args, position)
        elif position < len(drill.faults):
            return drill.faults[position]
        else:
            # Sequences count from the first real answer, after the drill's faults.
            response = self._drilled(tool, args, drill, self._pick(tool, args, position - len(drill.faults)))
        if response is not None and response.duplicate:
            self._pending[tool] = (_ANY, response)
        return response

    def _drilled(
        self, tool: str, args: Any, drill: ToolDrill, answer: FixtureResponse | None
    ) -> FixtureResponse | None:
        """A stale copy first (the real answer waits for a re-read), and the planted payload."""
        if answer is None or answer.error is not None or answer.timeout:
            return answer
        answer = planted(drill, answer)
        if drill.stale_first_s is not None and tool not in self._stale_given and answer.fault != "stale":
            stale = stale_copy(drill.stale_first_s, answer)
            if stale is not None:
                self._stale_given.add(tool)
                self._pending[tool] = (args, answer)
                return stale
        return answer

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
