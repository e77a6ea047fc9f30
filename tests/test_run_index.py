"""The run index (agentcheck.release.run_index): a row stands in for its result exactly, for the
numbers (RunMetrics) and for what JUnit and the console read of a plain passing run; a row proves
itself against its result's text, so an edited result or row is read in full; and merge reading
rows gives the reports merge parsing every result gives."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from report_helpers import make_result

from agentcheck.release import run_index
from agentcheck.release.decode import metrics_from_data
from agentcheck.release.results_file import ResultsFile
from agentcheck.report.console import ConsoleReporter
from agentcheck.report.junit import JUnitReporter
from agentcheck.report.stream import ResultLog
from agentcheck.saved_shards import _METRICS_FIELDS
from agentcheck.serialize import dumps_bytes
from agentcheck.verdict import CheckResult


def _data(**changes: object) -> dict:
    """A saved result as JSON data (a passing run with a trace), with `changes` applied: a key path
    `a.b` sets data["a"]["b"]."""
    data = orjson.loads(dumps_bytes(make_result(7, "refund-1")))
    for path, value in changes.items():
        *parents, key = path.split(".")
        target = data
        for parent in parents:
            target = target[parent] if not parent.isdigit() else target[int(parent)]
        target[key] = value
    return data


def _advisory_failed() -> dict:
    data = _data()
    data["checks"].append(orjson.loads(dumps_bytes(CheckResult("tone", False, "too curt", advisory=True))))
    return data


def _tool_event(tool: object, status: str = "ok", decision: str | None = None) -> dict:
    return {"kind": "tool_call", "tool": tool, "status": status, "step": 9, "call_id": "x", "args": {},
            "policy": {"decision": decision} if decision else None}


CASES = {
    "plain pass": _data(),
    "failed": _data(outcome="failed", message="output.contains: no"),
    "error with a stop": _data(outcome="error", message="boom", **{"trace.stop": {"kind": "crash", "message": "x"}}),
    "skipped, no trace": _data(outcome="skipped", message="not today", trace=None),
    "a later trial": _data(trial=3),
    "trial zero": _data(trial=0),
    "advisory check failed": _advisory_failed(),
    "folded trials": _data(trials=[{"trial": 1, "outcome": "passed"}]),
    "cost as an int": _data(**{"trace.totals.cost_usd": 0}),
    "negative zero cost": _data(**{"trace.totals.cost_usd": -0.0}),
    "no agent": _data(agent=""),
    "agent to escape": _data(agent='a&b<"c">'),
    "id to escape": _data(scenario_id="tab\there & <x>"),
    "no line": _data(line=None),
    "line as a bool": _data(line=True),
    "file not text": _data(file=5),
    "tags not texts": _data(tags=[1, "a"]),
    "version not text": _data(**{"trace.agent_version": 3}),
    "a handoff, a blocked call, a tool error": _data(**{"trace.events": [
        _tool_event("escalate"), _tool_event("refund", "error", "blocked"),
        {"kind": "model_call", "model": "m", "route": None}]}),
    "a tool name not text": _data(**{"trace.events": [_tool_event(5)]}),
    "an attacked run": _data(tags=["drill:injection"], checks=[{"check": "injection.goal", "passed": False}]),
    "tokens missing": _data(**{"trace.totals": {"tool_calls": 1}}),
}

HANDOFF = frozenset({"escalate"})


def _text(data: dict) -> bytes:
    return orjson.dumps(data)


@pytest.mark.parametrize("name", list(CASES))
def test_a_row_gives_the_numbers_its_result_gives(name: str):
    data = copy.deepcopy(CASES[name])
    text = _text(data)
    row = run_index.row_of_data(data, text)
    if name in ("tags not texts", "a tool name not text"):
        assert row is None  # nothing a row can stand in for: read in full
        return
    assert row is not None
    values = orjson.loads(row)
    assert run_index.proven(values, text) == row  # (and kept byte for byte)
    expected = metrics_from_data(data, HANDOFF)
    expected.index, expected.outcome = 41, expected.outcome.value  # type: ignore[assignment]
    assert run_index.metrics_fields(values, 41, HANDOFF) == _METRICS_FIELDS(expected)
    assert run_index.trial_of(values) == expected.trial and run_index.scenario_of(values) == expected.scenario_id


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_a_plain_row_gives_junit_and_the_console_what_its_result_gives(tmp_path: Path, name: str, strict: bool):
    data = copy.deepcopy(CASES[name])
    row = run_index.row_of_data(data, _text(data))
    values = orjson.loads(row) if row is not None else None
    assert values is None or run_index.proven(values, _text(data)) is not None
    view = run_index.reader_view(values, 41) if values is not None else None
    plain = {"plain pass", "agent to escape", "id to escape", "no line", "version not text",
             "a handoff, a blocked call, a tool error", "a later trial", "an attacked run"}
    assert (view is not None) == (name in plain)
    if view is None:
        return
    data["index"] = 41
    junit = JUnitReporter(tmp_path / "j.xml", ResultLog(tmp_path / "r.jsonl"), strict=strict, project_root=tmp_path)
    console = ConsoleReporter()
    assert junit.prepare_saved(view) == junit.prepare_saved(data)
    assert console.prepare_saved(view) == console.prepare_saved(data)


def test_an_edited_result_or_row_does_not_prove_itself():
    data = _data()
    text = _text(data)
    row = run_index.row_of_data(data, text)
    assert row is not None and run_index.proven(orjson.loads(row), text) == row
    values = orjson.loads(row)
    edited = text.replace(b'"outcome":"passed"', b'"outcome":"failed"')
    assert edited != text and run_index.proven(values, edited) is None
    assert run_index.proven(orjson.loads(row.replace(b'"passed"', b'"failed"')), text) is None
    for bad in (None, [], [1, 2], "not a row", [*values[:-1]], ["x", *values[1:]], [*values[:-1], {1, 2}]):
        assert run_index.proven(bad, text) is None
    # the index is not covered: merge renumbers results and keeps their rows
    renumbered = text.replace(b'{"index":7,', b'{"index":12345,')
    assert renumbered != text and run_index.proven(values, renumbered) == row
    # ...but it must be an index as agentcheck writes one (else the line is read in full, and refused)
    for odd in (b'{"index":+7,', b'{"index":07,', b'{"index":7 ,', b'{"index":1_0,', b'{"index":"7",'):
        assert run_index.proven(values, text.replace(b'{"index":7,', odd)) is None
    for cut in (b'{"index":7}', b'{"index":7', b"", b"[1,2]"):  # (no comma after the index: no crash)
        assert run_index.proven(values, cut) is None


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "1e400"])
def test_a_number_json_cannot_hold_gets_no_row(value: str):
    """metrics_from_data reads a text such as "NaN" as a float; JSON would write it as null, so the
    row would not give back the number: such a result gets no row and is read in full."""
    for path in ("trace.totals.cost_usd", "trace.totals.wall_time_ms"):
        data = _data(**{path: value})
        assert run_index.row_of_data(data, _text(data)) is None


def _document(tmp_path: Path, index: bytes) -> Path:
    texts = [dumps_bytes(make_result(i, f"s{i}")) for i in range(3)]
    path = tmp_path / "results.json"
    path.write_bytes(b'{"schema": "agentcheck.results/1",\n"run": {"run_id": "r"},\n' + index
                     + b'"results": [\n' + b",\n".join(texts) + b"\n]}\n")
    return path


def test_a_document_reads_its_rows_when_asked_and_skips_them_in_its_header(tmp_path: Path):
    texts = [dumps_bytes(make_result(i, f"s{i}")) for i in range(3)]
    rows = [run_index.row_of_data(orjson.loads(t), t) for t in texts]
    document = ResultsFile(_document(tmp_path, run_index.header_line(rows)))
    assert document.index_rows() == [orjson.loads(r) for r in rows] and "run_index" not in document.header
    assert list(document.result_texts()) == texts
    assert [r.get("scenario_id") for r in document.results()] == ["s0", "s1", "s2"]
    assert orjson.loads(document.path.read_bytes())["run_index"]["fields"] == list(run_index.FIELDS)  # (JSON)
    assert ResultsFile(_document(tmp_path, run_index.header_line([]))).index_rows() == []


@pytest.mark.parametrize("index", [b"", b'"run_index": {"fields": ["check"], "rows": [[1]]},\n',
                                   b'"run_index": {"fields": ["check"], "rows": [\n[1]\n]},\n'])
def test_a_document_without_this_versions_index_is_read_in_full(tmp_path: Path, index: bytes):
    """No index, or another version's (on one line or on several): no rows, and the results still read."""
    document = ResultsFile(_document(tmp_path, index))
    assert document.index_rows() is None
    assert [r.get("scenario_id") for r in document.results()] == ["s0", "s1", "s2"]


def test_a_cut_off_index_is_a_file_that_is_not_json(tmp_path: Path):
    from agentcheck.problems import BadInput

    path = tmp_path / "results.json"
    path.write_bytes(b'{"schema": "agentcheck.results/1",\n' + run_index.header_line([b"[1,2]"])[:-8])
    with pytest.raises(BadInput, match="not JSON"):
        ResultsFile(path)


def test_the_stream_makes_rows_for_results_given_without(tmp_path: Path):
    """A run's results come without rows: the JSON report asks for them, and each is made from the
    result's text as the document will hold it; rows given (merge) are kept as they are."""
    from report_helpers import make_plan

    results = [make_result(i, f"s{i}") for i in (2, 0, 1)]  # finishing order
    log = ResultLog(tmp_path / "r.jsonl")
    log.start(make_plan(results, tmp_path))
    for result in results[:2]:
        log.result(result)
    log.result_text(1, 1, "passed", dumps_bytes(results[2]), b"GIVEN")
    rows = log.index_rows()
    texts = list(log.iter_raw_results())
    assert rows[1] == b"GIVEN" and [r.get("scenario_id") for r in map(orjson.loads, texts)] == ["s0", "s1", "s2"]
    for row, text in ((rows[0], texts[0]), (rows[2], texts[2])):
        assert row == run_index.row_of_data(orjson.loads(text), text)


def test_compare_reads_each_results_numbers_from_its_row_or_else_in_full(tmp_path: Path):
    """`compare` (document_metrics) gives, row or no row, the numbers parsing every result gives: for
    every odd case above, a result edited after its row was made, and one whose index is not an integer."""
    from agentcheck.release.compare import document_metrics

    datas = []
    for number, data in enumerate(CASES.values()):
        data = copy.deepcopy(data)
        data["index"] = number
        datas.append({"index": number, **{k: v for k, v in data.items() if k != "index"}})
    texts = [orjson.dumps(d) for d in datas]
    rows = [run_index.row_of_data(d, t) for d, t in zip(datas, texts, strict=True)]
    texts[0] = texts[0].replace(b'"outcome":"passed"', b'"outcome":"failed"')  # edited after its row was made
    texts[1] = texts[1].replace(b'{"index":1,', b'{"index":1.0,')
    path = tmp_path / "results.json"
    path.write_bytes(b'{"schema": "agentcheck.results/1",\n"run": {"run_id": "r"},\n' + run_index.header_line(rows)
                     + b'"results": [\n' + b",\n".join(texts) + b"\n]}\n")
    expected = [metrics_from_data(orjson.loads(t), HANDOFF) for t in texts]
    assert document_metrics(ResultsFile(path), HANDOFF) == expected
    assert expected[0].outcome.value == "failed" and expected[1].index == 1


# -- merge ------------------------------------------------------------------------------------------

from merge_helpers import merged, shard_paths  # noqa: E402  (the `single_shards` fixture is conftest's)


def _copies(root: Path, target: Path, *, index: bool, edit: bytes | None = None) -> list[Path]:
    """The shard files copied into `target` (a folder of the project, so they are its shards), without
    their run index if not `index`; `edit` is the outcome the first passing run of the first shard gets."""
    target.mkdir(exist_ok=True)
    paths = []
    for number, path in enumerate(shard_paths(root)):
        lines = path.read_bytes().splitlines(keepends=True)
        if not index:
            lines = [line for line in lines if not line.startswith(run_index.HEAD)]
        if edit is not None and number == 0:
            at = next(i for i, line in enumerate(lines)
                      if line.startswith(b'{"index":') and b'"outcome":"passed"' in line)
            lines[at] = lines[at].replace(b'"outcome":"passed"', b'"outcome":"' + edit + b'"', 1)
        copy_path = target / path.name
        copy_path.write_bytes(b"".join(lines))
        paths.append(copy_path)
    return paths


@pytest.mark.parametrize("edit", [None, b"failed"])
def test_merge_reading_rows_reports_what_merge_parsing_every_result_reports(
        single_shards: Path, monkeypatch: pytest.MonkeyPatch, edit: bytes | None):
    """The shards of a real run, merged with their run index and without it: the same reports (the
    merged document's own rows included). With a result edited after the run, its row no longer
    proves itself: that result is read in full, and the reports show the edit."""
    proofs: list[bool] = []
    original = run_index.proven

    def counted(row: bytes, text: bytes):  # type: ignore[no-untyped-def]
        values = original(row, text)
        proofs.append(values is not None)
        return values

    monkeypatch.setattr(run_index, "proven", counted)
    with_rows = merged(single_shards, "rows", _copies(single_shards, single_shards / "with", index=True, edit=edit),
                       fast=True, monkeypatch=monkeypatch)
    assert proofs and proofs.count(False) == (0 if edit is None else 1)
    proofs.clear()
    without = merged(single_shards, "rows", _copies(single_shards, single_shards / "without", index=False, edit=edit),
                     fast=True, monkeypatch=monkeypatch)
    assert proofs == []  # (no rows: every result parsed)
    assert with_rows == without
    document = ResultsFile(single_shards / "rows.json")
    rows, texts = document.index_rows(), list(document.result_texts())
    assert rows is not None and len(rows) == len(texts) > 0
    assert all(run_index.proven(row, text) is not None for row, text in zip(rows, texts, strict=True))
    lines = document.path.read_bytes().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(run_index.HEAD))
    assert lines[at + 1] == b'"results": [' and orjson.loads(b"{" + lines[at].rstrip(b",") + b"}")  # (one line)
    if edit is not None:
        failed = [r["outcome"] for r in orjson.loads(with_rows["json"])["results"]].count("failed")
        assert failed == 1 + sum([r.get("outcome") for r in ResultsFile(path).results()].count("failed")
                                 for path in shard_paths(single_shards))



def test_a_shard_result_whose_index_is_a_text_with_a_comma_is_merged_as_valid_json(
        single_shards: Path, monkeypatch: pytest.MonkeyPatch):
    """An index that is not an integer (a hand-edited file) gets no proof from its row, and the merged
    text is encoded afresh: slicing at the first comma would cut inside the text and write invalid JSON."""
    paths = _copies(single_shards, single_shards / "texts", index=True)
    lines = paths[0].read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"index":'))
    lines[at] = lines[at].replace(b'{"index":', b'{"index":"a,b","_was":', 1)
    lines[at] = lines[at].replace(b'"trial":1,"duration_ms"', b'"trial":"first","duration_ms"')  # (no number either)
    assert b'"trial":"first"' in lines[at]
    paths[0].write_bytes(b"".join(lines))
    reports = merged(single_shards, "texts", paths, fast=True, monkeypatch=monkeypatch)
    document = orjson.loads(reports["json"])  # (valid JSON: it parses)
    assert [r["index"] for r in document["results"]] == sorted(r["index"] for r in document["results"])
    assert all(type(r["index"]) is int for r in document["results"])


@pytest.mark.parametrize("index", [True, False])
def test_a_result_line_that_is_not_json_is_named_by_its_line(tmp_path: Path, index: bool):
    """With rows or without, a cut-off result line is bad input naming the file and the line, with
    what to do; it is never a traceback (the CLI shows it as one line, exit 2)."""
    from agentcheck.problems import BadInput
    from agentcheck.release.compare import document_metrics

    texts = [dumps_bytes(make_result(i, f"s{i}")) for i in range(3)]
    rows = [run_index.row_of_data(orjson.loads(t), t) for t in texts]
    path = _document(tmp_path, run_index.header_line(rows) if index else b"")
    lines = path.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"index":1,'))
    lines[at] = lines[at][:40]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(BadInput) as raised:
        document_metrics(ResultsFile(path))
    (problem,) = raised.value.problems
    assert problem.file == str(path) and problem.line == at + 1
    assert f"result 2 (line {at + 1}) is not JSON" in problem.message and "agentcheck run --json" in problem.hint
