"""The reporter seam: reporters subscribe to a run; the runner never prints.

A reporter gets the plan before the first scenario starts, each result as it finishes (in finishing
order; `result.index` gives the stable order), and the summary at the end. `finish` is called from a
`finally`, so an interrupted run still flushes what it has.
"""

from __future__ import annotations

from typing import Protocol

from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult


class Reporter(Protocol):
    def start(self, plan: RunPlan) -> None: ...

    def result(self, result: ScenarioResult) -> None: ...

    def finish(self, summary: RunSummary) -> None: ...
