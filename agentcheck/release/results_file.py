"""Read a saved results document (results.json) without holding it in memory at once.

agentcheck writes the document one top-level key per line and one result per line (see
report/json_report.py), so it can be read back line by line: the header keys first, then results one
at a time. A file in another layout (reformatted by a tool) is parsed whole instead. A run's JSON
Lines stream (results.jsonl) is accepted too. Anything else, or a document of another schema
version, is bad input with a clear message (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentcheck.problems import BadInput, Problem
from agentcheck.release import plan_rows
from agentcheck.release.run_index import HEAD as RUN_INDEX_HEAD
from agentcheck.release.run_index import read_rows
from agentcheck.reliability import RESULTS_SCHEMA
from agentcheck.serialize import loads
from agentcheck.verdict import Outcome

_RESULTS_LINE = b'"results": ['
_SCENARIOS_HEAD = b'"scenarios": '
_DEFERRED = (RUN_INDEX_HEAD, plan_rows.HEAD, _SCENARIOS_HEAD)
"""Header lines of megabytes that only some readers need: located with the header, parsed when asked
(merge's fast path reads a shard's plan rows and never its `scenarios` rows, 80 ms per 10 000)."""
_OUTCOMES = tuple(outcome.value for outcome in Outcome)
"""The outcomes as a saved result holds them."""


class ResultsFile:
    """One results document: `header` (schema, run, summary, gates, scenarios...) and `results()`."""

    def __init__(self, path: Path, *, role: str = "results"):
        self.path = Path(path)
        self.role = role
        self.header: dict[str, Any] = {}
        self._whole: list[Any] | None = None
        self._results_offset = 0
        self._deferred: dict[bytes, tuple[int, int]] = {}  # a _DEFERRED line's head -> its (offset, length)
        self._results_line = 0  # the line the first result is on (agentcheck's line layout)
        self._read_header()

    # -- header ------------------------------------------------------------------------------------

    def _problem(self, message: str, hint: str | None = None) -> BadInput:
        return BadInput([Problem(str(self.path), None, "", f"{self.role} file: {message}", hint)])

    def _read_header(self) -> None:
        try:
            handle = self.path.open("rb", buffering=1 << 20)  # (header lines of megabytes: few reads)
        except OSError as exc:
            hint = None
            if isinstance(exc, FileNotFoundError):
                hint = ("pass the files the shard jobs wrote (`agentcheck run --shard i/n --json PATH`)"
                        if self.role == "shard" else
                        "give the path of a results file; `agentcheck run` writes reports/results.json")
            raise self._problem(f"cannot read it ({exc.strerror or exc})", hint) from None
        with handle:
            first = handle.readline()
            if first.startswith(b'{"type"'):
                self._read_stream(handle, first)
            elif first.startswith(b'{"schema": ') and (head := self._header_line(first[1:])) is not None:
                self.header.update(head)
                at = handle.tell()
                for number, line in enumerate(handle, start=2):
                    if line.rstrip() == _RESULTS_LINE:
                        self._results_offset = handle.tell()
                        self._results_line = number + 1
                        break
                    deferred = next((head for head in _DEFERRED if line.startswith(head)), None)
                    if deferred is not None:  # (megabytes that only some readers read: when asked)
                        self._deferred[deferred] = (at, len(line))
                        at += len(line)
                        continue
                    at += len(line)
                    parsed = self._header_line(line)
                    if parsed is None:
                        self._read_whole()
                        break
                    self.header.update(parsed)
                else:
                    self._read_whole()
            else:
                self._read_whole()
        self._check_schema()

    @staticmethod
    def _header_line(line: bytes) -> dict[str, Any] | None:
        try:
            value = loads(b"{" + line.rstrip().rstrip(b",") + b"}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def _read_whole(self) -> None:
        try:
            data = loads(self.path.read_bytes())
        except ValueError as exc:
            raise self._problem(f"not JSON ({exc})", "pass a results.json written by `agentcheck run --json`") from None
        if not isinstance(data, dict):
            raise self._problem("not an agentcheck results document (expected a JSON object)")
        results = data.pop("results", None)
        self.header = data
        if not isinstance(results, list):
            raise self._problem("no 'results' list (an edited or damaged file?)",
                                "use the file exactly as `agentcheck run --json` wrote it, or run that job again")
        self._whole = results

    def _read_stream(self, handle: Any, first: bytes) -> None:
        """A results.jsonl stream: the plan, results, the summary (see report/stream.py)."""
        results: list[Any] = []
        for raw in (first, *handle):
            try:
                record = loads(raw)
            except ValueError:
                break  # a run killed mid-write leaves at most one partial line, at the end
            kind = record.get("type") if isinstance(record, dict) else None
            if kind == "plan":
                self.header["run"] = record.get("plan")
            elif kind == "summary":
                self.header["summary"] = record.get("summary")
            elif kind == "result":
                results.append(record.get("result"))
        results.sort(key=lambda r: (r.get("index", 0), r.get("trial", 1)) if isinstance(r, dict) else (0, 0))
        self.header["schema"] = RESULTS_SCHEMA  # the stream is this version's own format
        self._whole = results

    def _check_schema(self) -> None:
        schema = self.header.get("schema")
        if schema == RESULTS_SCHEMA:
            return
        if not isinstance(schema, str):
            raise self._problem(f"not an agentcheck results document; this agentcheck reads '{RESULTS_SCHEMA}'",
                                "pass a results.json written by `agentcheck run --json`")
        kind, _, version = schema.rpartition("/")
        my_kind, _, mine = RESULTS_SCHEMA.rpartition("/")
        if kind == my_kind and version.isdigit() and int(version) > int(mine):
            raise self._problem(f"the document is '{schema}', written by a newer agentcheck; this one reads "
                                f"'{RESULTS_SCHEMA}'", "upgrade agentcheck (pip install -U agentcheck) to read it")
        raise self._problem(f"the document is '{schema}'; this agentcheck reads '{RESULTS_SCHEMA}'",
                            "re-create it with this version (`agentcheck run --json`)")

    # -- results -----------------------------------------------------------------------------------

    def _deferred_line(self, head: bytes) -> dict[str, Any] | None:
        """The parsed header line that starts with `head` (one of _DEFERRED), None when the document
        has none; ValueError when it is not JSON."""
        at = self._deferred.get(head)
        if at is None or self._whole is not None:
            return None
        with self.path.open("rb") as handle:
            handle.seek(at[0])
            value = self._header_line(handle.read(at[1]))
        if value is None:
            raise ValueError(head.decode())
        return value

    def scenario_rows(self) -> Any:
        """The document's `scenarios` rows (per-scenario statistics) as parsed, None when it has none;
        parsed once, when first asked. Bad input when their line is not JSON."""
        if "scenarios" not in self.header and _SCENARIOS_HEAD in self._deferred:
            try:
                value = self._deferred_line(_SCENARIOS_HEAD)
            except ValueError:
                raise self._problem("its `scenarios` line is not JSON (an edited or damaged file?)",
                                    "use the file exactly as `agentcheck run --json` wrote it, or run that job "
                                    "again") from None
            self.header["scenarios"] = value.get("scenarios") if value is not None else None
            del self._deferred[_SCENARIOS_HEAD]
        return self.header.get("scenarios")

    def plan_rows(self) -> list[plan_rows.Row] | None:
        """The document's plan rows (agentcheck.release.plan_rows) as merge reads them; None when it has
        none in this version's layout (an earlier agentcheck's file), or they are damaged."""
        try:
            value = self._deferred_line(plan_rows.HEAD)
        except ValueError:
            return None
        return plan_rows.read_rows(value.get("plan")) if value is not None else None

    def scenario_ids(self) -> set[str]:
        """The scenarios the file holds, as its `scenarios` rows (or a stream's plan) list them, else as
        its results name them (a file made by hand)."""
        rows = self.scenario_rows()
        if not isinstance(rows, list):
            run = self.header.get("run")
            rows = run.get("scenarios") if isinstance(run, dict) else None
        if isinstance(rows, list):
            return {str(row["scenario_id"]) for row in rows if isinstance(row, dict) and "scenario_id" in row}
        return {str(result.get("scenario_id")) for result in self.results() if isinstance(result, dict)}

    @property
    def run_id(self) -> str:
        run = self.header.get("run")
        return str(run.get("run_id", "")) if isinstance(run, dict) else ""

    def results(self) -> Iterator[dict[str, Any]]:
        """Every result, in file order (index, then trial), one at a time."""
        for record, _ in self.results_with_text():
            yield record

    def index_rows(self) -> list[Any] | None:
        """The run index rows (agentcheck.release.run_index), one per result line in file order, as
        parsed; None when the document has none in this version's layout, or is not in agentcheck's
        line layout."""
        try:
            value = self._deferred_line(RUN_INDEX_HEAD)
        except ValueError:
            return None
        return read_rows(value.get("run_index")) if value is not None else None

    def result_texts(self) -> Iterator[bytes]:
        """Every result's JSON text, in file order, not parsed (agentcheck's line layout only: see
        `index_rows`; a line that is not JSON is found by whoever parses it)."""
        with self.path.open("rb", buffering=1 << 20) as handle:  # 20 MB shards in 20 reads, not 2 500
            handle.seek(self._results_offset)
            for line in handle:
                # agentcheck's own lines end in `,` newline: one slice; anything else is trimmed in full
                stripped = line[:-2] if line.endswith(b"},\n") else line.strip().rstrip(b",")
                if stripped and stripped != b"]}":
                    yield stripped

    def parse_result(self, text: bytes, position: int) -> dict[str, Any]:
        """The JSON text of the result at `position` (0: the first) parsed and checked (`checked`);
        bad input naming its line when it is not JSON."""
        try:
            record = loads(text)
        except ValueError:
            raise self._bad_result(position, "is not JSON (a cut-off or edited file?)") from None
        return self.checked(record, position)

    def checked(self, record: Any, position: int) -> dict[str, Any]:
        """`record`, the result at `position`, if it has what every reader of it needs: an object with
        a `scenario_id` and one of the outcomes; else bad input naming it (not an internal error later,
        nor a result silently left out)."""
        if type(record) is not dict:
            raise self._bad_result(position, f"is not a JSON object (got {type(record).__name__})")
        if type(record.get("scenario_id")) is not str:
            raise self._bad_result(position, "has no 'scenario_id' string")
        outcome = record.get("outcome")
        if outcome not in _OUTCOMES:
            raise self._bad_result(position, f"has outcome {outcome!r}; expected one of {', '.join(_OUTCOMES)}")
        return record

    def _bad_result(self, position: int, what: str) -> BadInput:
        line = self._results_line + position if self._whole is None else None
        where = f" (line {line})" if line is not None else ""
        return BadInput([Problem(
            str(self.path), line, "", f"{self.role} file: result {position + 1}{where} {what}",
            "use the file exactly as `agentcheck run --json` wrote it, or run that job again")])

    def results_with_text(self) -> Iterator[tuple[dict[str, Any], bytes | None]]:
        """Every result with the JSON text it was read from (None for a file parsed whole), so a
        caller can look at the text without encoding the result again."""
        if self._whole is not None:
            yield from ((self.checked(r, position), None) for position, r in enumerate(self._whole))
            return
        for position, text in enumerate(self.result_texts()):
            yield self.parse_result(text, position), text

    def required_rates(self) -> dict[str, float]:
        """Scenario id -> its criterion (min_pass_rate): from the document's plan rows, else (a file from
        before them) its `scenarios` section, five times their size to parse."""
        planned = self.plan_rows()
        if planned is not None:
            return {row[0]: row[6] for row in planned}
        rows = self.scenario_rows()
        if not isinstance(rows, list):
            return {}
        return {
            str(r["scenario_id"]): float(r.get("required_pass_rate", 1.0))
            for r in rows
            if isinstance(r, dict) and "scenario_id" in r
        }
