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
