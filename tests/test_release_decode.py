"""Saved results decode back into the same domain objects (the one decoder rejudge, merge and compare
share), and RunMetrics read straight from JSON equal those of the decoded result."""

from __future__ import annotations

from report_helpers import sample_results

from agentcheck.release.decode import metrics_from_data, result_from_data
from agentcheck.reliability import RESULTS_SCHEMA
from agentcheck.report.json_report import SCHEMA
from agentcheck.serialize import to_data
from agentcheck.verdict import RunMetrics


def test_results_round_trip_through_json():
    for result in sample_results():
        data = to_data(result)
        decoded = result_from_data(data)
        assert to_data(decoded) == data
        assert decoded == result


def test_metrics_from_json_equal_metrics_of_the_decoded_result():
    for result in sample_results():
        assert metrics_from_data(to_data(result)) == RunMetrics.of(result)


def test_unknown_fields_are_ignored():
    data = to_data(sample_results()[1])
    data["from_a_later_version"] = 1
    data["trace"]["events"][0]["new_field"] = "x"
    assert result_from_data(data) == sample_results()[1]


def test_the_schema_names_agree():
    assert RESULTS_SCHEMA == SCHEMA


def test_odd_totals_and_events_are_left_out_alike_by_both_readers():
    """A hand-made file's totals that are not an object, or events that are not events, neither crash
    the numbers nor the decoded trace: both leave them out, and agree."""
    base = to_data(sample_results()[0])
    for totals, events in (([1, 2], None), ("abc", []), (None, ["not an event", 5]), (None, {"kind": "x"})):
        data = {**base, "trace": {**base["trace"]}}
        if totals is not None:
            data["trace"]["totals"] = totals
        if events is not None:
            data["trace"]["events"] = events
        metrics = metrics_from_data(data)
        assert metrics == RunMetrics.of(result_from_data(data))
        assert metrics.tool_calls == (0 if totals is not None else base["trace"]["totals"]["tool_calls"])
        if events is not None:
            assert metrics.shape == () and result_from_data(data).trace.events == []  # type: ignore[union-attr]


def test_a_junit_time_of_negative_zero_reads_zero():
    """junit-10.xsd's time has no sign: -0.0 (max(-0.0, 0.0) is -0.0) is written as 0.000, like any
    negative duration, by the general writer and the usual testcase's lane alike."""
    from agentcheck.report.junit_xml import passing_case, quoted, seconds

    assert seconds(-0.0) == seconds(-5.0) == "0.000" and seconds(1234.5) == "1.234"
    data = to_data(sample_results()[0])
    data.update(outcome="passed", duration_ms=-0.0, checks=[])
    case = passing_case(data, "n", quoted("c"), quoted("f"))
    assert case is not None and 'time="0.000"' in case


def test_an_index_or_trial_that_is_no_number_reads_as_the_default():
    data = {**to_data(sample_results()[0]), "index": "a,b", "trial": "first"}
    metrics = metrics_from_data(data)
    assert (metrics.index, metrics.trial) == (0, 1) and metrics == RunMetrics.of(result_from_data(data))
    assert result_from_data({**data, "index": "7"}).index == 7  # (a number as text still reads as before)
    assert metrics_from_data({**data, "trial": 3}).trial == 3
