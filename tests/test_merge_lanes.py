"""Merge's one-call lanes for the usual result (a plain passing single-trial run) give exactly what the
general code gives, for the usual values and for every odd one that must leave the lane."""

from __future__ import annotations

import copy
import dataclasses
import io
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentcheck.release import trials
from agentcheck.release.decode import metrics_from_data
from agentcheck.report import console as console_module
from agentcheck.report import junit_xml
from agentcheck.report.junit import JUnitReporter
from agentcheck.report.stream import ResultLog
from agentcheck.serialize import dumps_bytes


def _data(**changes: Any) -> dict[str, Any]:
    """A saved passing result as merge reads it from a shard (JSON data); `changes` by dotted path."""
    from report_helpers import make_result

    data = orjson.loads(dumps_bytes(make_result(3, "refund-ok")))
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[key]
        if value is _DROP:
            target.pop(last, None)
        else:
            target[last] = value
    return data


_DROP = object()

ODD_VALUES: list[tuple[str, Any]] = [
    ("outcome", "failed"), ("outcome", "error"), ("outcome", "skipped"), ("outcome", None), ("outcome", 1),
    ("trials", [{"trial": 1, "outcome": "passed", "message": "", "duration_ms": 1.0, "trace_id": "t",
                 "representative": True}]),
    ("checks", [{"check": "output.contains", "passed": False, "advisory": True, "message": "soft"}]),
    ("checks", [{"check": "x", "passed": True, "advisory": True}]), ("checks", None), ("checks", _DROP),
    ("checks", "nonsense"), ("checks", ["nonsense"]),
    ("trace", None), ("trace", _DROP), ("trace.totals", None), ("trace.totals", []),
    ("trace.trace_id", None), ("trace.trace_id", 12), ("trace.trace_id", 'q"<&>'), ("trace.trace_id", "t\tab"),
    ("agent", ""), ("agent", None), ("agent", "a&b"), ("agent", "é 中"), ("agent", "nul\x00"),
    ("trace.agent", None), ("trace.agent", "<t>"),
    ("trace.totals.cost_usd", 1), ("trace.totals.cost_usd", None), ("trace.totals.cost_usd", float("nan")),
    ("trace.totals.cost_usd", float("inf")), ("trace.totals.cost_usd", -0.0), ("trace.totals.cost_usd", 1e-9),
    ("trace.totals.cost_usd", "0.5"), ("trace.totals.input_tokens", 1.5), ("trace.totals.input_tokens", True),
    ("trace.totals.input_tokens", None), ("trace.totals.output_tokens", -3), ("trace.totals.tool_calls", 2**70),
    ("trace.totals.tool_calls", 1), ("trace.totals.tool_calls", 0), ("trace.totals.tool_calls", 99),
    ("trace.totals.tool_calls", 2.0), ("trace.totals.tool_calls", False),
    ("trace.totals.tool_calls", True), ("trace.totals.tool_calls", _DROP),
    ("duration_ms", 0), ("duration_ms", 1234), ("duration_ms", -5.0), ("duration_ms", -0.0), ("duration_ms", None),
    ("duration_ms", float("nan")), ("duration_ms", 1e300), ("duration_ms", 0.0005), ("duration_ms", 1.5e6),
    ("line", None), ("line", True), ("line", 2.0), ("line", "7"), ("line", 0), ("line", _DROP),
    ("scenario_id", "q\"uote & <tag>"), ("scenario_id", "tab\there"), ("scenario_id", "bell\x07"),
    ("scenario_id", "wide 中🎉"), ("scenario_id", "zero\u200bwidth"), ("scenario_id", ""), ("scenario_id", None),
    ("scenario_id", 5), ("trial", 2), ("trial", True), ("trial", None), ("trial", 1.0), ("trial", _DROP),
    ("file", "scenarios/we\"ird & <x>.yaml"), ("file", None), ("file", "/abs/outside.yaml"),
]


def _cases() -> list[dict[str, Any]]:
    cases = [_data()]
    cases += [_data(**{path: value}) for path, value in ODD_VALUES]
    cases += [_data(**{a[0]: a[1], b[0]: b[1]}) for a, b in itertools.combinations(ODD_VALUES[::5], 2)
              if a[0] != b[0] and not a[0].startswith(b[0] + ".") and not b[0].startswith(a[0] + ".")]
    return cases


@pytest.mark.parametrize("strict", [False, True])
def test_junit_usual_testcase_is_the_general_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      strict: bool):
    reporter = JUnitReporter(tmp_path / "j.xml", ResultLog(tmp_path / "r.jsonl"), strict=strict,
                             project_root=tmp_path)
    cases = _cases()
    rels = ["scenarios/refunds.yaml", 'we"ird & <x>.yaml']
    fast = [reporter._testcase(copy.deepcopy(c), rel, name) for c in cases for rel in rels
            for name in ("refund-ok", "a&b", "x [agent b]")]
    took_lane = sum(junit_xml.passing_case(c, "n", "c", "r") is not None for c in cases)
    monkeypatch.setattr("agentcheck.report.junit.passing_case", lambda *a: None)
    general = [reporter._testcase(copy.deepcopy(c), rel, name) for c in cases for rel in rels
               for name in ("refund-ok", "a&b", "x [agent b]")]
    assert fast == general
    assert 5 < took_lane < len(cases) - 20  # both roads were taken


def test_console_usual_passed_line_is_the_general_line():
    from rich.console import Console

    from agentcheck.report.console import ConsoleReporter

    def lines(use_lane: bool) -> str:
        out = io.StringIO()
        reporter = ConsoleReporter(Console(file=out, width=160, soft_wrap=True, emoji=False), command="merge")
        reporter.console.print("start", markup=False, highlight=False)
        if not use_lane:
            reporter_module_lane = console_module.usual_passed_line
            console_module.usual_passed_line = lambda data: None  # type: ignore[assignment]
        try:
            valid = [c for c in _cases() if _decodes(c)]  # (the general line is printed from the decoded result)
            for data in [_data(scenario_id=f"pad{i}") for i in range(console_module.LARGE_SUITE + 2)] + valid:
                reporter.saved_scenario([data], None)  # type: ignore[arg-type]
            reporter._drain()
        finally:
            if not use_lane:
                console_module.usual_passed_line = reporter_module_lane  # type: ignore[assignment]
        return out.getvalue()

    assert lines(True) == lines(False)
    assert sum(console_module.usual_passed_line(c) is not None for c in _cases()) > 5


def _decodes(data: dict[str, Any]) -> bool:
    from agentcheck.release.decode import result_from_data

    try:
        result_from_data(copy.deepcopy(data))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


@pytest.mark.parametrize("outcome", ["passed", "failed", "error", "skipped"])
@pytest.mark.parametrize("required", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("changes", [{}, {"trace.totals.cost_usd": 0.25}, {"message": "why it failed"},
                                     {"trace": None}, {"trace.events": []}])
@pytest.mark.parametrize("negative_zero", [False, True])
def test_single_run_stats_are_the_accumulated_stats(outcome: str, required: float, changes: dict[str, Any],
                                                   negative_zero: bool):
    metrics = metrics_from_data(_data(outcome=outcome, **changes))
    if negative_zero:  # (a live run's totals can hold -0.0; JSON data cannot bring it here)
        metrics = dataclasses.replace(metrics, cost_usd=-0.0, latency_s=-0.0)
    acc = trials._Acc(metrics)
    acc.add(metrics)
    expected = trials.stats_of(acc, required)
    got = trials.fold_runs([metrics], required)
    assert got == expected
    assert repr(got) == repr(expected)  # -0.0 and 0.0 compare equal; their JSON differs
