"""The results JSON document: valid against its schema, stable order, streamed and atomically written."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from report_helpers import RUN_ID, fill_log, make_result, make_summary, run_reporter, sample_results

from agentcheck.report import json_report
from agentcheck.report.json_report import SCHEMA, SCHEMA_PATH, JsonReporter
from agentcheck.report.stream import ResultLog
from agentcheck.verdict import GateCheck, GateResult, Outcome


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def write_document(tmp_path, results, *, order=None, **summary_kw):
    log = fill_log(tmp_path / "results.jsonl", results, order=order)
    summary = make_summary(results, **summary_kw)
    path = tmp_path / "out" / "results.json"
    run_reporter(JsonReporter(path, log), log, results, summary)
    return path, summary


def test_schema_declares_its_version():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"]["const"] == SCHEMA == "agentcheck.results/1"


def test_real_output_validates_against_the_schema(tmp_path, validator):
    path, _ = write_document(tmp_path, sample_results())
    document = json.loads(path.read_text(encoding="utf-8"))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert errors == []
    assert document["schema"] == SCHEMA
    # its run index: a row per result, in the results' order (agentcheck.release.run_index)
    from agentcheck.release.results_file import ResultsFile
    from agentcheck.release.run_index import FIELDS, proven

    assert document["run_index"]["fields"] == list(FIELDS)
    assert [row[1] for row in document["run_index"]["rows"]] == [r["scenario_id"] for r in document["results"]]
    saved = ResultsFile(path)
    rows = saved.index_rows()
    assert rows is not None and all(proven(r, t) for r, t in zip(rows, saved.result_texts(), strict=True))
    document["run_index"]["rows"] = "not rows"
    assert any("is not of type 'array'" in e.message for e in validator.iter_errors(document))


def test_schema_rejects_a_broken_document(tmp_path, validator):
    path, _ = write_document(tmp_path, sample_results())
    document = json.loads(path.read_text(encoding="utf-8"))
    document["results"][0]["outcome"] = "sort of passed"
    del document["results"][1]["checks"][0]["passed"]
    messages = [e.message for e in validator.iter_errors(document)]
    assert any("'sort of passed' is not one of" in m for m in messages)
    assert any("'passed' is a required property" in m for m in messages)


def test_results_come_in_index_order_whatever_the_finishing_order(tmp_path):
    results = sample_results()
    path, _ = write_document(tmp_path, results, order=[4, 2, 0, 3, 1])
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [r["index"] for r in document["results"]] == [0, 1, 2, 3, 4]
    assert [r["scenario_id"] for r in document["results"]][:3] == ["refund-damaged-order", "refund-twice",
                                                                  "refund-twice"]
    first = document["results"][0]
    assert first["trace"]["events"][1]["args"] == {"order_id": "A1"}  # traces are included
    assert first["trace"]["totals"]["tool_calls"] == 2


def test_run_is_the_plan_without_scenarios_and_summary_lists_the_report(tmp_path):
    path, summary = write_document(tmp_path, sample_results())
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["run"]["run_id"] == RUN_ID
    assert document["run"]["planned"] == 5
    assert document["run"]["concurrency"] == 4
    assert "scenarios" not in document["run"]
    assert summary.reports["json"] == str(path)
    assert document["summary"]["reports"]["json"] == str(path)
    assert "gates" not in document["summary"]
    assert document["summary"]["counts"] == {"passed": 2, "failed": 1, "error": 1, "skipped": 1}


def test_gates_carry_the_comparison_operator_and_undefined_values_become_null(tmp_path, validator):
    gates = [GateResult("g", selected=0, passed=False, checks=[
        GateCheck("min_pass_rate", 0.9, float("nan"), False),
        GateCheck("max_mean_cost_usd", 0.05, 0.01, True),
    ])]
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results)
    path = tmp_path / "results.json"
    JsonReporter(path, log).finish(make_summary(results, gates=gates))  # (ResultLog itself refuses NaN)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert validator.is_valid(document)
    checks = document["gates"][0]["checks"]
    assert [(c["metric"], c["op"], c["measured"]) for c in checks] == [
        ("min_pass_rate", ">=", None), ("max_mean_cost_usd", "<=", 0.01)
    ]


def test_document_is_streamed_one_result_per_line(tmp_path):
    path, _ = write_document(tmp_path, sample_results())
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('{"schema": "agentcheck.results/1"')
    result_lines = [line for line in lines if line.startswith('{"index"')]
    assert len(result_lines) == 5


def test_plan_is_read_from_the_stream_when_start_was_missed(tmp_path):
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results)
    path = tmp_path / "results.json"
    JsonReporter(path, log).finish(make_summary(results))
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["run"]["run_id"] == RUN_ID and document["run"]["planned"] == 5


def test_run_that_never_started_still_writes_a_valid_document(tmp_path, validator):
    log = ResultLog(tmp_path / "missing.jsonl")
    path = tmp_path / "results.json"
    JsonReporter(path, log).finish(make_summary([], gates=[]))
    document = json.loads(path.read_text(encoding="utf-8"))
    assert validator.is_valid(document)
    assert document["results"] == [] and document["run"]["run_id"] == RUN_ID


def test_write_is_atomic(tmp_path, monkeypatch):
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results)
    path = tmp_path / "results.json"
    path.write_text('{"old": true}', encoding="utf-8")
    real_results = json_report.logged_raw_results

    def failing_results(log):
        for n, raw in enumerate(real_results(log)):
            yield raw
            if n == 0:  # the header and the first results are out by now
                raise OSError("disk full")

    monkeypatch.setattr(json_report, "logged_raw_results", failing_results)
    summary = make_summary(results)
    with pytest.raises(OSError):
        JsonReporter(path, log).finish(summary)
    assert path.read_text(encoding="utf-8") == '{"old": true}'
    assert "json" not in summary.reports
    assert sorted(os.listdir(tmp_path)) == ["results.json", "results.jsonl"]


def test_odd_values_survive(tmp_path, validator):
    result = make_result(0, "odd", Outcome.FAILED, message="x", checks=[])
    result.trace.output = {"set": {1, 2}, "bytes": b"\x00\x01", "obj": object()}
    path, _ = write_document(tmp_path, [result], gates=[])
    document = json.loads(path.read_text(encoding="utf-8"))
    assert validator.is_valid(document)
    output = document["results"][0]["trace"]["output"]
    assert output["set"] == [1, 2] and isinstance(output["obj"], str)


def test_reads_the_stream_after_the_log_was_closed(tmp_path, validator):
    """The runner finishes the ResultLog before the file reporters; they reopen the stream."""
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results, order=[2, 0, 1, 4, 3])
    summary = make_summary(results)
    log.finish(summary)
    path = tmp_path / "results.json"
    JsonReporter(path, log).finish(summary)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert validator.is_valid(document)
    assert [r["index"] for r in document["results"]] == [0, 1, 2, 3, 4]


def test_a_report_path_that_cannot_be_written_is_named_not_its_temporary(tmp_path):
    """The error names the path the user gave (a folder, here), leaves nothing behind beside it."""
    from agentcheck.atomicfile import replacing

    folder = tmp_path / "reports"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as caught, replacing(folder) as tmp:
        tmp.write_text("data")
    assert caught.value.filename == str(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # no temporary left over
