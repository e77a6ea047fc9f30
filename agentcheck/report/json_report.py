"""The results JSON document: the whole run (plan, summary, gates, every result with its trace) in one
file that other tools can load, validated by ``agentcheck/schemas/results.schema.json``.

It is written at `finish`, streaming: results are read back one at a time from the run's JSON Lines
stream (`ResultLog.iter_results`, index order) and written as they come, so a 10 000-scenario suite
never sits in memory as one string. The file appears atomically (temp file + ``os.replace``): a reader
sees the previous document or the complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Container, Iterator
from pathlib import Path
from typing import IO, Any

from agentcheck.atomicfile import replacing
from agentcheck.release.plan_rows import header_line as plan_line
from agentcheck.release.run_index import header_line as index_line
from agentcheck.report.show import safe_data
from agentcheck.report.stream import ResultLog
from agentcheck.serialize import dumps, dumps_bytes
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult

SCHEMA = "agentcheck.results/1"
"""Value of the document's `schema` field. The number changes only on breaking changes (a field
removed, renamed or retyped); new optional fields keep it."""
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "results.schema.json"


def logged_results(
    log: ResultLog, *, failing_only: bool = False, skip: Container[int] = ()
) -> Iterator[dict[str, Any]]:
    """`log.iter_results()`, or nothing when the stream was never opened (the run died before it)."""
    if not log.path.exists():
        return iter(())
    return log.iter_results(failing_only=failing_only, skip=skip)


def logged_raw_results(log: ResultLog) -> Iterator[bytes | memoryview]:
    """`log.iter_raw_joined()` (the results' JSON texts joined by `,` newline, in pieces), or nothing
    when the stream was never opened."""
    if not log.path.exists():
        return iter(())
    return log.iter_raw_joined()


def logged_plan(log: ResultLog) -> dict[str, Any] | None:
    """The plan record at the head of the stream, for reporters that missed `start`."""
    try:
        with log.path.open("rb") as handle:
            record = json.loads(handle.readline())
    except (OSError, ValueError):
        return None
    plan = record.get("plan") if isinstance(record, dict) and record.get("type") == "plan" else None
    return plan if isinstance(plan, dict) else None


@contextlib.contextmanager
def atomic_writer(path: Path, *, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text file that replaces `path` only when the block completes; on error `path` is untouched.

    Unencodable characters (lone surrogates) are written as backslash escapes, which in JSON strings
    are valid escapes and in XML are harmless text, so one odd byte never loses a whole report.

    Not fsynced: a report is derived output the next run writes again, and the move into place already
    keeps readers from half a file. Waiting for the disk was most of the end of a large merge (the
    JSON report of 2 x 10 000 results is 46 MB: 0.09 s of fsync, and the JUnit file's own fsync queued
    behind it), for a guarantee (the file survives the machine losing power) no CI job relies on.
    """
    with replacing(path) as tmp, tmp.open("w", encoding=encoding, errors="backslashreplace", newline="\n") as handle:
        yield handle


class JsonReporter:
    """Writes the results document to `path` at finish, reading results back from `log`."""

    kind = "json"
    """The key this reporter's path is listed under in `RunSummary.reports`."""

    summary_as_json = True
    """It only writes the summary out as JSON: its scenario rows may come encoded (reporting.finish_all)."""

    def __init__(self, path: Path, log: ResultLog):
        self.path = Path(path)
        self.log = log
        self._plan: RunPlan | None = None

    def start(self, plan: RunPlan) -> None:
        self._plan = plan

    def result(self, result: ScenarioResult) -> None:
        """Nothing to do: results are read back from the stream at finish, in index order."""

    def finish(self, summary: RunSummary) -> None:
        summary.reports["json"] = str(self.path)
        try:
            self.write(summary)
        except BaseException:
            summary.reports.pop("json", None)
            raise

    def write(self, summary: RunSummary) -> None:
        release = summary.release  # written straight from the dataclasses: no 10 000-row copy as dicts
        summary_data = safe_data(dataclasses.replace(summary, release=None))
        summary_data.pop("release", None)
        gates = summary_data.pop("gates", None) or []
        for gate, gate_data in zip(summary.gates, gates, strict=False):
            for check, check_data in zip(gate.checks, gate_data.get("checks") or [], strict=False):
                check_data["op"] = check.op  # a derived property; readers need it to read the threshold
        with atomic_writer(self.path) as out:
            out.write(f'{{"schema": {json.dumps(SCHEMA)},\n')
            out.write(f'"run": {dumps(self._run_data(summary))},\n')
            out.write(f'"summary": {dumps(summary_data)},\n')
            out.write(f'"gates": {dumps(gates)},\n')
            out.flush()
            binary = out.buffer  # type: ignore[attr-defined]  # the UTF-8 text file's own bytes
            if release is not None:  # release decisions (docs/release-decisions.md)
                for key in ("scenarios", "segments", "comparison"):  # as bytes: 20 000 rows are 9 MB
                    binary.write(f'"{key}": '.encode())
                    binary.write(dumps_bytes(getattr(release, key)))
                    binary.write(b",\n")
            if self._plan is not None:  # what the run planned, compactly, for merge (agentcheck.release.plan_rows)
                binary.write(plan_line(self._plan.scenarios))
            if self.log.path.exists():  # each result's few numbers, for merge (agentcheck.release.run_index)
                binary.write(index_line(self.log.index_rows()))
            binary.write(b'"results": [')
            separator = b"\n"
            for piece in logged_raw_results(self.log):  # copied through: no parse, no decode and re-encode
                if piece:
                    binary.write(separator)
                    binary.write(piece)
                    separator = b""
            binary.write(b"\n]}\n")

    def _run_data(self, summary: RunSummary) -> dict[str, Any]:
        """The plan without its scenario list (the results carry those), plus how many were planned."""
        if self._plan is not None:  # 20 000 planned scenarios are counted, not encoded to be dropped
            plan = safe_data(dataclasses.replace(self._plan, scenarios=[]))
            plan.pop("scenarios", None)
            plan["planned"] = sum(s.trials for s in self._plan.scenarios)
            return plan
        plan = logged_plan(self.log)
        if not isinstance(plan, dict):
            return {"run_id": summary.run_id, "started_at": summary.started_at}
        scenarios = plan.pop("scenarios", None)
        if isinstance(scenarios, list):
            plan["planned"] = sum(s.get("trials", 1) for s in scenarios if isinstance(s, dict))
        return plan
