"""The reporter seam: reporters subscribe to a run; the runner never prints.

A reporter gets the plan before the first scenario starts, each result as it finishes (in finishing
order; `result.index` gives the stable order), and the summary at the end. `finish` is called from a
`finally`, so an interrupted run still flushes what it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from agentcheck.reliability import ScenarioStats
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult


class Reporter(Protocol):
    def start(self, plan: RunPlan) -> None: ...

    def result(self, result: ScenarioResult) -> None: ...

    def finish(self, summary: RunSummary) -> None: ...


@runtime_checkable
class SavedScenarioReader(Protocol):
    """Optional, for a reporter that can work from saved results as JSON data: a session that delivers
    saved results in collection order (merge) hands it each scenario's results that way, with the
    scenario's stats, as they come — so JUnit need not read and parse 20 000 results back from the
    stream at the end, and the console need not be given 20 000 result objects. A reporter given any
    `saved_scenario` call gets one for every scenario of the run, and no `result` calls (the
    scenario's results come with it)."""

    def saved_scenario(self, runs: list[dict[str, Any]], stats: ScenarioStats) -> None: ...


@runtime_checkable
class PreparedScenarioReader(SavedScenarioReader, Protocol):
    """Optional, on top of SavedScenarioReader, for a reporter whose share of a scenario run once can be
    worked out from that run's JSON data alone: `prepare_saved` does that (a pure function of the
    data, with a picklable result: merge may call it in a worker process, in parallel with the other
    shards), and `saved_prepared` takes the share at the scenario's place in collection order, instead
    of a `saved_scenario` call. Its `load` returns the run's data again (parsed afresh) for whatever the
    share does not cover. Scenarios with more than one run still come through `saved_scenario`.

    A reader may also define `saved_prepared_batch(items)`: the same as `saved_prepared(*item)` for
    each (piece, load, stats) item, in order (merge hands over a few hundred scenarios at a time, so
    that the per-scenario bookkeeping is done once per batch: 20 000 calls were a tenth of a merge)."""

    def prepare_saved(self, data: dict[str, Any]) -> Any: ...

    def saved_prepared(self, piece: Any, load: Callable[[], dict[str, Any]], stats: ScenarioStats) -> None: ...


PreparedItem = tuple[Any, Callable[[], dict[str, Any]], ScenarioStats]
"""What `saved_prepared` takes, as one item of `saved_prepared_batch`: the piece, `load`, the stats."""


@runtime_checkable
class ReportListingReporter(Protocol):
    """Optional, for a reporter whose end lists the reports written (the console does): `finish_unlisted`
    does all of its finish that does not depend on them, and is called while report files may still be
    being written (merge writes some in worker processes); `finish`, called once they are, then does
    only the rest. A reporter never given `finish_unlisted` does everything in `finish`."""

    def finish_unlisted(self, summary: RunSummary) -> None: ...


def defined_at_or_below(reporter: object, part: str, whole: str) -> bool:
    """Whether `reporter`'s class defines the optional `part` at or below the class that defines
    `whole`: a subclass that overrides `whole` (what the user wrote) without `part` must still have
    `whole` called, not `part` (merge's `saved_prepared` for `saved_scenario`, `finish_unlisted` for
    `finish`)."""
    mro = type(reporter).__mro__
    defining = next(k for k in mro if part in k.__dict__)
    overriding = next((k for k in mro if whole in k.__dict__), defining)
    return issubclass(defining, overriding)

