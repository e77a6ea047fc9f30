"""JUnit XML: both forms load in junitparser, the strict form validates against junit-10.xsd, and every
consumer finds what it reads (counts, messages, bodies, file/line, properties).

`tests/data/junit-10.xsd` is a verbatim copy (MIT header kept) of jenkinsci/xunit-plugin's
junit-10.xsd, vendored so the tests do not depend on a path outside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped
from report_helpers import (
    RUN_ID,
    failed_check,
    fill_log,
    make_plan,
    make_result,
    make_summary,
    run_reporter,
    sample_results,
)

from agentcheck.report import junit as junit_module
from agentcheck.report.junit import JUnitReporter
from agentcheck.report.junit_gates import GATES_SUITE
from agentcheck.report.stream import ResultLog
from agentcheck.trace import StopKind, StopReason
from agentcheck.verdict import GateCheck, GateResult, Outcome

XSD = Path(__file__).parent / "data" / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(XSD))


def write_report(tmp_path: Path, results, *, strict: bool, order=None, **summary_kw) -> tuple[Path, dict]:
    log = fill_log(tmp_path / "results.jsonl", results, order=order)
    summary = make_summary(results, **summary_kw)
    path = tmp_path / ("junit-strict.xml" if strict else "junit.xml")
    run_reporter(JUnitReporter(path, log, strict=strict, project_root=tmp_path), log, results, summary)
    return path, summary.reports


def suites_by_name(path: Path) -> dict:
    return {suite.name: suite for suite in JUnitXml.fromfile(str(path))}


def cases_by_name(suite) -> dict:
    return {case.name: case for case in suite}


def test_vendored_xsd_is_the_unmodified_jenkins_schema():
    """tests/data/junit-10.xsd is a byte-for-byte copy of jenkinsci/xunit-plugin's junit-10.xsd."""
    import hashlib

    data = XSD.read_bytes()
    assert b"MIT" in data[:2000]
    assert hashlib.sha256(data).hexdigest() == "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"


def test_strict_form_validates_against_junit_10_xsd(tmp_path, schema):
    path, reports = write_report(tmp_path, sample_results(), strict=True, order=[3, 1, 0, 4, 2])
    schema.validate(str(path))
    assert reports["junit"] == str(path)
    text = path.read_text(encoding="utf-8")
    assert " file=" not in text.split("<testcase", 1)[1].split(">", 1)[0]
    assert " line=" not in text


def test_strict_form_moves_properties_to_the_suite_and_location_to_system_out(tmp_path):
    path, _ = write_report(tmp_path, sample_results(), strict=True)
    suites = suites_by_name(path)
    refunds = suites["scenarios/refunds.yaml"]
    props = {p.name: p.value for p in refunds.properties()}
    assert props["agentcheck.run_id"] == RUN_ID
    assert props["refund-twice.trace_id"] == "tr-refund-twice-1"
    assert props["refund-twice [support-bot].outcome"] == "passed"  # a lone trial 2: named by its scenario
    assert props["refund-twice.cost_usd"] == "0.001200"
    assert props["refund-twice.tool_calls"] == "2"
    case = cases_by_name(refunds)["refund-twice"]
    assert "location: scenarios/refunds.yaml:20" in case.system_out
    assert "trace_id: tr-refund-twice-1" in case.system_out
    for case in refunds:
        assert case._elem.find("properties") is None
        assert "file" not in case._elem.attrib and "line" not in case._elem.attrib


def test_rich_form_counts_names_and_classnames(tmp_path):
    path, _ = write_report(tmp_path, sample_results(), strict=False, order=[4, 3, 2, 1, 0])
    xml = JUnitXml.fromfile(str(path))
    assert [s.name for s in xml] == ["scenarios/refunds.yaml", "scenarios/lookup.yaml", GATES_SUITE]
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (7, 2, 1, 1)
    refunds, lookup, _gates = list(xml)
    assert (refunds.tests, refunds.failures, refunds.errors, refunds.skipped) == (3, 1, 0, 0)
    assert (lookup.tests, lookup.failures, lookup.errors, lookup.skipped) == (2, 0, 1, 1)
    assert [c.name for c in refunds] == ["refund-damaged-order", "refund-twice", "refund-twice [support-bot]"]
    assert {c.classname for c in refunds} == {"scenarios.refunds"}
    assert {c.classname for c in lookup} == {"scenarios.lookup"}


def test_rich_form_has_file_line_and_testcase_properties(tmp_path, schema):
    path, _ = write_report(tmp_path, sample_results(), strict=False)
    refunds = suites_by_name(path)["scenarios/refunds.yaml"]
    case = cases_by_name(refunds)["refund-twice"]
    assert case._elem.get("file") == "scenarios/refunds.yaml"
    assert case._elem.get("line") == "20"
    props = {p.get("name"): p.get("value") for p in case._elem.find("properties")}
    assert props == {
        "trace_id": "tr-refund-twice-1",
        "agent": "support-bot",
        "cost_usd": "0.001200",
        "input_tokens": "120",
        "output_tokens": "40",
        "tool_calls": "2",
        "outcome": "failed",
    }
    skipped = cases_by_name(suites_by_name(path)["scenarios/lookup.yaml"])["lookup-later"]
    assert "line" not in skipped._elem.attrib  # no line known: no attribute rather than line="None"
    # the rich form differs from junit-10.xsd only in the extras the other consumers read
    allowed = ("'file' attribute", "'line' attribute", "'skipped' attribute", "'timestamp' attribute", "'properties'")
    errors = {e.reason or "" for e in schema.iter_errors(str(path))}
    assert errors and all(any(a in r for a in allowed) for r in errors), errors


def test_failure_has_one_line_message_check_type_and_every_blocking_explanation(tmp_path):
    path, _ = write_report(tmp_path, sample_results(), strict=False)
    case = cases_by_name(suites_by_name(path)["scenarios/refunds.yaml"])["refund-twice"]
    (failure,) = case.result
    assert isinstance(failure, Failure)
    assert failure.message == "refund_order was not called after lookup_order"
    assert failure.type == "tools.ordered"
    body = failure.text
    assert body.splitlines()[0] == "scenarios/refunds.yaml:20: refund_order was not called after lookup_order"
    assert "✗ tools.ordered: refund_order was not called after lookup_order (step 3, tool refund_order)" in body
    assert "    expected: lookup_order → refund_order" in body
    assert "✗ output.contains: output lacks 'refund'" in body
    assert "    actual: Sorry, I cannot help." in body  # no explanation: expected/actual shown instead


def test_advisory_failures_appear_in_system_out_only(tmp_path):
    path, _ = write_report(tmp_path, sample_results(), strict=False)
    case = cases_by_name(suites_by_name(path)["scenarios/refunds.yaml"])["refund-damaged-order"]
    assert case.is_passed
    assert "! output.tone: too curt" in case.system_out
    assert "output.tone" not in "".join(r.text or "" for r in case.result)


def test_error_uses_stop_kind_and_traceback_and_skipped_has_reason(tmp_path):
    path, _ = write_report(tmp_path, sample_results(), strict=True)
    lookup = cases_by_name(suites_by_name(path)["scenarios/lookup.yaml"])
    (error,) = lookup["lookup-crash"].result
    assert isinstance(error, Error)
    assert error.type == "crashed"
    assert error.message == "agent raised KeyError"
    assert error.text.startswith("scenarios/lookup.yaml:1: agent raised KeyError")
    assert "KeyError: 'order'" in error.text
    (skipped,) = lookup["lookup-later"].result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "tagged slow"


def test_error_without_stop_uses_the_tool_error_class(tmp_path):
    result = make_result(0, "flaky", Outcome.ERROR, message="tool kept failing", checks=[])
    path, _ = write_report(tmp_path, [result], strict=True)
    (error,) = cases_by_name(suites_by_name(path)["scenarios/refunds.yaml"])["flaky"].result
    assert error.type == "RateLimited"


def test_gates_suite_has_a_testcase_per_gate(tmp_path, schema):
    path, _ = write_report(tmp_path, sample_results(), strict=True)
    schema.validate(str(path))
    gates = suites_by_name(path)[GATES_SUITE]
    assert (gates.tests, gates.failures) == (2, 1)
    cases = cases_by_name(gates)
    assert {c.classname for c in gates} == {"agentcheck.gates"}
    (failure,) = cases["release"].result
    assert failure.message == "pass rate 0.5 below 0.9"
    assert "min_pass_rate: 0.5 vs >= 0.9  FAILED" in failure.text
    assert "max_mean_cost_usd: 0.0012 vs <= 0.05  ok" in failure.text
    assert cases["smoke"].is_passed
    assert "max_failures: n/a vs <= 0" in cases["smoke"].system_out


def test_failed_gate_without_message_names_the_failing_metrics(tmp_path):
    gate = GateResult("cost", selected=3, passed=False, checks=[GateCheck("max_p95_cost_usd", 0.01, 0.02, False)])
    path, _ = write_report(tmp_path, sample_results(), strict=False, gates=[gate])
    (failure,) = cases_by_name(suites_by_name(path)[GATES_SUITE])["cost"].result
    assert failure.message == "gate 'cost' failed: max_p95_cost_usd"


def test_files_are_grouped_in_first_seen_order_even_when_not_contiguous(tmp_path, schema):
    results = [
        make_result(0, "a1", file="scenarios/a.yaml"),
        make_result(1, "b1", file="scenarios/b.yaml"),
        make_result(2, "a2", Outcome.FAILED, file="scenarios/a.yaml", message="nope", checks=[failed_check()]),
    ]
    path, _ = write_report(tmp_path, results, strict=True, order=[2, 1, 0])
    schema.validate(str(path))
    suites = list(JUnitXml.fromfile(str(path)))
    assert [s.name for s in suites[:2]] == ["scenarios/a.yaml", "scenarios/b.yaml"]
    assert [c.name for c in suites[0]] == ["a1", "a2"]
    assert (suites[0].tests, suites[0].failures) == (2, 1)


def test_times_have_at_most_three_decimals(tmp_path, schema):
    results = [make_result(0, duration_ms=1234.56789), make_result(1, duration_ms=0.0004),
               make_result(2, duration_ms=-5.0)]
    path, _ = write_report(tmp_path, results, strict=True)
    schema.validate(str(path))
    suite = suites_by_name(path)["scenarios/refunds.yaml"]
    assert [c._elem.get("time") for c in suite] == ["1.235", "0.000", "0.000"]
    assert suite._elem.get("time") == "1.235"
    assert JUnitXml.fromfile(str(path))._elem.get("time") == "0.523"


def test_absolute_scenario_paths_are_made_relative_to_the_project_root(tmp_path):
    result = make_result(0, "abs", file=str(tmp_path / "scenarios" / "deep" / "x.yml"))
    path, _ = write_report(tmp_path, [result], strict=False, gates=[])
    (suite,) = JUnitXml.fromfile(str(path))
    assert suite.name == "scenarios/deep/x.yml"
    (case,) = list(suite)
    assert case.classname == "scenarios.deep.x"
    assert case._elem.get("file") == "scenarios/deep/x.yml"


def test_odd_values_never_break_the_xml(tmp_path, schema):
    huge = "diff line\n" * 20_000  # ~200 KB
    results = [
        make_result(
            0, "odd\x00id", Outcome.FAILED, message="bad\x1b[31m thing\nsecond line",
            checks=[failed_check("weird.check", "msg \ufffe with <tags> & \"quotes\"", huge,
                                 expected=object(), actual={"nested": [1, None]})],
        ),
        make_result(1, "no-trace-error", Outcome.ERROR, message="", trace=False, checks=[]),
    ]
    for strict in (True, False):
        path, _ = write_report(tmp_path, results, strict=strict)
        if strict:
            schema.validate(str(path))
        cases = list(suites_by_name(path)["scenarios/refunds.yaml"])
        (failure,) = cases[0].result
        assert cases[0].name == "oddid"
        assert failure.message == "bad[31m thing second line"
        assert len(failure.text.encode("utf-8")) < 64 * 1024 + 200
        assert "[truncated:" in failure.text
        assert '<tags> & "quotes"' in failure.text
        (error,) = cases[1].result
        assert (error.type, error.message) == ("error", "error")


def test_empty_run_writes_a_valid_report(tmp_path, schema):
    log = ResultLog(tmp_path / "never-started.jsonl")
    summary = make_summary([])
    path = tmp_path / "junit.xml"
    reporter = JUnitReporter(path, log, strict=True, project_root=tmp_path)
    reporter.finish(summary)
    schema.validate(str(path))
    xml = JUnitXml.fromfile(str(path))
    assert [s.name for s in xml] == [GATES_SUITE]


def test_interrupted_run_is_marked_on_every_suite(tmp_path):
    path, _ = write_report(tmp_path, sample_results(), strict=False, interrupted=True)
    for suite in JUnitXml.fromfile(str(path)):
        if suite.name != GATES_SUITE:
            assert {p.name: p.value for p in suite.properties()}["agentcheck.interrupted"] == "true"


def test_write_is_atomic(tmp_path, monkeypatch):
    results = sample_results()
    log = fill_log(tmp_path / "results.jsonl", results)
    path = tmp_path / "junit.xml"
    path.write_text("previous report", encoding="utf-8")

    def boom(self, result, rel, name):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(junit_module.JUnitReporter, "_testcase", boom)
    summary = make_summary(results)
    with pytest.raises(RuntimeError):
        JUnitReporter(path, log, project_root=tmp_path).finish(summary)
    assert path.read_text(encoding="utf-8") == "previous report"
    assert "junit" not in summary.reports
    assert sorted(os.listdir(tmp_path)) == ["junit.xml", "results.jsonl"]


def test_stop_kind_types_every_error(tmp_path):
    stop = StopReason(StopKind.BUDGET_EXCEEDED, "max_tool_calls 5 reached", "cap 5, measured 6")
    result = make_result(0, "greedy", Outcome.ERROR, message="budget exceeded", stop=stop, checks=[])
    path, _ = write_report(tmp_path, [result], strict=False, gates=[])
    (suite,) = JUnitXml.fromfile(str(path))
    ((error,),) = [case.result for case in suite]
    assert error.type == "budget_exceeded"
    assert "stop: budget_exceeded: max_tool_calls 5 reached\ncap 5, measured 6" in error.text


def test_duplicate_names_in_a_suite_are_made_unique(tmp_path):
    results = [make_result(0, "same"), make_result(1, "same"), make_result(2, "same")]
    results[1].agent = "other-bot"
    path, _ = write_report(tmp_path, results, strict=True, gates=[])
    (suite,) = JUnitXml.fromfile(str(path))
    assert [c.name for c in suite] == ["same", "same [other-bot]", "same [support-bot]"]
    results[2].agent = "other-bot"
    path, _ = write_report(tmp_path, results, strict=False, gates=[])
    (suite,) = JUnitXml.fromfile(str(path))
    assert [c.name for c in suite] == ["same", "same [other-bot]", "same [other-bot] #2"]


def _early_mix() -> tuple[list, list]:
    """Results of every kind a run delivers, with the planned trials of each scenario: passing
    single-trial runs (rendered as they come) with awkward values, and the kinds read back at finish."""
    import dataclasses

    from report_helpers import make_trace, passed_check

    from agentcheck.verdict import PlannedScenario

    results = [
        make_result(0, "plain"),
        make_result(1, 'odd <name> & "quotes"\ttab', file="scenarios/odd & é.yaml", line=None),
        make_result(2, "no-trace", trace=False, duration_ms=float("inf")),
        make_result(3, "nan-cost", trace=make_trace("nan-cost", cost_usd=float("nan")), duration_ms=float("nan")),
        make_result(4, "twice"),  # the same id in the same file, against another agent: names collide
        make_result(5, "twice"),
        make_result(6, "twice [other-bot]"),  # a literal name the suffixed one would take
        make_result(7, "advisory", checks=[passed_check(), failed_check("output.tone", "curt", "", advisory=True)]),
        make_result(8, "fails", Outcome.FAILED, message="no", checks=[failed_check()]),
        make_result(9, "repeated", trial=1),
        make_result(9, "repeated", trial=2),
        make_result(10, "", file="/abs/elsewhere.yaml"),
        make_result(11, "big-int", trace=make_trace("big-int"), duration_ms=2),
        make_result(12, "agent-from-trace", duration_ms=0.0),
        # not plain JSON values: their round trip through the stream changes them, so they are read back
        make_result(13, "path-file"), make_result(14, "float-subclass"), make_result(15, "huge-line", line=2**64 + 1),
        make_result(16, "nan-id"),
        # planned once, delivered twice (a rejudged stream holds no trial counts): folded, as read back
        make_result(17, "more-than-planned", trial=1),
        make_result(17, "more-than-planned", Outcome.FAILED, trial=2, message="no", checks=[failed_check()]),
    ]
    results[14].file = Path("scenarios/refunds.yaml")  # type: ignore[assignment]
    results[15].trace.totals.cost_usd = type("Cost", (float,), {})(0.5)
    results[17].scenario_id = float("nan")  # type: ignore[assignment]
    results[13].agent = ""  # the testcase then names the trace's agent
    results[5].agent = "other-bot"
    results[5].trace = dataclasses.replace(results[5].trace, agent="other-bot")
    results[12].trace.totals.input_tokens = 2**70 + 1  # beyond orjson (its fallback encoder): read back
    trials = {9: 2}  # (17 is planned once)
    plan = [PlannedScenario(r.index, str(r.scenario_id), str(r.file), r.line, r.agent, r.tags, trials.get(r.index, 1))
            for r in results if r.trial == 1]
    return results, plan


@pytest.mark.parametrize("strict", [False, True])
def test_testcases_rendered_as_results_come_equal_those_read_back(tmp_path, strict, monkeypatch):
    """A run's passing single-trial results are rendered when they arrive, in finishing order, from the
    result object; the document is byte for byte the one rendered from the stream at finish, and only
    the others (advisory failures, failures, repeated trials, a name taken by another case) are read back."""
    from report_helpers import STARTED_AT

    from agentcheck.verdict import RunPlan

    results, planned = _early_mix()
    order = [11, 5, 0, 12, 3, 9, 13, 1, 7, 10, 2, 19, 6, 4, 8, 17, 14, 16, 18, 15]
    documents = {}
    for mode in ("read back", "as they come"):
        folder = tmp_path / mode
        folder.mkdir()
        log = fill_log(folder / "results.jsonl", results, order=order)
        path = folder / "junit.xml"
        reporter = JUnitReporter(path, log, strict=strict, project_root=tmp_path)
        read: list[int] = []
        original = log.iter_results

        def counted(*args, _original=original, _read=read, **kwargs):
            for data in _original(*args, **kwargs):
                _read.append(data["index"])
                yield data

        monkeypatch.setattr(log, "iter_results", counted)
        original_one = log.read_result
        monkeypatch.setattr(log, "read_result", lambda index, trial=1, _o=original_one, _read=read:
                            _read.append(index) or _o(index, trial))
        reporter.start(RunPlan(RUN_ID, STARTED_AT, str(tmp_path), str(folder), planned, 4))
        if mode == "as they come":
            for position in order:
                reporter.result(results[position])
        summary = make_summary(results)
        reporter.finish(summary)
        log.finish(summary)
        documents[mode] = path.read_bytes()
        if mode == "as they come":
            assert sorted(read) == [5, 6, 7, 8, 9, 9, 11, 13, 14, 15, 16, 17, 17]  # 0-4, 10, 12 never parsed
    assert documents["as they come"] == documents["read back"]
    cases = [case.name for suite in JUnitXml.fromfile(str(tmp_path / "as they come" / "junit.xml")) for case in suite]
    assert {"twice", "twice [other-bot]", "twice [other-bot] [support-bot]"} <= set(cases)
    assert "more-than-planned" in cases and "more-than-planned [trial 2]" not in cases  # one testcase, folded
    document = (tmp_path / "as they come" / "junit.xml").read_text()
    assert 'message="1/2 trials passed: no"' in document  # its failing trial is not lost


def test_a_reporter_started_again_forgets_a_run_that_never_finished(tmp_path):
    """A run refused mid-delivery ends without `finish`; the same reporter started for the next run
    must report only that run's results."""
    first = fill_log(tmp_path / "first.jsonl", [make_result(0, "old-pass")])
    reporter = JUnitReporter(tmp_path / "junit.xml", first, project_root=tmp_path)
    reporter.start(make_plan([make_result(0, "old-pass")], tmp_path))
    reporter.result(make_result(0, "old-pass"))  # rendered early; no finish follows
    new = [make_result(0, "new-fail", Outcome.FAILED, message="no", checks=[failed_check()])]
    reporter.log = fill_log(tmp_path / "second.jsonl", new)
    run_reporter(reporter, reporter.log, new, make_summary(new))
    cases = [case.name for suite in JUnitXml.fromfile(str(tmp_path / "junit.xml")) for case in suite]
    assert "new-fail" in cases and "old-pass" not in cases


def test_rendering_early_never_fails_the_run(tmp_path, monkeypatch):
    """Rendering a testcase as its result arrives is a shortcut: should it fail, the run goes on and
    the testcase is read back at finish like any other."""
    results = [make_result(0, "a"), make_result(1, "b")]
    log = fill_log(tmp_path / "results.jsonl", results)
    reporter = JUnitReporter(tmp_path / "junit.xml", log, project_root=tmp_path)
    original = JUnitReporter._testcase
    broken = {"on": True}

    def flaky(self, *args, **kwargs):
        if broken["on"]:
            raise OSError("no space left on the spool")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JUnitReporter, "_testcase", flaky)
    reporter.start(make_plan(results, tmp_path))
    for result in results:
        reporter.result(result)  # no exception reaches the runner
    broken["on"] = False
    summary = make_summary(results)
    reporter.finish(summary)
    log.finish(summary)
    assert sorted(case.name for suite in JUnitXml.fromfile(str(tmp_path / "junit.xml")) for case in suite
                  if case.classname != "agentcheck.gates") == ["a", "b"]


@pytest.mark.parametrize("strict", [False, True])
def test_the_example_suites_junit_is_the_same_rendered_early_or_read_back(tmp_path, monkeypatch, strict):
    """The example project run for real (trials, drills, LLM cassettes, a policy, deliberate failures),
    with a second JUnit reporter on the same results stream that renders nothing early: the two
    documents are identical, byte for byte."""
    from e2e_helpers import copy_example

    from agentcheck import session
    from agentcheck.session import RunOptions, run

    class ReadBack(JUnitReporter):
        def result(self, result):  # render nothing early: everything is read back at finish
            pass

    original = session._file_reporters

    def both(project, options, log):
        reporters = original(project, options, log)
        return [*reporters, ReadBack(tmp_path / "read-back.xml", log, strict=strict, project_root=project.root)]

    monkeypatch.setattr(session, "_file_reporters", both)
    example = tmp_path / "example"
    example.mkdir()
    copy_example(example)
    for name, options in (("suite", {"drills": ["throttle", "injection"]}), ("trials", {"trials": 2}),
                          ("failures", {"tags": ["demo-failure"]})):
        early = tmp_path / f"{name}.xml"
        run(RunOptions(cwd=example, junit_path=early, json_path=False, junit_strict=strict, **options))
        assert early.read_bytes() == (tmp_path / "read-back.xml").read_bytes()
        assert b"<testcase" in early.read_bytes()


def test_errored_trials_are_surefire_errors_and_come_after_the_failures():
    from agentcheck.report.junit_trials import extra_failures

    trials = [{"trial": 1, "outcome": "failed", "message": "wrong", "representative": True},
              {"trial": 2, "outcome": "error", "message": "timeout"},
              {"trial": 3, "outcome": "failed", "message": "wrong again"},
              {"trial": 4, "outcome": "passed"}]
    assert extra_failures({"outcome": "failed", "trials": trials}) == [
        ("rerunFailure", "trial 3: wrong again", "failed"), ("rerunError", "trial 2: timeout", "error")]
    passed = [{"trial": 1, "outcome": "passed", "representative": True}, {"trial": 2, "outcome": "error"}]
    assert extra_failures({"outcome": "passed", "trials": passed}) == [("flakyError", "trial 2: error", "error")]
