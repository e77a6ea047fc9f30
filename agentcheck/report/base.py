"""The reporter seam: reporters subscribe to a run; the runner never prints.

A reporter gets the plan before the first scenario starts, each result as it finishes (in finishing
order; `result.index` gives the stable order), and the summary at the end. `finish` is called from a
`finally`, so an interrupted run still flushes what it has.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from agentcheck.reliability import ScenarioStats
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult


class Reporter(Protocol):
    def start(self, plan: RunPlan) -> None: ...

    def result(self, result: ScenarioResult) -> None: ...

    def finish(self, summary: RunSummary) -> None: ...


@runtime_checkable
class SavedScenarioReader(Protocol):
    """Optional, for a reporter that reads every result back from the stream at finish (JUnit): a
    session that delivers saved results in collection order (merge) also hands it each scenario's
    results as JSON data, with the scenario's stats, as they come — so it need not read and parse
    20 000 results again at the end. A reporter given any `saved_scenario` call gets one for every
    scenario of the run, and no `result` calls (the scenario's results come with it)."""

    def saved_scenario(self, runs: list[dict[str, Any]], stats: ScenarioStats) -> None: ...
