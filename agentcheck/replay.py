"""Rejudge and merge: saved results through the same gates and reporters as a run, no agent run.

- `rejudge(options, path)` re-applies the scenarios' *current* expectations and gates to the traces
  saved in a results file (fixing an expectation, tightening a gate, re-reading last week's run).
- `merge(options, paths)` combines the results files of `--shard i/n` jobs into one report, with the
  gates, JUnit and Markdown of a single run.

Both load the project as a run does (for gates, report settings and each scenario's criterion) and
feed results to a `_Session` instead of running agents, so reports are exactly a run's reports.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agentcheck.problems import BadInput, Problem
from agentcheck.release.decode import result_from_data, trace_from_data
from agentcheck.release.results_file import ResultsFile
from agentcheck.scenario import Scenario
from agentcheck.session import Prepared, RunOptions, _absolute, _Session, load, run_prepared
from agentcheck.verdict import RunSummary, ScenarioResult


class _Replay(_Session):
    """A session whose results come from saved files instead of agent runs."""

    def __init__(self, prepared: Prepared, options: RunOptions, source: Callable[[], Iterator[ScenarioResult]],
                 documents: list[ResultsFile]):
        super().__init__(prepared, options)
        self.source = source
        self.dropped = 0
        self.vouched: ScenarioResult | None = None  # the result being delivered, if its text needs no redaction
        self.saved_trials: dict[str, int] = {}
        for document in documents:  # the plan counts the runs the saved files hold
            rows = document.header.get("scenarios")
            for row in rows if isinstance(rows, list) else []:
                if isinstance(row, dict) and "scenario_id" in row:
                    runs = int(row.get("trials") or 0) + int(row.get("skipped") or 0)
                    self.saved_trials[str(row["scenario_id"])] = max(runs, 1)

    def redact(self, result: ScenarioResult) -> None:
        """Saved results were redacted by the run that wrote them; one whose JSON text the current
        redactor vouches for is passed as it is (re-redacting 20 000 traces was merge's biggest cost)."""
        if result is not self.vouched:
            super().redact(result)

    def trials_of(self, scenario: Scenario) -> int:
        return self.saved_trials.get(scenario.id, 1)

    async def run_all(self) -> None:
        for result in self.source():
            self.deliver(result)


def _prepared(options: RunOptions, paths: list[Path], role: str) -> tuple[Prepared, list[ResultsFile]]:
    project, scenarios = load(options)
    baseline = None
    if options.baseline is not None:
        from agentcheck.release.compare import load_side

        baseline = load_side(_absolute(options.baseline, options.cwd), role="baseline", label=str(options.baseline),
                             handoff_tools=project.handoff_tools)
    documents = [ResultsFile(_absolute(p, options.cwd), role=role) for p in paths]
    return Prepared(project, scenarios, None, baseline), documents


def _placed(result: ScenarioResult, scenario: Scenario | None) -> ScenarioResult:
    """The result at the scenario's current place in the suite (index, file, line, tags)."""
    if scenario is not None:
        result.index, result.file, result.line, result.tags = (
            scenario.index, scenario.source.file, scenario.source.line, scenario.tags)
    return result


def rejudge(options: RunOptions, path: Path, on_dropped: Callable[[int], None] | None = None) -> RunSummary:
    """Judge the traces saved in `path` against the current scenarios; results of scenarios no longer
    in the selection are left out, and `on_dropped` is told how many."""
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


def _overlap(document: ResultsFile, scenario_id: str) -> BadInput:
    return BadInput([Problem(str(document.path), None, "", f"shard file: scenario '{scenario_id}' is also in an "
                             "earlier shard file", "merge the results of one `--shard i/n` run per i, each once")])


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
