"""`render_trace` shows one stored result; `find_results` loads JSONL streams and JSON documents."""

from __future__ import annotations

import io
import json

import pytest
from report_helpers import fill_log, make_result, make_summary, run_reporter, sample_results
from rich.console import Console

from agentcheck.report.json_report import JsonReporter
from agentcheck.report.show import find_results, fmt_number, one_line, render_trace, truncate_bytes
from agentcheck.serialize import to_data
from agentcheck.trace import ModelCallEvent, StopKind, StopReason, ToolCallEvent, ToolStatus
from agentcheck.verdict import Outcome


def show(result: dict, **kw) -> str:
    buffer = io.StringIO()
    render_trace(result, Console(file=buffer, width=120, force_terminal=False), **kw)
    return buffer.getvalue()


def test_header_steps_output_and_checks():
    result = to_data(sample_results()[1])
    lines = [line.rstrip() for line in show(result).splitlines()]
    assert lines[0] == "refund-twice  FAILED  scenarios/refunds.yaml:20"
    assert lines[1] == "  refund_order was not called after lookup_order"
    assert lines[2] == "  trace tr-refund-twice-1  agent support-bot 1.2.0  started 2026-01-01T00:00:00Z"
    assert lines[3] == ("  3 steps · 2 tool calls · 1 model calls · 120 in / 40 out tokens · $0.0012 · 0.33s")
    text = "\n".join(lines)
    assert "  #1 model gpt-4o-mini  120 in / 40 out tokens  $0.0012  310ms" in text
    assert '  #2 tool lookup_order({"order_id": "A1"})  ok  12ms\n      → {"status": "delivered"}' in text
    assert '  #3 tool refund_order({"order_id": "A1", "amount": 20})  error  5ms' in text
    assert "      ✗ RateLimited: slow down (status 429)" in text
    assert "      policy: allow by refunds-under-50" in text
    assert "output: Refund issued for order A1." in text
    assert "  ✓ tools.called: tools.called ok" in text
    assert "  ✗ tools.ordered: refund_order was not called after lookup_order (step 3, tool refund_order)" in text
    assert "      expected: lookup_order → refund_order" in text


def test_stop_reason_violation_and_advisory_marks():
    result = make_result(0, "stopped", Outcome.ERROR, message="budget",
                         stop=StopReason(StopKind.BUDGET_EXCEEDED, "max_tool_calls 1 reached", "cap 1, measured 2"),
                         checks=[])
    result.trace.events = [
        ToolCallEvent(step=1, call_id="c", tool="wipe_db", args={}, status=ToolStatus.INVALID_ARGS,
                      violation="args do not fit schema: 'confirm' is required"),
    ]
    data = to_data(result)
    data["checks"] = [{"check": "output.tone", "passed": False, "advisory": True, "message": "curt"}]
    text = show(data)
    assert "stop: budget_exceeded: max_tool_calls 1 reached" in text
    assert "    cap 1, measured 2" in text
    assert "      violation: args do not fit schema: 'confirm' is required" in text
    assert "  ! output.tone: curt (advisory)" in text


def test_result_without_trace_and_with_odd_fields():
    text = show({"scenario_id": None, "index": 7, "outcome": "skipped", "message": ["not", "a", "string"],
                 "trace": None, "checks": "nope", "trial": "x"})
    assert text.splitlines()[0].startswith("scenario #7  SKIPPED")
    assert '["not", "a", "string"]' in text
    assert "no trace recorded" in text


def test_huge_values_are_cut():
    result = make_result(0, "big")
    result.trace.output = "x" * 50_000
    result.trace.events = [ModelCallEvent(step=1, model="m", route="cheap", source="proxy")]
    text = show(to_data(result), max_chars=100)
    assert "… [49900 more characters]" in " ".join(text.split())
    assert "route cheap" in text and "(proxy)" in text
    assert len(text) < 5_000


def test_find_results_reads_a_jsonl_stream_in_index_order(tmp_path):
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results, order=[4, 3, 2, 1, 0])
    log.finish(make_summary(results))
    found = find_results(tmp_path / "results.jsonl")
    assert [r["index"] for r in found] == [0, 1, 2, 3, 4]
    assert found[1]["checks"][1]["check"] == "tools.ordered"
    assert [r["index"] for r in find_results(tmp_path)] == [0, 1, 2, 3, 4]  # a run folder works too


def test_find_results_tolerates_a_cut_off_stream_with_another_suffix(tmp_path):
    results = sample_results()
    log = fill_log(tmp_path / "results.log", results)
    with log.path.open("ab") as handle:
        handle.write(b'{"type": "result", "result": {"ind')
    assert len(find_results(tmp_path / "results.log")) == 5


def test_find_results_reads_a_results_document(tmp_path):
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results, order=[1, 0, 2, 3, 4])
    run_reporter(JsonReporter(tmp_path / "results.json", log), log, results, make_summary(results))
    found = find_results(tmp_path / "results.json")
    assert [r["scenario_id"] for r in found][:2] == ["refund-damaged-order", "refund-twice"]
    assert found[0]["trace"]["trace_id"] == "tr-refund-damaged-order-1"


def test_find_results_refuses_other_files(tmp_path):
    other = tmp_path / "package.json"
    other.write_text(json.dumps({"name": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"package\.json: not a results file"):
        find_results(other)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid JSON"):
        find_results(broken)
    (tmp_path / "a.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="found 2"):
        find_results(tmp_path)


def test_text_helpers():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line(None) == ""
    assert one_line({"k": [1, 2]}) == '{"k": [1, 2]}'
    assert one_line("y" * 400, 10) == "yyyyyyyyyy… [390 more characters]"
    cut = truncate_bytes("é" * 100, 51)
    assert cut.startswith("é" * 25 + "\n… [truncated: ") and "é" * 26 not in cut
    assert truncate_bytes("short") == "short"
    assert [fmt_number(v) for v in (3, 3.0, 0.75, 0.00123, 1234.5, None, float("nan"), True)] == [
        "3", "3", "0.75", "0.00123", "1234.50", "n/a", "n/a", "true"
    ]


def test_show_of_a_scenario_run_several_times_says_what_each_trial_did(tmp_path, capsys):
    from agentcheck.showcmd import show_results

    results = [make_result(0, "flaky", Outcome.PASSED, trial=1), make_result(0, "flaky", Outcome.FAILED, trial=2),
               make_result(1, "steady", Outcome.PASSED)]
    fill_log(tmp_path / "results.jsonl", results)
    assert show_results("flaky", tmp_path / "results.jsonl", None, tmp_path) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "flaky: 2 runs (trial 1 PASSED, trial 2 FAILED)"
    assert any(line.startswith("flaky [trial 2]  FAILED") for line in lines)
    assert show_results("steady", tmp_path / "results.jsonl", None, tmp_path) == 0
    assert capsys.readouterr().out.startswith("steady  PASSED")
