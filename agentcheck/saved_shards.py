"""Merge's fast path: shard files stamped with the suite now on disk, read as records.

When every shard was written by `agentcheck run --shard i/n --json` from the suite now on disk (their
suite stamps carry its fingerprint, agentcheck.release.suite), merge need not collect the scenarios
from YAML again: `fast_start` takes them from the shards' own `scenarios` rows (`SavedSuite`), and
`shard_records` turns each saved result into a `Record`: its JSON text with only its index changed
(not decoded and encoded again), the numbers for gates and tables, and the reporters' prepared shares
of it (PreparedScenarioReader: JUnit's testcase, the console's line). Nothing is redacted again (the
same redactor wrote those files). `InOrder` folds the records, in collection order, into per-scenario
stats and hands each scenario to the reporters.

Large merges on a machine with a second core read each shard in a worker process of its own
(agentcheck.forked): its header while this process loads the project, then its records while this
process places them in order (docs/release-decisions.md has the figures). Any shard the fast path
cannot vouch for sends merge down the full path (agentcheck.replay), which gives the same reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any

from agentcheck.problems import BadInput, Problem
from agentcheck.release import plan_rows
from agentcheck.release.decode import metrics_from_data, result_from_data
from agentcheck.release.results_file import ResultsFile
from agentcheck.release.run_index import (
    index_written_plainly,
    paired,
    reader_view,
    renumbered,
    row_fields,
    row_of_data,
    scenario_of,
    trial_of,
)
from agentcheck.release.trials import fold_runs
from agentcheck.reliability import ScenarioStats
from agentcheck.report.base import (
    PreparedItem,
    PreparedScenarioReader,
    SavedScenarioReader,
    defined_at_or_below,
)
from agentcheck.scenario import Scenario
from agentcheck.serialize import dumps_bytes, loads
from agentcheck.session import Prepared, RunOptions, _absolute, load_baseline
from agentcheck.verdict import PlannedScenario, RunMetrics, ScenarioResult, SuiteStamp


@dataclass(slots=True)
class SavedSuite:
    """The merged suite as the shards recorded it: what a full load would give merge (see _saved_suite)."""

    planned: list[PlannedScenario]
    required: dict[str, float]
    index: dict[str, int]
    """Scenario id -> its index in the merged suite."""
    shard_runs: dict[str, int]
    """Shard file path -> the runs its run planned (its rows say): a file with fewer results (cut off at
    a line's end, or results deleted by hand) is refused, not merged as if those runs never existed."""


_METRICS_FIELDS = attrgetter(*RunMetrics.__dataclass_fields__)
"""A RunMetrics as the tuple of its fields, in order (`RunMetrics(*fields)` builds it again)."""


Record = tuple[tuple[int, int], bytes, tuple[Any, ...], tuple[Any, ...] | None, bytes | None]
"""A saved result on merge's fast path: its (index, trial) in the merged suite, its JSON text as the
merged stream holds it, its RunMetrics fields (the outcome as its text), the prepared readers' shares
of it (None when its scenario runs more than once: those readers get the scenario's runs with
`saved_scenario`), and its run index row for that text (agentcheck.release.run_index)."""


def shard_records(document: ResultsFile, saved: SavedSuite, handoff: frozenset[str],
                  readers: list[PreparedScenarioReader]) -> Iterator[Record]:
    """A shard's results as records, in its order (see `Record`; may run in a worker process): from
    its run index rows where they prove themselves, else from each result parsed in full. Bad input
    when the file holds fewer or more results than its rows count (see SavedSuite.shard_runs)."""
    count, previous = 0, (-1, 0)
    for count, record in enumerate(_shard_records(document, saved, handoff, readers), start=1):  # noqa: B007
        if record[0] <= previous:  # (merge interleaves the shards by this order: a file out of it is not placed)
            raise BadInput([Problem(str(document.path), None, "", "shard file: its results are not in the order "
                                    "its run planned them (an edited file?)", _AS_WRITTEN)])
        previous = record[0]
        yield record
    expected = saved.shard_runs.get(str(document.path))
    if expected is not None and count != expected:
        raise BadInput([Problem(str(document.path), None, "", f"shard file: holds {count} results, but its "
                                f"run planned {expected} (a cut-off or edited file?)", _AS_WRITTEN)])


def _shard_records(document: ResultsFile, saved: SavedSuite, handoff: frozenset[str],
                   readers: list[PreparedScenarioReader]) -> Iterator[Record]:
    rows = document.index_rows()
    if rows is None:
        for data, text in document.results_with_text():
            yield _parsed_record(document, saved, handoff, readers, data, text)
        return
    index_of = saved.index.get
    planned = saved.planned
    for position, text, values, encoded in paired(rows, document.result_texts()):
        fields = None
        if values is not None and type(scenario_id := scenario_of(values)) is str:
            index = index_of(scenario_id)
            if index is None:  # the file's results and its own `scenarios` list disagree
                raise _unlisted(document, scenario_id)
            fields = row_fields(values, index, handoff)
        if fields is None:  # (no row, or not this text's: an edited result)
            yield _parsed_record(document, saved, handoff, readers, document.parse_result(text, position), text)
            continue
        raw = renumbered(text, index)
        pieces = None
        if planned[index].trials == 1:
            data = reader_view(values, index) or loads(raw)  # type: ignore[arg-type]
            pieces = tuple([r.prepare_saved(data) for r in readers])
        # (the row stays the merged text's: its check does not cover the index)
        yield (index, trial_of(values)), raw, fields, pieces, encoded  # type: ignore[arg-type]


def _parsed_record(document: ResultsFile, saved: SavedSuite, handoff: frozenset[str],
                   readers: list[PreparedScenarioReader], data: dict[str, Any], text: bytes | None) -> Record:
    """The record of a result parsed in full (`text`: what it was read from, None for a file parsed whole)."""
    scenario_id = data.get("scenario_id")
    index = saved.index.get(scenario_id if type(scenario_id) is str else str(scenario_id))
    if index is None:  # the file's results and its own `scenarios` list disagree
        raise _unlisted(document, str(scenario_id))
    metrics = metrics_from_data(data, handoff)
    metrics.index = index
    metrics.outcome = metrics.outcome.value  # type: ignore[assignment]  # (see Record)
    if text is not None and index_written_plainly(text):  # its text, with only its index changed
        raw = renumbered(text, index)
        data["index"] = index  # the data as the stream now holds it
    else:  # a stamped file reformatted by some tool: encoded as a run would
        raw = dumps_bytes(placed(result_from_data(data), None, index))
        data = loads(raw)
    pieces = tuple([r.prepare_saved(data) for r in readers]) if saved.planned[index].trials == 1 else None
    return (index, metrics.trial), raw, _METRICS_FIELDS(metrics), pieces, row_of_data(data, raw)


def prepares(reader: object) -> bool:
    """Whether merge hands `reader` prepared shares (PreparedScenarioReader): not when a subclass
    overrides `saved_scenario` below the class that prepares (that override must still be called)."""
    return isinstance(reader, PreparedScenarioReader) and defined_at_or_below(reader, "saved_prepared",
                                                                               "saved_scenario")


PREPARED_BATCH = 256
"""Scenarios run once handed to the readers together (see PreparedScenarioReader)."""


class InOrder:
    """Fold the saved results of the fast path, which come in collection order (each scenario's trials
    together), into per-scenario stats as they come, and hand each scenario to the reporters that
    would otherwise read every result back from the stream at finish, in their order: its prepared
    shares to the readers that prepare (`saved_prepared`, or `saved_prepared_batch` for up to
    PREPARED_BATCH scenarios run once at a time; `prepared` lists them in the order of the records'
    shares), its results' JSON data to the others (`saved_scenario`). Every scenario is handed over by
    `finish` at the latest (also after Ctrl-C: see agentcheck.interrupts)."""

    def __init__(self, required: dict[str, float], readers: list[SavedScenarioReader],
                 prepared: list[PreparedScenarioReader]):
        self.required = required
        share = {id(r): i for i, r in enumerate(prepared)}
        self.readers = [(r, share.get(id(r)), _batch_method(r)) for r in readers]
        self.stats: list[ScenarioStats] = []
        self.index: int | None = None
        self.raws: list[bytes] = []
        self.pieces: tuple[Any, ...] | None = None
        self.metrics: list[RunMetrics] = []
        self.pending: list[tuple[tuple[Any, ...], bytes, ScenarioStats]] = []
        """Scenarios run once, folded but not handed to the readers yet (at most PREPARED_BATCH)."""

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
        metrics, raws, pieces = self.metrics, self.raws, self.pieces if len(self.raws) == 1 else None
        self.raws, self.pieces, self.metrics = [], None, []  # (taken before any reporter is called)
        stats = fold_runs(metrics, self.required.get(metrics[0].scenario_id, 1.0))
        self.stats.append(stats)
        if pieces is not None:
            self.pending.append((pieces, raws[0], stats))
            if len(self.pending) >= PREPARED_BATCH:
                self._deliver()
            return
        self._deliver()  # (those before it first: each reader gets the scenarios in order)
        runs = list(map(loads, raws))  # parsed once, for every reader
        for reader, _, _ in self.readers:
            reader.saved_scenario(runs, stats)

    def _deliver(self) -> None:
        """Hand the pending scenarios run once to every reader."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        parsed: list[dict[str, Any]] | None = None
        loaders = [partial(loads, raw) for _, raw, _ in pending]  # (one per run, for every reader)
        for reader, share, batch in self.readers:
            if share is None:  # a reader that does not prepare: the runs' data (parsed once, for all such)
                if parsed is None:
                    parsed = [loads(raw) for _, raw, _ in pending]
                for data, (_, _, stats) in zip(parsed, pending, strict=True):
                    reader.saved_scenario([data], stats)
            elif batch is not None:
                batch([(pieces[share], load, stats) for (pieces, _, stats), load in zip(pending, loaders, strict=True)])
            else:
                for (pieces, _, stats), load in zip(pending, loaders, strict=True):
                    reader.saved_prepared(pieces[share], load, stats)  # type: ignore[attr-defined]

    def finish(self) -> list[ScenarioStats]:
        self._flush()
        self._deliver()
        return self.stats


def _batch_method(reader: SavedScenarioReader) -> Callable[[list[PreparedItem]], None] | None:
    """The reader's `saved_prepared_batch`, unless a subclass overrides `saved_prepared` below the
    class that defines it (that override must still be called for each scenario)."""
    if not hasattr(reader, "saved_prepared_batch") or not defined_at_or_below(reader, "saved_prepared_batch",
                                                                              "saved_prepared"):
        return None
    return reader.saved_prepared_batch  # type: ignore[attr-defined, no-any-return]


def placed(result: ScenarioResult, scenario: Scenario | None, index: int | None = None) -> ScenarioResult:
    """The result at the scenario's current place in the suite (index, file, line, tags)."""
    if scenario is not None:
        result.index, result.file, result.line, result.tags = (
            scenario.index, scenario.source.file, scenario.source.line, scenario.tags)
    if index is not None:
        result.index = index
    return result


def fast_start(options: RunOptions, paths: list[Path]) -> tuple[Prepared, list[ResultsFile], SavedSuite] | None:
    """The project, the shards and the suite they recorded, when the fast path applies; else None
    (also on any bad input: the full path then reports it, in its own order)."""
    from agentcheck.collect import find_config, load_project
    from agentcheck.drillspec import drill_tags
    from agentcheck.release.suite import fingerprint

    absolute = [_absolute(p, options.cwd) for p in paths]
    drilled = frozenset(drill_tags())
    workers = _shards_read_aside(absolute, drilled)  # (large shards: read while the project loads)
    try:
        try:
            # tool schemas unchecked: the fast path needs this file's bytes to be those the shard runs checked
            project = load_project(options.config or find_config(options.cwd), cwd=options.cwd,
                                   check_tool_schemas=False)
        except BadInput:
            project = None
        shards = _gathered(workers) if workers is not None else [_read_shard(path, drilled) for path in absolute]
    except BadInput:
        return None
    finally:
        for worker in workers or ():  # (Ctrl-C or a crash before they were read: stopped and waited for)
            worker.close()
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


def _shards_read_aside(paths: list[Path], drilled: frozenset[str]) -> list[Any] | None:
    """Large shards' headers and `scenarios` rows read in worker processes (agentcheck.forked Workers,
    started now) while this process loads the project (each shard is a sixth of a second for
    2 x 10 000); None: read them here. One worker per spare core, each reading its share of the shards
    in turn: more would only take turns on the cores with this process, slowing the project's load."""
    from agentcheck.forked import Worker, available, cores

    try:
        size = sum(path.stat().st_size for path in paths)
    except OSError:
        return None  # (the full path says which file is missing)
    if len(paths) < 2 or size < PARALLEL_MIN_BYTES or not available():
        return None
    count = max(1, min(len(paths), cores() - 1))
    workers: list[Any] = []
    try:
        for first in range(count):
            workers.append(Worker(partial(_read_shards, paths[first::count], drilled)))
    except BaseException:
        for worker in workers:
            worker.close()
        raise
    return workers


def _gathered(workers: list[Any]) -> list[Any]:
    """Every worker's items in the shards' order (worker i read shards i, i + n, ...), each worker read
    to its end (and so waited for) even after one failed; the first failure is raised then."""
    failure: BaseException | None = None
    shares: list[list[Any]] = []
    for worker in workers:
        try:
            shares.append(list(worker))
        except Exception as exc:  # (BadInput, say: the full path reports it)
            failure = failure or exc
    if failure is not None:
        raise failure
    count = len(shares)
    return [shares[i % count][i // count] for i in range(sum(map(len, shares)))]


def _read_shards(paths: list[Path], drilled: frozenset[str]) -> Iterator[tuple[ResultsFile, list[_Row] | None]]:
    for path in paths:
        yield _read_shard(path, drilled)


def _read_shard(path: Path, drilled: frozenset[str]) -> tuple[ResultsFile, list[_Row] | None]:
    """A shard file with its header read, and its `scenarios` rows taken out of it (see _row_table)."""
    document = ResultsFile(path, role="shard")
    return document, _row_table(document, drilled)


_Row = plan_rows.Row
"""What merge reads of a shard's planned scenario: id, file, line, agent, tags, runs, required pass rate."""


def _row_table(document: ResultsFile, drilled: frozenset[str]) -> list[_Row] | None:
    """What the shard's run planned, as merge reads it: its plan rows (agentcheck.release.plan_rows)
    when the run ran all of it, else its `scenarios` rows, which list only the scenarios that ran (a
    run interrupted or stopped by --fail-fast, a file from before the plan rows; their statistics are
    taken out of its header, so they are not sent on to this process). None unless they are a run's
    own (each in its place, tags a list, no drilled copies: their expansion may read files the
    fingerprint does not cover)."""
    summary, run = document.header.get("summary"), document.header.get("run")
    planned = document.plan_rows() if _ran_all(summary) else None
    stamp = run.get("suite") if type(run) is dict else None
    positions = stamp.get("positions") if type(stamp) is dict else None
    if (planned is not None and type(positions) is list and len(positions) == len(planned)
            and sum(row[5] for row in planned) == _runs_counted(summary)
            and all(drilled.isdisjoint(row[4]) for row in planned)):
        return planned
    rows = document.scenario_rows()
    document.header.pop("scenarios", None)
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


def _ran_all(summary: Any) -> bool:
    """Whether a results document's summary says its run was neither interrupted nor stopped early."""
    return type(summary) is dict and summary.get("interrupted") is False and summary.get("not_run") in (0, None)


def _runs_counted(summary: dict[str, Any]) -> int | None:
    """The runs a results document's summary counts (every outcome), None when they are not numbers."""
    counts = summary.get("counts")
    if type(counts) is not dict or not all(type(n) is int for n in counts.values()):
        return None
    return sum(counts.values())


def _saved_suite(documents: list[ResultsFile], tables: list[list[_Row]], fingerprint: str) -> SavedSuite | None:
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
    planned = [PlannedScenario(index, *row) for index, row in enumerate(slots)]  # type: ignore[misc]
    required = {row[0]: row[6] for row in slots}  # type: ignore[index]
    runs = {str(document.path): sum(row[5] for row in table) for document, table in zip(documents, tables, strict=True)}
    return SavedSuite(planned, required, {p.scenario_id: p.index for p in planned}, runs)


def shard_key(item: tuple[int, Record]) -> tuple[int, int]:
    """A shard's record's (index, trial), its place in the merged stream."""
    return item[1][0]


PARALLEL_MIN_RUNS = 2000
"""Merges of fewer saved runs read their shards in this process: a worker's start-up would be most
of the work."""


def worth_workers(documents: list[ResultsFile], saved: SavedSuite) -> bool:
    """Whether a merge is large enough to read each shard in a worker process: two shards or more and
    enough runs (whether a worker can be forked is asked at each fork: agentcheck.forked.available)."""
    return len(documents) > 1 and sum(p.trials for p in saved.planned) >= PARALLEL_MIN_RUNS


_AS_WRITTEN = "merge the files exactly as `agentcheck run --shard i/n --json` wrote them, or run that shard again"


def _unlisted(document: ResultsFile, scenario_id: str) -> BadInput:
    return BadInput([Problem(str(document.path), None, "", f"shard file: a result of scenario '{scenario_id}', which "
                             "its run's plan (its `plan` or `scenarios` rows) does not have (an edited or damaged "
                             "file)", _AS_WRITTEN)])
