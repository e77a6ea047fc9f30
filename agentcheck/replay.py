"""Rejudge and merge: saved results through the same gates and reporters as a run, no agent run.

- `rejudge(options, path)` re-applies the scenarios' *current* expectations and gates to the traces
  saved in a results file (fixing an expectation, tightening a gate, re-reading last week's run).
- `merge(options, paths)` combines the results files of `--shard i/n` jobs into one report, with the
  gates, JUnit and Markdown of a single run.

Both load the project as a run does (for gates, report settings and each scenario's criterion) and
feed results to a `_Session` instead of running agents, so reports are exactly a run's reports.

Merge has a fast path for the usual case, shards written by this agentcheck from the suite now on
disk: agentcheck.saved_shards reads them (in worker processes when they are large), and `_Replay`
places their records in collection order. Any other shard (an older file without a stamp, a suite
edited since, a missing shard, drilled copies) takes the full path, which gives the same reports,
more slowly.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import Any

from agentcheck.exitcodes import ExitCode
from agentcheck.forked import WorkerDied
from agentcheck.gcpause import collector_off, collector_relaxed
from agentcheck.interrupts import deferred_interrupt
from agentcheck.problems import BadInput, Problem
from agentcheck.release.decode import outcome_of, result_from_data, trace_from_data
from agentcheck.release.results_file import ResultsFile
from agentcheck.report.base import PreparedScenarioReader, SavedScenarioReader
from agentcheck.saved_shards import (
    InOrder,
    Record,
    SavedSuite,
    placed,
    prepares,
    shard_key,
    worth_workers,
)
from agentcheck.saved_shards import fast_start as _fast_start  # (module names here: tests replace them)
from agentcheck.saved_shards import shard_records as _records
from agentcheck.scenario import Scenario
from agentcheck.serialize import loads
from agentcheck.session import (
    Prepared,
    RunOptions,
    _absolute,
    _Session,
    load_baseline,
    load_stamped,
    run_prepared,
)
from agentcheck.verdict import PlannedScenario, RunMetrics, RunSummary, ScenarioResult


class _Replay(_Session):
    """A session whose results come from saved files instead of agent runs."""

    def __init__(self, prepared: Prepared, options: RunOptions, source: Callable[[], Iterator[Any]],
                 documents: list[ResultsFile], saved: SavedSuite | None = None):
        super().__init__(prepared, options)
        self.source = source
        self.saved = saved
        self.dropped = 0
        self.vouched: ScenarioResult | None = None  # the result being delivered, if its text needs no redaction
        self.saved_trials: dict[str, int] = {}
        self.missing: list[str] = []
        """Selected scenarios no shard file held (merge's full path): each got an `error` result, and
        the merge does not exit 0."""
        self.early: ShardReading | None = None
        """The shards' records, being read since `begin` (the fast path), until `drive` takes them."""
        self.workers = saved is not None and worth_workers(documents, saved)
        """Whether shards are read, and the JSON report written, in worker processes where one can be
        forked (agentcheck.forked.available, asked at each fork)."""
        for document in documents if saved is None else []:  # the plan counts the runs the saved files hold
            rows = document.scenario_rows()
            for row in rows if isinstance(rows, list) else []:
                if isinstance(row, dict) and "scenario_id" in row:
                    runs = int(row.get("trials") or 0) + int(row.get("skipped") or 0)
                    self.saved_trials[str(row["scenario_id"])] = max(runs, 1)

    def redact(self, result: ScenarioResult) -> None:
        """Saved results were redacted by the run that wrote them; one whose saved JSON text the current
        redactor vouches for is passed as it is (re-redacting 20 000 traces was merge's biggest cost).
        The others are walked at once: their text was already checked, so the run's check is not redone."""
        if result is not self.vouched:
            self.redactor.inplace(result)

    def trials_of(self, scenario: Scenario) -> int:
        return self.saved_trials.get(scenario.id, 1)

    def summary(self, interrupted: bool) -> RunSummary:
        """A merge missing scenarios is never a pass, whatever its gates tolerate: exit 1."""
        summary = super().summary(interrupted)
        if self.missing and summary.exit_code == ExitCode.OK:
            summary.exit_code = int(ExitCode.GATES_FAILED)
        return summary

    unreportable = (WorkerDied,)
    """A shard's worker that died mid-shard: reports would hold part of the merge as if it were all."""

    def background(self) -> list[Any]:
        """A large fast merge writes its JSON report (which copies every result: 46 MB for 2 x 10 000) in a
        worker process (agentcheck.forked) while it writes the others. Only that one: the Markdown
        summary reads back the failed runs alone, and a worker of its own took a share of two cores
        from the JSON report's, the end's long pole."""
        from agentcheck.forked import available

        if not self.workers or not available():  # (a progress bar's thread: no fork)
            return []
        from agentcheck.report.json_report import JsonReporter

        return [r for r in self.file_reporters if type(r) is JsonReporter]

    def planned(self) -> list[PlannedScenario]:
        return self.saved.planned if self.saved is not None else super().planned()

    def required(self) -> dict[str, float]:
        return self.saved.required if self.saved is not None else super().required()

    def begin(self) -> None:
        """On the fast path, start reading the shards now (in their worker processes, where they run),
        while the reporters start: the stream's plan line and the console's first line are 0.05 s of
        this process's time a second core would otherwise spend idle."""
        if self.saved is not None and self.early is None:
            self.early = self.source(self._readers()[1])

    def abandon(self) -> None:
        """Stop the shards' reading started by `begin` (the reporters failed to start, or Ctrl-C)."""
        early, self.early = self.early, None
        if early is not None:
            early.close()

    def _readers(self) -> tuple[list[SavedScenarioReader], list[PreparedScenarioReader]]:
        """The reporters that take saved scenarios, and those of them that take prepared shares."""
        readers = [r for r in self.reporters[1:] if isinstance(r, SavedScenarioReader)]  # (after the stream)
        return readers, [r for r in readers if prepares(r)]

    def drive(self) -> None:
        """Deliver the saved results, in order (no agent runs, so no event loop)."""
        if self.saved is None:
            for result in self.source():
                self.deliver(result)
            return
        reporters = self.reporters[1:]  # after the stream, which gets the JSON text
        events = not all(type(r) in _light_reporters() for r in reporters)  # (a subclass may read more)
        readers, prepared = self._readers()
        scenarios = InOrder(self.saved.required, readers, prepared)
        # readers get the scenario, not each result; nor do reporters whose `result` does nothing
        others = [r for r in reporters if r not in readers and type(r) not in _idle_reporters()]
        records, self.early = self.early or self.source(prepared), None
        with deferred_interrupt() as interrupted:  # each record delivered whole: every report agrees
            try:
                for _, raw, fields, pieces, row in records:
                    interrupted.check()
                    metrics = RunMetrics(*fields)
                    metrics.outcome = outcome_of(metrics.outcome)  # (sent as text: an enum unpickles slowly)
                    scenarios.add(metrics, raw, pieces)  # (first: it may hand the one before to the reporters)
                    self.metrics.append(metrics)
                    self.log.result_text(metrics.index, metrics.trial, metrics.outcome, raw, row)
                    if others:  # built only for reporters that take result objects (none of agentcheck's own)
                        result = result_from_data(loads(raw), events=events)
                        for reporter in others:
                            reporter.result(result)
                interrupted.check()
            finally:  # Ctrl-C: the scenario being gathered is reported too, as a run reports what finished
                records.close()  # (stops any worker still reading a shard)
                self.stats = scenarios.finish()


def _light_reporters() -> tuple[type, ...]:
    """Reporters known to read no trace events from the results they are given (they read the
    stream back at the end, or only totals and stop reasons): merge gives them results without."""
    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.junit import JUnitReporter

    return (*_idle_reporters(), ConsoleReporter, JUnitReporter)


def _idle_reporters() -> tuple[type, ...]:
    """Reporters whose `result` does nothing (they work from the stream or the summary at finish):
    merge builds no result objects for them."""
    from agentcheck.report.annotations import AnnotationReporter
    from agentcheck.report.json_report import JsonReporter
    from agentcheck.report.markdown import MarkdownReporter
    from agentcheck.report.release_console import ReleaseConsoleReporter

    return (AnnotationReporter, JsonReporter, MarkdownReporter, ReleaseConsoleReporter)


def _prepared(options: RunOptions, paths: list[Path], role: str) -> tuple[Prepared, list[ResultsFile]]:
    project, scenarios, suite = load_stamped(options)
    selected = {s.id for s in scenarios}
    baseline = load_baseline(options, project, selected)
    documents = [ResultsFile(_absolute(p, options.cwd), role=role) for p in paths]
    _refuse_foreign(documents, selected, role)
    return Prepared(project, scenarios, None, baseline, suite), documents


def rejudge(options: RunOptions, path: Path, on_dropped: Callable[[int], None] | None = None) -> RunSummary:
    """Judge the traces saved in `path` against the current scenarios; results of scenarios no longer
    in the selection are left out, and `on_dropped` is told how many."""
    with collector_relaxed():  # tens of thousands of saved results: see agentcheck.gcpause
        return _rejudge(options, path, on_dropped)


def _rejudge(options: RunOptions, path: Path, on_dropped: Callable[[int], None] | None) -> RunSummary:
    from agentcheck.judge.judge import judge, skipped_result

    prepared, (document,) = _prepared(options, [path], "results")
    by_id = {s.id: s for s in prepared.scenarios}
    session: _Replay

    def source() -> Iterator[ScenarioResult]:
        skipped_done: set[str] = set()
        for data in document.results():
            scenario = by_id.get(str(data.get("scenario_id")))
            if scenario is None:
                session.dropped += 1
            elif scenario.skip is not None:
                if scenario.id not in skipped_done:
                    skipped_done.add(scenario.id)
                    yield skipped_result(scenario)
            elif isinstance(data.get("trace"), dict):
                yield judge(scenario, trace_from_data(data["trace"]))
            else:  # never ran (an error before the agent started, or skipped then): nothing to re-judge
                yield placed(result_from_data(data), scenario)

    session = _Replay(prepared, options, source, [document])
    summary = run_prepared(prepared, options, session)
    if on_dropped is not None and session.dropped:
        on_dropped(session.dropped)
    return summary


def merge(options: RunOptions, paths: list[Path], on_missing: Callable[[list[str]], None] | None = None) -> RunSummary:
    """One report from the results files of several shards; refuses shards that overlap. `on_missing`
    is told the selected scenarios no shard file holds (a shard job that failed or was not passed)."""
    with collector_off():  # tens of thousands of saved results: see agentcheck.gcpause
        return _merge(options, paths, on_missing)


def _merge(options: RunOptions, paths: list[Path], on_missing: Callable[[list[str]], None] | None) -> RunSummary:
    fast = _fast_start(options, paths)
    if fast is not None:
        return _merge_saved(options, *fast)
    prepared, documents = _prepared(options, paths, "shard")
    _refuse_overlap(documents)
    by_id = {s.id: s for s in prepared.scenarios}
    merged_ids: set[str] = set()
    session: _Replay

    def keyed(document: ResultsFile) -> Iterator[tuple[tuple[int, int], int, dict[str, Any], bytes | None]]:
        for data, text in document.results_with_text():
            scenario = by_id.get(str(data.get("scenario_id")))
            index = scenario.index if scenario is not None else int(data.get("index") or 0)
            yield (index, int(data.get("trial") or 1)), id(document), data, text

    def source() -> Iterator[ScenarioResult]:
        """Every shard's results interleaved in collection order (each file is in that order already),
        so the merged stream is written, and read back by the reporters, sequentially; then an `error`
        result for each selected scenario no shard holds."""
        from agentcheck.judge.judge import unjudged_result

        owner = {id(d): d for d in documents}
        seen: set[tuple[str, int]] = set()
        merged_ids.clear()
        for _, doc_id, data, text in heapq.merge(*(keyed(d) for d in documents), key=lambda item: item[0]):
            result = result_from_data(data)
            key = (result.scenario_id, result.trial)
            if key in seen:
                raise _overlap(owner[doc_id], result.scenario_id)
            seen.add(key)
            merged_ids.add(result.scenario_id)
            vouched = text is not None and session.redactor.leaves_json_alone(text.decode("utf-8", "replace"))
            session.vouched = result if vouched else None
            yield placed(result, by_id.get(result.scenario_id))
        session.vouched = None
        for scenario in prepared.scenarios:
            if scenario.id not in merged_ids:
                session.missing.append(scenario.id)
                yield unjudged_result(scenario, MISSING_MESSAGE)

    session = _Replay(prepared, options, source, documents)
    summary = run_prepared(prepared, options, session)
    if on_missing is not None and session.missing:
        on_missing(session.missing)
    return summary


MISSING_MESSAGE = "no result: in no shard file given to merge (a shard job that failed, or a file not passed)"
"""The message of the `error` result merge gives a selected scenario that no shard file holds."""


def _merge_saved(options: RunOptions, prepared: Prepared, documents: list[ResultsFile],
                 saved: SavedSuite) -> RunSummary:
    """`merge` on the fast path: nothing is missing (checked in _saved_suite), so no warning."""

    handoff = prepared.project.handoff_tools
    session: _Replay

    def source(readers: list[PreparedScenarioReader]) -> ShardReading:
        """Every shard's records, read from now on in a worker process per shard (all started at once)
        when the merge is large, else as they are asked for (ShardReading)."""
        from agentcheck.forked import Worker, available

        workers: list[Any] = []
        try:
            if session.workers and available():  # (asked again now: a progress bar's thread may run)
                for document in documents:
                    workers.append(Worker(partial(_records, document, saved, handoff, readers)))
        except BaseException:
            for worker in workers:
                worker.close()
            raise
        return ShardReading(documents, workers or [_records(d, saved, handoff, readers) for d in documents])

    session = _Replay(prepared, options, source, documents, saved)
    return run_prepared(prepared, options, session)


class ShardReading:
    """The shards' records interleaved in collection order (each file is in that order already), from
    their worker processes (already started) or from generators read here; `close()` stops whatever
    is still reading (always called: after the last record, on bad input, on Ctrl-C)."""

    def __init__(self, documents: list[ResultsFile], shards: list[Iterable[Record]]):
        self.documents = documents
        self.shards = shards

    def __iter__(self) -> Iterator[Record]:
        keyed = [zip(repeat(number), shard) for number, shard in enumerate(self.shards)]
        seen: set[tuple[int, int]] = set()  # (index, trial): an index is one scenario id
        for number, record in heapq.merge(*keyed, key=shard_key):
            key = record[0]
            if key in seen:
                raise _overlap(self.documents[number], str(loads(record[1]).get("scenario_id", "")))
            seen.add(key)
            yield record

    def close(self) -> None:
        for shard in self.shards:
            close = getattr(shard, "close", None)  # (a worker, or a generator read here)
            if close is not None:
                close()


def _overlap(document: ResultsFile, scenario_id: str) -> BadInput:
    return BadInput([Problem(str(document.path), None, "", f"shard file: scenario '{scenario_id}' is also in an "
                             "earlier shard file", "merge the results of one `--shard i/n` run per i, each once")])


def _refuse_foreign(documents: list[ResultsFile], selected: set[str], role: str) -> None:
    """Refuse, before any report is started, a file none of whose scenarios is selected here: from
    another suite (or a selection that leaves all of them out), it would be reported as a run of
    nothing whose gates all pass."""
    for document in documents:
        ids = document.scenario_ids()
        if ids and selected and not ids & selected:
            raise BadInput([Problem(str(document.path), None, "", (
                f"{'shard' if role == 'shard' else 'results'} file: none of its {len(ids)} scenarios is among "
                f"the {len(selected)} selected here: from another suite, or a selection that leaves them all out"),
                "run agentcheck in the project that wrote it, or widen -k/--tag")])


def _refuse_overlap(documents: list[ResultsFile]) -> None:
    """Check the shards' scenario lists (their `scenarios` sections) before any report is started."""
    owner: dict[str, ResultsFile] = {}
    for document in documents:
        rows = document.scenario_rows()
        for row in rows if isinstance(rows, list) else []:
            scenario_id = str(row.get("scenario_id")) if isinstance(row, dict) else ""
            if scenario_id in owner:
                raise _overlap(document, scenario_id)
            owner[scenario_id] = document
