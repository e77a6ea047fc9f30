"""The usual-run view (agentcheck.release.result_view) reads a saved result as parsing it whole does,
for everything merge takes from it: its RunMetrics and the readers' usual shares; anything it cannot
read alike is left to the whole parse."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_merge_lanes import _cases, _data

from agentcheck.release.decode import metrics_from_data
from agentcheck.release.result_view import view_of
from agentcheck.report.console import ConsoleReporter
from agentcheck.report.junit import JUnitReporter
from agentcheck.report.stream import ResultLog
from agentcheck.serialize import dumps_bytes

HANDOFF = frozenset({"issue_refund", "escalate"})

_EVENT_ODDITIES: list[tuple[str, Any]] = [
    ("tool", 7), ("tool", None), ("tool", "escalate"), ("status", "error"), ("status", None), ("status", 3),
    ("policy", {"decision": "blocked", "rule": "r"}), ("policy", {"decision": 1}), ("policy", "blocked"),
    ("policy", []), ("kind", "model_call"), ("kind", None), ("route", 5), ("model", ["m"]),
    ("args", {"deep": [[[{"x": 2**70}]]]}), ("unknown_field", {"a": [1, 2]}),
]


def _more_cases() -> list[dict[str, Any]]:
    """Odd values in the fields the view types (events, checks, tags, numbers) that the lanes' own
    cases do not vary."""
    cases: list[dict[str, Any]] = []
    for key, value in _EVENT_ODDITIES:
        data = _data()
        data["trace"]["events"][0][key] = value
        cases.append(data)
    for events in (None, "x", [None], [], [{"kind": "model_call", "model": "m", "route": None}]):
        data = _data()
        data["trace"]["events"] = events
        cases.append(data)
    for checks in ([{"check": "injection.goal", "passed": False}], [{"check": 5, "passed": True}],
                   [{"check": "x", "passed": 1}], [{"check": "x", "passed": True, "advisory": None}]):
        cases.append(_data(checks=checks))
    for tags in (["a", 1], "a", None, [], ["injection", "x"]):
        cases.append(_data(tags=tags))
    for key, value in (("message", 5), ("message", None), ("index", "3"), ("index", 2.5), ("agent", 1),
                       ("trace.agent_version", 2), ("trace.agent_version", None), ("trace.totals.wall_time_ms", "1"),
                       ("trace.totals.wall_time_ms", None), ("trace.output", {"big": "x" * 5000}),
                       ("trace.totals.input_tokens", 2**62), ("trace.totals.cost_usd", 10**18)):
        cases.append(_data(**{key: value}))
    return cases


def _readers(tmp_path: Path) -> tuple[JUnitReporter, ConsoleReporter]:
    return JUnitReporter(tmp_path / "j.xml", ResultLog(tmp_path / "r.jsonl"), project_root=tmp_path), ConsoleReporter()


def test_the_view_reads_each_result_as_the_whole_parse_does(tmp_path: Path):
    """Whenever a result's text decodes into its view, its metrics and the readers' usual shares are
    those of the whole parse (or the readers ask for the whole parse)."""
    junit, console = _readers(tmp_path)
    viewed = lanes = 0
    for data in _cases() + _more_cases():
        text = dumps_bytes(data)  # (json's, for integers past 64 bits)
        whole = orjson.loads(text)
        view = view_of(text)
        if view is None:
            continue
        viewed += 1
        assert repr(metrics_from_data(view, HANDOFF)) == repr(metrics_from_data(copy.deepcopy(whole), HANDOFF)), text
        for reader in (junit, console):
            usual = reader.prepare_usual(copy.deepcopy(view))
            if usual is not None:
                lanes += 1
                assert usual == reader.prepare_saved(copy.deepcopy(whole)), text
    assert viewed > 60 and lanes > 20  # (both roads taken)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))] or [path]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, (*path, i))] or [path]
    return [path]


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _has(value: Any, path: tuple[Any, ...]) -> bool:
    try:
        _get(value, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


@pytest.mark.parametrize("outcome", ["passed", "failed"])
def test_no_lane_reads_a_field_the_view_leaves_out(tmp_path: Path, outcome: str):
    """Every field of a saved result that the view does not hold can be anything at all: the metrics
    and the usual shares stay the same (a lane reading another field would make the view wrong)."""
    junit, console = _readers(tmp_path)
    data = _data(outcome=outcome)
    data["trace"]["events"][0]["args"] = {"order_id": "O1", "nested": {"deep": [1, 2]}}
    view = view_of(orjson.dumps(data))
    assert view is not None
    left_out = [path for path in _leaves(data) if not _has(view, path)]
    assert ("trace", "output") in left_out and ("trace", "events", 0, "result", "refund_id") not in _leaves(view)

    def seen(d: dict[str, Any]) -> tuple[str, Any, Any]:
        return (repr(metrics_from_data(copy.deepcopy(d), HANDOFF)), junit.prepare_usual(copy.deepcopy(d)),
                console.prepare_usual(copy.deepcopy(d)))

    before = seen(data)
    assert before[1] is not None if outcome == "passed" else before[1] is None
    for path in left_out:
        for odd in ({"odd": [1, None]}, None, "x", 2**80):
            changed = copy.deepcopy(data)
            *parents, last = path
            _get(changed, tuple(parents))[last] = odd
            assert seen(changed) == before, path


@pytest.mark.parametrize("number", [2**63, 2**64, -(2**63) - 1, 10**30])
def test_an_integer_orjson_may_read_otherwise_is_left_to_the_whole_parse(number: int):
    """Past 64 bits orjson reads an integer as a float, msgspec as an integer: such a result (from
    2**63 on, to keep to what both read alike) is not viewed, so it reads as it always did."""
    text = re.sub(rb'"tool_calls":\d+', b'"tool_calls":%d' % number, orjson.dumps(_data()), count=1)
    read = orjson.loads(text)["trace"]["totals"]["tool_calls"]
    assert type(read) is (int if -(2**63) <= number < 2**64 else float)
    assert view_of(text) is None
    assert view_of(orjson.dumps(_data())) is not None


def test_text_that_is_not_a_usual_run_has_no_view():
    nested = b'{"index":0,"scenario_id":"s","trace":{"events":[{"args":' + b"[" * 1100 + b"]" * 1100 + b"}]}}"
    for text in (b"not json", b"[1, 2]", b'{"index": 1,}', b'{"outcome": "\xff"}', b'{"index":0}x', nested,
                 b'{"scenario_id": "s", "trace": null}', b'{"checks": [1]}'):
        assert view_of(text) is None, text
    with pytest.raises(orjson.JSONDecodeError):  # (the whole parse refuses it: merge says so, as before)
        orjson.loads(nested)
