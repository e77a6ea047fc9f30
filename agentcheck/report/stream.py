"""Results stream to disk as runs finish: one JSON line each, flushed, so nothing is lost.

The file is the run's source of truth. Final reports (JSON, JUnit) read results back from it in stable
(collection) order instead of holding every trace in memory, which keeps memory flat as suites grow.

Line shapes: ``{"type": "plan", "plan": {...}}`` first, ``{"type": "result", "result": {...}}`` per
finished run (a serialised ScenarioResult with its trace), ``{"type": "summary", "summary": {...}}``
last (absent when the run was killed hard).
"""

from __future__ import annotations

import bisect
from collections.abc import Container, Iterator
from pathlib import Path
from typing import Any

from agentcheck.serialize import dumps, dumps_bytes, loads
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult

_RESULT_HEAD = b'{"type":"result","result":'
"""How every result line starts when orjson wrote it (compact, keys in insertion order)."""


class ResultLog:
    """A reporter that appends every result to a JSON Lines file and remembers where it put it."""

    summary_as_json = True
    """It only writes the summary out as JSON: its scenario rows may come encoded (reporting.finish_all)."""

    def __init__(self, path: Path):
        self.path = path
        self._offsets: list[tuple[int, int, int]] = []  # (index, trial, byte offset) in finishing order
        self._failing: set[int] = set()  # offsets of the results that failed or errored
        self._where: dict[tuple[int, int], int] = {}  # (index, trial) -> offset, for read_result
        self._where_count = 0  # results `_where` was built from
        self._file = None
        self._end = 0  # bytes written: the next line's offset, without asking the file each time
        self._results_end: int | None = None
        self._rows: list[bytes | None] = []  # each result's run index row when given (merge), in `_offsets` order

    def start(self, plan: RunPlan) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb", buffering=1 << 18)  # run results flush each line; merge's need not
        self._end = 0
        self._write({"type": "plan", "plan": plan})

    def result(self, result: ScenarioResult, encoded: bytes | None = None) -> None:
        """Append `result` and flush; `encoded` is its JSON text when the caller already has it."""
        text = dumps_bytes(result) if encoded is None else encoded
        self.result_text(result.index, result.trial, result.outcome, text)
        assert self._file is not None
        self._file.flush()

    def result_text(self, index: int, trial: int, outcome: str, text: bytes, row: bytes | None = None) -> None:
        """`result` for a result given as its JSON text, exactly as `dumps_bytes(result)` writes it
        (merge passes saved results through without decoding and encoding them again), and `row`, its
        run index row if the caller has it (agentcheck.release.run_index; else made from the text when
        the JSON report asks for it). Not flushed line by line as a run's results are: what merge
        writes is already safe in the shard files."""
        assert self._file is not None, "start() first"
        self._note(index, trial, outcome)
        self._rows.append(row)
        self._end += self._file.write(_RESULT_HEAD + text + b"}\n")

    def _note(self, index: int, trial: int, outcome: str) -> None:
        offset = self._end
        self._offsets.append((index, trial, offset))
        if outcome in ("failed", "error"):
            self._failing.add(offset)

    def seal(self) -> None:
        """Flush the result lines and mark where they end: readers in other processes (merge writes its
        JSON and Markdown reports in worker processes, agentcheck.forked) may then read them while the
        summary line is still being written."""
        if self._file is not None:
            self._results_end = self._end
            self._file.flush()

    def finish(self, summary: RunSummary) -> None:
        if self._file is None:
            return
        self._results_end = self._end  # where the result lines stop (iter_raw_joined)
        self._write({"type": "summary", "summary": summary})
        self._file.close()
        self._file = None

    def close(self) -> None:
        """Close the stream without a summary line, as a run killed hard leaves it (readers accept that)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        self._end += self._file.write(dumps_bytes(record))  # (a summary of 20 000 scenarios is 9 MB: not copied
        self._end += self._file.write(b"\n")                 # again to add its newline)
        self._file.flush()

    def iter_results(self, *, failing_only: bool = False, skip: Container[int] = ()) -> Iterator[dict[str, Any]]:
        """Every result written so far (or only those that failed or errored: the Markdown summary
        reads 400 of 20 000; or all but the scenarios whose indexes are in `skip`: JUnit rendered
        those as they came), as JSON data, in collection (index) order."""
        if self._file is not None:
            self._file.flush()
        with self.path.open("rb") as handle:
            for index, _, offset in sorted(self._offsets):
                if (failing_only and offset not in self._failing) or index in skip:
                    continue
                handle.seek(offset)
                yield loads(handle.readline())["result"]

    def repeated_indexes(self) -> set[int]:
        """The indexes with more than one result written (a scenario's trials)."""
        seen: set[int] = set()
        repeated: set[int] = set()
        for index, _, _ in self._offsets:
            (repeated if index in seen else seen).add(index)
        return repeated

    def read_result(self, index: int, trial: int = 1) -> dict[str, Any]:
        """One result written so far, as JSON data (KeyError when there is none)."""
        if self._where_count != len(self._offsets):  # built on first use: few readers need it
            self._where = {(i, t): o for i, t, o in self._offsets}
            self._where_count = len(self._offsets)
        offset = self._where[(index, trial)]
        if self._file is not None:
            self._file.flush()
        with self.path.open("rb") as handle:
            handle.seek(offset)
            return loads(handle.readline())["result"]

    def iter_raw_joined(self, chunk_size: int = 1 << 22) -> Iterator[bytes | memoryview]:
        """`b",\n".join(self.iter_raw_results())`, in pieces. When results were written in collection
        order (merge writes them so) and every line has orjson's shape, the lines are copied in
        chunks of about `chunk_size` bytes that end where a result line ends (their offsets are
        known), their heads and tails cut by one bytes.replace per chunk — the JSON report of 20 000
        results is then a file copy, not 20 000 reads. A chunk is read once and replaced once (no
        carried-over part line, no slices): each new 4 MB object costs the kernel a thousand page
        faults (copying 20 000 results alone: 0.17 s with three more per chunk, 0.13 s now)."""
        if self._file is not None:
            self._file.flush()
        if not self._offsets:
            return
        in_order = all(a <= b for a, b in zip(self._offsets, self._offsets[1:], strict=False))  # (index, trial) rising
        if not in_order or self._results_end is None:
            yield from _joined(self.iter_raw_results())
            return
        offsets = [offset for _, _, offset in self._offsets]  # (rising: lines are noted as they are written)
        offsets.append(self._results_end)
        with self.path.open("rb") as handle:
            handle.seek(offsets[0])
            at = 0  # the chunk starts at the line offsets[at]
            while at < len(offsets) - 1:
                upto = bisect.bisect_right(offsets, offsets[at] + chunk_size, at + 2) - 1  # (one line at least)
                block = handle.read(offsets[upto] - offsets[at])
                if at:
                    yield b",\n"  # (on its own: not a copy of the 4 MB after it)
                yield _unwrapped(block, upto - at)
                at = upto

    def index_rows(self) -> list[bytes | None]:
        """The run index rows of the results written so far, in collection order (that of
        `iter_raw_results`): those given with them, the others made from their texts (read back one at a
        time; a run's results come without: a run need not pay for them until its JSON is written)."""
        from agentcheck.release.run_index import row_of_data

        order = sorted(range(len(self._offsets)), key=self._offsets.__getitem__)
        rows = [self._rows[i] for i in order]
        if None not in rows:
            return rows
        made: list[bytes | None] = []
        for row, text in zip(rows, self.iter_raw_results(), strict=True):
            if row is None:
                try:
                    data = loads(text)
                except ValueError:  # (not written by this log: nothing a row can stand in for)
                    data = None
                row = row_of_data(data, text) if type(data) is dict else None
            made.append(row)
        return made

    def iter_raw_results(self) -> Iterator[bytes]:
        """Every result written so far as its JSON text (UTF-8), in collection order, without parsing
        it: the JSON report copies results through, and `dumps(loads(x))` of orjson's output is `x`.
        A line in another shape (the standard library's fallback encoder) is re-encoded as before."""
        if self._file is not None:
            self._file.flush()
        with self.path.open("rb") as handle:
            for _, _, offset in sorted(self._offsets):
                handle.seek(offset)
                yield _raw_result(handle.readline())


def _joined(texts: Iterator[bytes]) -> Iterator[bytes]:
    separator = b""
    for text in texts:
        yield separator + text
        separator = b",\n"


def _unwrapped(block: bytes, lines: int) -> bytes | memoryview:
    """`lines` whole result lines (`{"type":"result","result":` TEXT `}` newline, each) as their TEXTs
    joined by `,` newline. A newline only ends lines (orjson and the standard library's encoder escape
    it inside strings, and saved texts are read a line at a time), so as many line joints as lines,
    less one, proves every line has that shape; a block that has another goes line by line. (The
    replace runs on the whole block and the head and tail are cut from a view of it: one new object
    per block, not two.)"""
    if block.startswith(_RESULT_HEAD) and block.endswith(b"}\n"):
        between = b"}\n" + _RESULT_HEAD
        if block.count(between) + 1 == lines:  # every joint is between two such lines
            return memoryview(block.replace(between, b",\n"))[len(_RESULT_HEAD) : -2]
    return b",\n".join(_raw_result(line + b"\n") for line in block[:-1].split(b"\n"))


def _raw_result(line: bytes) -> bytes:
    """One result line's TEXT (see iter_raw_results)."""
    if line.startswith(_RESULT_HEAD) and line.endswith(b"}\n"):
        return line[len(_RESULT_HEAD) : -2]
    return dumps(loads(line)["result"]).encode("utf-8")


def read_log(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None]:
    """Plan, results (in index order) and summary of a results file; tolerates a cut-off last line."""
    plan: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for raw in handle:
            try:
                record = loads(raw)
            except ValueError:
                break  # a run killed mid-write leaves at most one partial line, at the end
            kind = record.get("type")
            if kind == "plan":
                plan = record["plan"]
            elif kind == "result":
                results.append(record["result"])
            elif kind == "summary":
                summary = record["summary"]
    results.sort(key=lambda r: (r.get("index", 0), r.get("trial", 1)))
    return plan, results, summary
