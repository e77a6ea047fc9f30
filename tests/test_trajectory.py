"""Trajectory judging: each mode's verdict on tricky traces, and failure text a CI reader can act on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcheck.judge.trajectory import judge_tools, max_matching
from agentcheck.matchers import ArgMode, compile_matcher
from agentcheck.scenario import CallExpectation, ToolExpectations, TrajectoryMode
from agentcheck.trace import ToolCallEvent, ToolStatus
from agentcheck.verdict import CheckResult

ALL_MODES = list(TrajectoryMode)


def ev(step: int, tool: str, status: ToolStatus = ToolStatus.OK, **args: Any) -> ToolCallEvent:
    return ToolCallEvent(step=step, call_id=f"call_{step}", tool=tool, args=args, status=status)


def want(tool: str, args: Any = None, mode: ArgMode = ArgMode.PARTIAL) -> CallExpectation:
    return CallExpectation(tool, None if args is None else compile_matcher(args, mode))


def judge(mode: TrajectoryMode, expected: list[CallExpectation], calls: list[ToolCallEvent]) -> CheckResult:
    (check,) = judge_tools(ToolExpectations(mode=mode, calls=tuple(expected)), calls)
    assert check.check == f"tools.{mode}"
    json.dumps([check.expected, check.actual])  # reports serialise these
    return check


LOOKUP = want("lookup_order", {"order_id": "A123"})
REFUND = want("issue_refund", {"order_id": "A123", "amount": {"$lte": 42.0}})


# --- verdict tables --------------------------------------------------------------------------------

# (expected, actual tools/args, {mode: passes})
F1, F12 = want("f", {"a": 1}), want("f", {"a": 1, "b": 2})
CASES: list[tuple[str, list[CallExpectation], list[ToolCallEvent], set[TrajectoryMode]]] = [
    ("empty vs empty", [], [], set(ALL_MODES)),
    ("empty vs some", [], [ev(1, "f")], {TrajectoryMode.ORDERED, TrajectoryMode.SUPERSET}),
    ("some vs empty", [want("f")], [], {TrajectoryMode.SUBSET}),
    ("identical", [want("f"), want("g")], [ev(1, "f"), ev(2, "g")], set(ALL_MODES)),
    (
        "swapped",
        [want("f"), want("g")],
        [ev(1, "g"), ev(2, "f")],
        {TrajectoryMode.UNORDERED, TrajectoryMode.SUPERSET, TrajectoryMode.SUBSET},
    ),
    (
        "extra call in between",
        [want("f"), want("g")],
        [ev(1, "f"), ev(2, "x"), ev(3, "g")],
        {TrajectoryMode.ORDERED, TrajectoryMode.SUPERSET},
    ),
    (
        "duplicate expected, one actual",
        [want("f"), want("f")],
        [ev(1, "f")],
        {TrajectoryMode.SUBSET},
    ),
    (
        "one expected, duplicate actual",
        [want("f")],
        [ev(1, "f"), ev(2, "f")],
        {TrajectoryMode.ORDERED, TrajectoryMode.SUPERSET},
    ),
    (
        "duplicates counted one for one",
        [want("f"), want("f")],
        [ev(1, "f"), ev(2, "g"), ev(3, "f")],
        {TrajectoryMode.ORDERED, TrajectoryMode.SUPERSET},
    ),
    (
        # LangChain's first-come pairing fails this: f(a=1) grabs the only call f(a=1,b=2) can take.
        "loose expectation must not steal",
        [F1, F12],
        [ev(1, "f", a=1, b=2), ev(2, "f", a=1)],
        {TrajectoryMode.UNORDERED, TrajectoryMode.SUPERSET, TrajectoryMode.SUBSET},
    ),
    (
        "loose first in order",
        [want("f"), F12],
        [ev(1, "f", a=1, b=2), ev(2, "f", a=1, b=2)],
        set(ALL_MODES),
    ),
    (
        "errored calls still count",
        [want("f")],
        [ev(1, "f", status=ToolStatus.ERROR)],
        set(ALL_MODES),
    ),
    (
        "nested args",
        [want("f", {"order": {"lines": [{"sku": "A"}]}})],
        [ev(1, "f", order={"id": 1, "lines": [{"sku": "A", "qty": 2}]})],
        set(ALL_MODES),
    ),
    (
        "nested args differ",
        [want("f", {"order": {"lines": [{"sku": "A"}]}})],
        [ev(1, "f", order={"lines": [{"sku": "B"}]})],
        set(),
    ),
]


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize(("name", "expected", "calls", "passing"), CASES, ids=[c[0] for c in CASES])
def test_verdicts(
    mode: TrajectoryMode,
    name: str,
    expected: list[CallExpectation],
    calls: list[ToolCallEvent],
    passing: set[TrajectoryMode],
) -> None:
    check = judge(mode, expected, calls)
    assert check.passed is (mode in passing), check.message


DOC_TABLE = {  # docs/matching.md, "Trajectory modes": actual tools -> strict, ordered, unordered, superset, subset
    ("lookup_order", "issue_refund"): "PPPPP",
    ("lookup_order", "send_email", "issue_refund"): "FPFPF",
    ("issue_refund", "lookup_order"): "FFPPP",
    ("lookup_order",): "FFFFP",
}


@pytest.mark.parametrize(("tools", "verdicts"), DOC_TABLE.items())
def test_the_documented_mode_table(tools: tuple[str, ...], verdicts: str) -> None:
    modes = [TrajectoryMode(m) for m in ("strict", "ordered", "unordered", "superset", "subset")]
    calls = [ev(i + 1, tool) for i, tool in enumerate(tools)]
    got = "".join("P" if judge(m, [want("lookup_order"), want("issue_refund")], calls).passed else "F" for m in modes)
    assert got == verdicts


def test_argument_direction_never_flips_in_subset_mode() -> None:
    # The actual call lacks `b`; comparing the expected args against the actual ones would pass.
    assert not judge(TrajectoryMode.SUBSET, [F12], [ev(1, "f", a=1)]).passed
    assert judge(TrajectoryMode.SUBSET, [F1], [ev(1, "f", a=1, b=2)]).passed


def test_exact_args_apply_inside_unordered_mode() -> None:
    exact = [want("f", {"a": 1}, ArgMode.EXACT)]
    assert not judge(TrajectoryMode.UNORDERED, exact, [ev(1, "f", a=1, b=2)]).passed


def test_ignored_args_match_any_arguments() -> None:
    check = judge(TrajectoryMode.STRICT, [want("f")], [ev(1, "f", anything=[1, 2])])
    assert check.passed


def test_max_matching_finds_the_matching_greedy_misses() -> None:
    edges = {(0, 0), (0, 1), (1, 0), (2, 1), (2, 2)}
    match = max_matching(3, 3, lambda r, c: (r, c) in edges)
    assert sorted(match) == [0, 1, 2]  # type: ignore[type-var]
    assert all((r, c) in edges for r, c in enumerate(match))


def test_max_matching_leaves_the_last_rows_unmatched() -> None:
    match = max_matching(3, 1, lambda r, c: True)
    assert match == [0, None, None]


# --- messages and explanations ---------------------------------------------------------------------

TRACE = [
    ev(1, "lookup_order", order_id="A123"),
    ev(2, "send_email", to="x@y.z"),
    ev(3, "issue_refund", order_id="A9", amount=50.0),
]


def test_ordered_failure_names_expected_call_step_and_argument() -> None:
    check = judge(TrajectoryMode.ORDERED, [LOOKUP, REFUND], TRACE)
    assert not check.passed
    assert check.message.startswith(
        'expected call 2 issue_refund(order_id="A123", amount<=42.0) not found after step 1'
    )
    assert 'step 3: order_id: expected "A123", got "A9"; +1 more' in check.message
    assert (check.step, check.tool) == (3, "issue_refund")
    lines = check.explanation.splitlines()
    assert lines[:3] == [
        "expected calls (ordered):",
        '  ok 1. lookup_order(order_id="A123")  -> step 1',
        '  !! 2. issue_refund(order_id="A123", amount<=42.0)',
    ]
    assert '     step 3  issue_refund(order_id="A9", amount=50.0)' in lines
    assert 'nearest candidate for expected call 2: step 3 issue_refund(order_id="A9", amount=50.0)' in lines
    assert "  amount: expected <= 42.0, got 50.0" in lines


def test_ordered_failure_says_a_matching_call_came_too_early() -> None:
    refund = ev(1, "issue_refund", order_id="A123", amount=40)
    check = judge(TrajectoryMode.ORDERED, [LOOKUP, REFUND], [refund, ev(2, "lookup_order", order_id="A123")])
    assert check.message.startswith("expected call 2 issue_refund(") and "not found after step 2" in check.message
    assert "step 1 matches expected call 2, but it comes before step 2" in check.explanation


def test_first_expected_call_missing_has_no_after() -> None:
    check = judge(TrajectoryMode.ORDERED, [want("refund")], [ev(1, "issue_refund")])
    assert check.message == "expected call 1 refund(...) not found (refund was never called)"
    assert "refund was never called" in check.explanation
    assert check.step is None


def test_strict_failure_points_at_the_step_that_differs() -> None:
    check = judge(TrajectoryMode.STRICT, [LOOKUP, REFUND], TRACE)
    assert check.message.startswith(
        'expected call 2 issue_refund(order_id="A123", amount<=42.0) at step 2, got send_email(to="x@y.z")'
    )
    assert check.step == 2
    assert "  !! step 2  send_email" in check.explanation
    assert '  order_id: expected "A123", got "A9"' in check.explanation  # the later same-tool call


def test_strict_extra_and_missing_calls() -> None:
    extra = judge(TrajectoryMode.STRICT, [want("f")], [ev(1, "f"), ev(2, "f")])
    assert extra.message == "unexpected call at step 2: f() (expected 1 call in all)"
    assert extra.step == 2
    missing = judge(TrajectoryMode.STRICT, [want("f"), want("g")], [ev(1, "f")])
    assert missing.message == "expected call 2 g(...) but the agent made only 1 call (g was never called)"


def test_unordered_duplicate_shortfall_is_explained() -> None:
    check = judge(TrajectoryMode.UNORDERED, [F1, F1], [ev(1, "f", a=1), ev(2, "g")])
    assert check.message.startswith("expected call 2 f(a=1) has no matching call")
    assert "every f call is already matched by another expected call (1 made, at least 2 expected)" in (
        check.explanation
    )


def test_unordered_extra_call_is_blamed_on_its_step() -> None:
    check = judge(TrajectoryMode.UNORDERED, [F1], [ev(1, "f", a=1), ev(2, "f", a=2)])
    assert check.message == (
        "unexpected call at step 2: f(a=2) (not among the expected calls); vs expected call 1: a: expected 1, got 2"
    )
    assert (check.step, check.tool) == (2, "f")


def test_subset_extra_call_compares_actual_against_spec() -> None:
    check = judge(TrajectoryMode.SUBSET, [F12], [ev(4, "f", a=1)])
    assert check.message == (
        "unexpected call at step 4: f(a=1) (matches no expected call); vs expected call 1: b: missing key"
    )
    assert "closest expected call: 1. f(a=1, b=2)" in check.explanation


def test_superset_missing_call_shows_the_nearest_candidate() -> None:
    check = judge(TrajectoryMode.SUPERSET, [LOOKUP, REFUND], TRACE)
    assert check.message.startswith('expected call 2 issue_refund(order_id="A123", amount<=42.0) has no matching')
    assert check.step == 3
    assert "  amount: expected <= 42.0, got 50.0" in check.explanation.splitlines()


def test_nested_argument_path_reaches_the_message() -> None:
    check = judge(TrajectoryMode.ORDERED, CASES[-1][1], CASES[-1][2])
    assert 'order.lines[0].sku: expected "A", got "B"' in check.message


def test_order_ties_prefer_the_earliest_call() -> None:
    ordered = judge(TrajectoryMode.ORDERED, [F1], [ev(1, "f", a=1), ev(2, "f", a=1)])
    assert ordered.passed
    # Two equally near candidates: the earlier one is shown.
    check = judge(TrajectoryMode.SUPERSET, [want("f", {"a": 3})], [ev(1, "f", a=1), ev(2, "f", a=2)])
    assert "nearest candidate for expected call 1: step 1 f(a=1)" in check.explanation


def test_errored_calls_are_marked_in_the_listing() -> None:
    check = judge(TrajectoryMode.STRICT, [want("g")], [ev(1, "f", status=ToolStatus.ERROR)])
    assert "step 1  f()  [error]" in check.explanation


def test_passing_messages_are_short_summaries() -> None:
    calls = [ev(1, "lookup_order", order_id="A123"), ev(2, "x"), ev(3, "issue_refund", order_id="A123", amount=1)]
    assert judge(TrajectoryMode.ORDERED, [LOOKUP, REFUND], calls).message == (
        "2 expected calls matched in order (3 calls made)"
    )
    assert judge(TrajectoryMode.SUPERSET, [LOOKUP], calls).message == "1 expected call matched (2 other calls)"
    assert judge(TrajectoryMode.STRICT, [], []).explanation == ""


def test_long_traces_are_listed_with_a_cap() -> None:
    calls = [ev(i, "f", i=i) for i in range(1, 101)]
    check = judge(TrajectoryMode.STRICT, [want("g")], calls)
    assert "  … 75 more" in check.explanation
    assert len(check.explanation.splitlines()) < 40


# --- not_called, counts, calls=None ----------------------------------------------------------------


def test_not_called_lists_every_offending_step() -> None:
    calls = [ev(1, "delete"), ev(2, "f"), ev(3, "delete"), ev(4, "wipe")]
    (check,) = judge_tools(ToolExpectations(not_called=("delete", "wipe", "drop")), calls)
    assert check.check == "tools.not_called" and not check.passed
    assert check.message == "forbidden tools called: delete at steps 1, 3; wipe at step 4"
    assert (check.step, check.tool) == (1, "delete")
    passing = judge_tools(ToolExpectations(not_called=("drop",)), calls)[0]
    assert passing.passed and passing.message == "not called: drop"


def test_counts_give_one_check_per_tool() -> None:
    calls = [ev(1, "search"), ev(2, "search"), ev(3, "search"), ev(4, "refund")]
    counts = {"search": compile_matcher({"$lte": 2}), "refund": compile_matcher(1), "x": compile_matcher(0)}
    checks = judge_tools(ToolExpectations(counts=counts), calls)
    assert [c.check for c in checks] == ["tools.count"] * 3
    assert [(c.tool, c.passed, c.actual) for c in checks] == [("search", False, 3), ("refund", True, 1), ("x", True, 0)]
    assert checks[0].message == "search called 3 times, expected <= 2"
    assert checks[0].explanation == "search calls at steps: 1, 2, 3"


def test_without_expected_calls_only_not_called_and_counts_are_judged() -> None:
    expect = ToolExpectations(calls=None, not_called=("x",), counts={"f": compile_matcher({"$gte": 1})})
    checks = judge_tools(expect, [ev(1, "f")])
    assert [c.check for c in checks] == ["tools.not_called", "tools.count"]
    assert judge_tools(ToolExpectations(), [ev(1, "f")]) == []


def test_ordered_missing_repeat_says_the_matching_call_is_taken():
    expect = ToolExpectations(
        mode=TrajectoryMode.ORDERED,
        calls=tuple(CallExpectation(t, compile_matcher({})) for t in ("get", "reply", "reply")),
    )
    [check] = judge_tools(expect, [ev(1, "get"), ev(2, "reply")])
    assert not check.passed
    assert check.message == "expected call 3 reply() not found after step 2"
    assert "step 2 matches expected call 3, but it is already taken by expected call 2" in check.explanation
