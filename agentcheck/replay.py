"""Rejudge and merge: saved results through the same gates and reporters as a run, no agent run.

- `rejudge(options, path)` re-applies the scenarios' *current* expectations and gates to the traces
  saved in a results file (fixing an expectation, tightening a gate, re-reading last week's run).
- `merge(options, paths)` combines the results files of `--shard i/n` jobs into one report, with the
  gates, JUnit and Markdown of a single run.

Both load the project as a run does (for gates, report settings and each scenario's criterion) and
feed results to a `_Session` instead of running agents, so reports are exactly a run's reports.

Merge has a fast path for the usual case, shards written by this agentcheck from the suite now on
disk (their suite stamps carry the fingerprint of the current files, agentcheck.release.suite): the
scenarios are not collected from YAML again but taken from the shards' `scenarios` rows, each result's
JSON text is copied to the stream with only its index changed (not decoded and encoded again), the
numbers for gates and tables are read straight from the JSON, the console and JUnit take each
scenario's saved JSON data (`saved_scenario`: the console prints a passing run past its table's limit
straight from it), result objects are built only where a reporter needs one (and reporters that read
no trace events get them without events), and nothing is
redacted again (the same redactor wrote those files). Any other shard (an older file without a stamp,
a suite edited since, a missing shard, drilled copies) takes the full path, which gives the same
reports, more slowly.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any

from agentcheck.gcpause import collector_relaxed
from agentcheck.problems import BadInput, Problem
from agentcheck.release.decode import metrics_from_data, outcome_of, result_from_data, trace_from_data
from agentcheck.release.results_file import ResultsFile
from agentcheck.release.trials import fold_runs
from agentcheck.reliability import ScenarioStats
from agentcheck.report.base import PreparedScenarioReader, SavedScenarioReader
from agentcheck.scenario import Scenario
from agentcheck.serialize import dumps_bytes, loads
from agentcheck.session import (
    Prepared,
    RunOptions,
    _absolute,
    _Session,
    load_baseline,
    load_stamped,
    run_prepared,
)
from agentcheck.verdict import PlannedScenario, RunMetrics, RunSummary, ScenarioResult, SuiteStamp

_INDEX_HEAD = b'{"index":'
"""How a saved result's JSON text starts when agentcheck wrote it (orjson, ScenarioResult field order)."""


@dataclass(slots=True)
class _SavedSuite:
    """The merged suite as the shards recorded it: what a full load would give merge (see _saved_suite)."""

    planned: list[PlannedScenario]
    required: dict[str, float]
    index: dict[str, int]
    """Scenario id -> its index in the merged suite."""


class _Replay(_Session):
    """A session whose results come from saved files instead of agent runs."""

    def __init__(self, prepared: Prepared, options: RunOptions, source: Callable[[], Iterator[Any]],
                 documents: list[ResultsFile], saved: _SavedSuite | None = None):
        super().__init__(prepared, options)
        self.source = source
        self.saved = saved
        self.dropped = 0
        self.vouched: ScenarioResult | None = None  # the result being delivered, if its text needs no redaction
        self.saved_trials: dict[str, int] = {}
        self.workers = saved is not None and _use_workers(documents, saved)
        """Whether shards are read, and the JSON report written, in worker processes."""
        for document in documents if saved is None else []:  # the plan counts the runs the saved files hold
            rows = document.header.get("scenarios")
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

    def background(self) -> list[Any]:
        """A large fast merge writes its JSON report (which copies every result: 40 MB for 2 x 10 000)
        and its Markdown summary in worker processes (agentcheck.forked) while it writes the others."""
        if self.saved is None or not self.workers:
            return []
        from agentcheck.report.json_report import JsonReporter
        from agentcheck.report.markdown import MarkdownReporter

        return [r for r in self.file_reporters if type(r) in (JsonReporter, MarkdownReporter)]

    def planned(self) -> list[PlannedScenario]:
        return self.saved.planned if self.saved is not None else super().planned()

    def required(self) -> dict[str, float]:
        return self.saved.required if self.saved is not None else super().required()

    def drive(self) -> None:
        """Deliver the saved results, in order (no agent runs, so no event loop)."""
        if self.saved is None:
            for result in self.source():
                self.deliver(result)
            return
        reporters = self.reporters[1:]  # after the stream, which gets the JSON text
        events = not all(type(r) in _light_reporters() for r in reporters)  # (a subclass may read more)
        readers = [r for r in reporters if isinstance(r, SavedScenarioReader)]
        prepared = [r for r in readers if isinstance(r, PreparedScenarioReader)]
        scenarios = _InOrder(self.saved.required, prepared, [r for r in readers if r not in prepared])
        # readers get the scenario, not each result; nor do reporters whose `result` does nothing
        others = [r for r in reporters if r not in readers and type(r) not in _idle_reporters()]
        records = self.source(prepared)
        try:
            for _, raw, fields, pieces in records:
                metrics = RunMetrics(*fields)
                metrics.outcome = outcome_of(metrics.outcome)  # (sent as text: an enum unpickles slowly)
                self.metrics.append(metrics)
                self.log.result_text(metrics.index, metrics.trial, metrics.outcome, raw)
                if others:  # built only for reporters that take result objects (none of agentcheck's own)
                    result = result_from_data(loads(raw), events=events)
                    for reporter in others:
                        reporter.result(result)
                scenarios.add(metrics, raw, pieces)
        finally:  # Ctrl-C: the scenario still being gathered is reported too, as a run reports what finished
            records.close()  # (stops any worker still reading a shard)
            self.stats = scenarios.finish()


_METRICS_FIELDS = attrgetter(*RunMetrics.__dataclass_fields__)
"""A RunMetrics as the tuple of its fields, in order (`RunMetrics(*fields)` builds it again)."""

Record = tuple[tuple[int, int], bytes, tuple[Any, ...], tuple[Any, ...] | None]
"""A saved result on merge's fast path: its (index, trial) in the merged suite, its JSON text as the
merged stream holds it, its RunMetrics fields (the outcome as its text), and the prepared readers'
shares of it (None when its scenario runs more than once: those readers get the scenario's runs with
`saved_scenario`)."""


def _records(document: ResultsFile, saved: _SavedSuite, handoff: frozenset[str],
             readers: list[PreparedScenarioReader]) -> Iterator[Record]:
    """A shard's results as records, in its order (see `Record`; may run in a worker process)."""
    index_of = saved.index.get
    planned = saved.planned
    for data, text in document.results_with_text():
        scenario_id = data.get("scenario_id")
        index = index_of(scenario_id if type(scenario_id) is str else str(scenario_id))
        if index is None:  # the file's results and its own `scenarios` list disagree
            raise _unlisted(document, str(scenario_id))
        trial = data.get("trial")
        metrics = metrics_from_data(data, handoff)
        metrics.index = index
        metrics.outcome = metrics.outcome.value  # type: ignore[assignment]  # (see Record)
        if text is not None and text.startswith(_INDEX_HEAD):  # its text, with only its index changed
            raw = b"%s%d%s" % (_INDEX_HEAD, index, text[text.index(b","):])
            data["index"] = index  # the data as the stream now holds it
        else:  # a stamped file reformatted by some tool: encoded as a run would
            raw = dumps_bytes(_placed(result_from_data(data), None, index))
            data = loads(raw)
        pieces = tuple(r.prepare_saved(data) for r in readers) if planned[index].trials == 1 else None
        yield (index, trial if type(trial) is int and trial else int(trial or 1)), raw, _METRICS_FIELDS(metrics), pieces


class _InOrder:
    """Fold the saved results of the fast path, which come in collection order (each scenario's trials
    together), into per-scenario stats as they come, and hand each scenario to the reporters that
    would otherwise read every result back from the stream at finish: its prepared shares to the
    `prepared` readers (`saved_prepared`), its results' JSON data to the others (`saved_scenario`)."""

    def __init__(self, required: dict[str, float], prepared: list[PreparedScenarioReader],
                 readers: list[SavedScenarioReader]):
        self.required = required
        self.prepared = prepared
        self.readers = readers
        self.stats: list[ScenarioStats] = []
        self.index: int | None = None
        self.raws: list[bytes] = []
        self.pieces: tuple[Any, ...] | None = None
        self.metrics: list[RunMetrics] = []

    def add(self, metrics: RunMetrics, raw: bytes, pieces: tuple[Any, ...] | None) -> None:
        if metrics.index != self.index:
            self._flush()
            self.index = metrics.index
        self.raws.append(raw)
        self.metrics.append(metrics)
        self.pieces = pieces

    def _flush(self) -> None:
        if not self.metrics:
            return
        stats = fold_runs(self.metrics, self.required.get(self.metrics[0].scenario_id, 1.0))
        self.stats.append(stats)
        raws, pieces = self.raws, self.pieces if len(self.raws) == 1 else None
        if pieces is not None:  # (`load` parses the run afresh for each reader that needs its data)
            load = partial(loads, raws[0])
            for reader, piece in zip(self.prepared, pieces, strict=True):
                reader.saved_prepared(piece, load, stats)
            if self.readers:
                runs = [loads(raws[0])]
                for plain in self.readers:
                    plain.saved_scenario(runs, stats)
        else:
            runs = list(map(loads, raws))  # parsed once, for every reader
            for reader in (*self.prepared, *self.readers):
                reader.saved_scenario(runs, stats)
        self.raws, self.pieces, self.metrics = [], None, []

    def finish(self) -> list[ScenarioStats]:
        self._flush()
        return self.stats


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


def _placed(result: ScenarioResult, scenario: Scenario | None, index: int | None = None) -> ScenarioResult:
    """The result at the scenario's current place in the suite (index, file, line, tags)."""
    if scenario is not None:
        result.index, result.file, result.line, result.tags = (
            scenario.index, scenario.source.file, scenario.source.line, scenario.tags)
    if index is not None:
        result.index = index
    return result


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
                yield _placed(result_from_data(data), scenario)

    session = _Replay(prepared, options, source, [document])
    summary = run_prepared(prepared, options, session)
    if on_dropped is not None and session.dropped:
        on_dropped(session.dropped)
    return summary


def merge(options: RunOptions, paths: list[Path], on_missing: Callable[[list[str]], None] | None = None) -> RunSummary:
    """One report from the results files of several shards; refuses shards that overlap. `on_missing`
    is told the selected scenarios no shard file holds (a shard job that failed or was not passed)."""
    with collector_relaxed():  # tens of thousands of saved results: see agentcheck.gcpause
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
        so the merged stream is written, and read back by the reporters, sequentially."""
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
            yield _placed(result, by_id.get(result.scenario_id))

    session = _Replay(prepared, options, source, documents)
    summary = run_prepared(prepared, options, session)
    if on_missing is not None:
        missing = [s.id for s in prepared.scenarios if s.id not in merged_ids]
        if missing:
            on_missing(missing)
    return summary


def _fast_start(options: RunOptions, paths: list[Path]) -> tuple[Prepared, list[ResultsFile], _SavedSuite] | None:
    """The project, the shards and the suite they recorded, when the fast path applies; else None
    (also on any bad input: the full path then reports it, in its own order)."""
    from agentcheck.collect import find_config, load_project
    from agentcheck.drills import drill_tags
    from agentcheck.release.suite import fingerprint

    absolute = [_absolute(p, options.cwd) for p in paths]
    drilled = frozenset(drill_tags())
    reading = _shards_read_aside(absolute, drilled)  # (large shards: read while the project loads)
    try:
        # tool schemas unchecked: the fast path needs this file's bytes to be those the shard runs checked
        project = load_project(options.config or find_config(options.cwd), cwd=options.cwd, check_tool_schemas=False)
    except BadInput:
        project = None
    try:
        shards = list(reading) if reading is not None else [_read_shard(path, drilled) for path in absolute]
    except BadInput:
        return None
    if project is None or any(table is None for _, table in shards):
        return None
    documents = [document for document, _ in shards]
    tables: list[list[_Row]] = [table for _, table in shards]  # type: ignore[misc]
    ids = [row[0] for table in tables for row in table]
    if len(set(ids)) != len(ids):  # a scenario in two shards: the full path refuses it, saying where
        return None
    current = fingerprint(project, paths=[_absolute(p, options.cwd) for p in options.paths],
                          keywords=options.keywords, tags=options.tags, drills=options.drills)
    saved = _saved_suite(documents, tables, current) if current is not None else None
    if saved is None:
        return None
    baseline = load_baseline(options, project, set(saved.index))
    stamp = SuiteStamp(current, len(saved.planned), list(range(len(saved.planned))))  # a full load's, unsharded
    return Prepared(project, [], None, baseline, stamp), documents, saved


PARALLEL_MIN_BYTES = 1 << 22
"""Shard files smaller than this together are read in this process (see _shards_read_aside)."""


def _shards_read_aside(paths: list[Path], drilled: frozenset[str]) -> Iterator[tuple[ResultsFile, Any]] | None:
    """Large shards' headers and `scenarios` rows read in a worker process per shard, started now, while
    this process loads the project (each is a fifth of a second for 2 x 10 000); None: read them here."""
    from agentcheck.forked import available, started

    try:
        size = sum(path.stat().st_size for path in paths)
    except OSError:
        return None  # (the full path says which file is missing)
    if len(paths) < 2 or size < PARALLEL_MIN_BYTES or not available():
        return None
    return _gathered([started(partial(_read_shard_once, path, drilled)) for path in paths])


def _gathered(readers: list[Iterator[Any]]) -> Iterator[Any]:
    """Every worker's items, each worker read to its end (and so waited for) even after one failed;
    the first failure is raised then."""
    failure: BaseException | None = None
    for reader in readers:
        try:
            items = list(reader)
        except BaseException as exc:  # (BadInput, say: the full path reports it)
            failure = failure or exc
            continue
        if failure is None:
            yield from items
    if failure is not None:
        raise failure


def _read_shard_once(path: Path, drilled: frozenset[str]) -> Iterator[tuple[ResultsFile, list[_Row] | None]]:
    yield _read_shard(path, drilled)


def _read_shard(path: Path, drilled: frozenset[str]) -> tuple[ResultsFile, list[_Row] | None]:
    """A shard file with its header read, and its `scenarios` rows taken out of it (see _row_table)."""
    document = ResultsFile(path, role="shard")
    return document, _row_table(document, drilled)


_Row = tuple[str, str, Any, str, tuple[str, ...], int, float]
"""What merge reads of a shard's `scenarios` row: id, file, line, agent, tags, runs, required pass rate."""


def _row_table(document: ResultsFile, drilled: frozenset[str]) -> list[_Row] | None:
    """The shard's `scenarios` rows, taken out of its header, as merge reads them; None unless they are
    a run's own (each in its place, tags a list, no drilled copies: their expansion may read files the
    fingerprint does not cover)."""
    rows = document.header.pop("scenarios", None)
    if type(rows) is not list:
        return None
    table: list[_Row] = []
    try:
        for local, row in enumerate(rows):
            tags = row.get("tags") if type(row) is dict else None
            if type(tags) is not list or row.get("index") != local or not drilled.isdisjoint(tags):
                return None
            runs = int(row.get("trials") or 0) + int(row.get("skipped") or 0)
            required = float(row.get("required_pass_rate", 1.0))
            table.append((str(row.get("scenario_id")), str(row.get("file", "")), row.get("line"),
                          str(row.get("agent", "")), tuple(tags), max(runs, 1), required))
    except (TypeError, ValueError):  # not numbers where a run writes numbers
        return None
    return table


def _saved_suite(documents: list[ResultsFile], tables: list[list[_Row]], fingerprint: str) -> _SavedSuite | None:
    """The merged suite from the shards' own records, or None unless they are exactly a full load's:
    every shard stamped with the current fingerprint, every planned scenario with its row (a complete
    run), and together the whole selection, each scenario in one place."""
    stamps = []
    for document, table in zip(documents, tables, strict=True):
        run = document.header.get("run")
        stamp = run.get("suite") if isinstance(run, dict) else None
        if not isinstance(stamp, dict) or stamp.get("fingerprint") != fingerprint:
            return None
        positions = stamp.get("positions")
        if not isinstance(positions, list) or len(positions) != len(table):
            return None
        stamps.append((stamp.get("selected"), positions))
    counts = {selected for selected, _ in stamps}
    count = counts.pop() if len(counts) == 1 else None
    if type(count) is not int or count < 0:
        return None  # shards of different selections
    slots: list[_Row | None] = [None] * count
    for (_, positions), table in zip(stamps, tables, strict=True):
        for position, row in zip(positions, table, strict=True):
            if type(position) is not int or not 0 <= position < count or slots[position] is not None:
                return None  # a scenario in two places
            slots[position] = row
    if None in slots:
        return None  # a scenario in no shard
    planned = [PlannedScenario(index, *row[:6]) for index, row in enumerate(slots)]  # type: ignore[misc]
    required = {row[0]: row[6] for row in slots}  # type: ignore[index]
    return _SavedSuite(planned, required, {p.scenario_id: p.index for p in planned})


def _merge_saved(options: RunOptions, prepared: Prepared, documents: list[ResultsFile],
                 saved: _SavedSuite) -> RunSummary:
    """`merge` on the fast path: nothing is missing (checked in _saved_suite), so no warning."""

    handoff = prepared.project.handoff_tools
    owner = {id(d): d for d in documents}
    session: _Replay

    def keyed(document: ResultsFile, readers: list[PreparedScenarioReader]) -> Iterator[tuple[int, Record]]:
        number = id(document)
        if session.workers:
            from agentcheck.forked import forked_iter

            records = forked_iter(lambda: _records(document, saved, handoff, readers))
        else:
            records = _records(document, saved, handoff, readers)
        try:
            for record in records:
                yield number, record
        finally:
            records.close()  # type: ignore[attr-defined]

    def source(readers: list[PreparedScenarioReader]) -> Iterator[Record]:
        """Every shard's records interleaved in collection order (each file is in that order already)."""
        shards = [keyed(d, readers) for d in documents]
        seen: set[tuple[int, int]] = set()  # (index, trial): an index is one scenario id
        try:
            for number, record in heapq.merge(*shards, key=_shard_key):
                key = record[0]
                if key in seen:
                    raise _overlap(owner[number], str(loads(record[1]).get("scenario_id", "")))
                seen.add(key)
                yield record
        finally:
            for shard in shards:
                shard.close()

    session = _Replay(prepared, options, source, documents, saved)
    return run_prepared(prepared, options, session)


def _shard_key(item: tuple[int, Record]) -> tuple[int, int]:
    """A shard's record's (index, trial), its place in the merged stream."""
    return item[1][0]


PARALLEL_MIN_RUNS = 2000
"""Merges of fewer saved runs read their shards in this process: a worker's start-up would be most
of the work."""


def _use_workers(documents: list[ResultsFile], saved: _SavedSuite) -> bool:
    """Whether to read each shard in a worker process (agentcheck.forked): two shards or more, enough
    runs to be worth it, and a platform that forks with a second core to use."""
    from agentcheck.forked import available

    return len(documents) > 1 and sum(p.trials for p in saved.planned) >= PARALLEL_MIN_RUNS and available()


def _overlap(document: ResultsFile, scenario_id: str) -> BadInput:
    return BadInput([Problem(str(document.path), None, "", f"shard file: scenario '{scenario_id}' is also in an "
                             "earlier shard file", "merge the results of one `--shard i/n` run per i, each once")])


def _unlisted(document: ResultsFile, scenario_id: str) -> BadInput:
    return BadInput([Problem(str(document.path), None, "", f"shard file: a result of scenario '{scenario_id}', which "
                             "its `scenarios` list does not have (an edited or damaged file)",
                             "merge the files exactly as `agentcheck run --shard i/n --json` wrote them, "
                             "or run that shard again")])


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
        rows = document.header.get("scenarios")
        for row in rows if isinstance(rows, list) else []:
            scenario_id = str(row.get("scenario_id")) if isinstance(row, dict) else ""
            if scenario_id in owner:
                raise _overlap(document, scenario_id)
            owner[scenario_id] = document
