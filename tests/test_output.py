"""Output judging: one check per assertion item, JSON-typed equality, and messages that quote the output."""

from __future__ import annotations

from typing import Any

from agentcheck.calls import format_call
from agentcheck.judge.explain import excerpt, format_expected_call, minimal_diff
from agentcheck.judge.output import judge_output
from agentcheck.matchers import ArgMode, compile_matcher
from agentcheck.scenario import OutputExpectations
from agentcheck.verdict import CheckResult


def run(output: Any, **expect: Any) -> list[CheckResult]:
    return judge_output(OutputExpectations(**expect), output)


def only(output: Any, **expect: Any) -> CheckResult:
    (check,) = run(output, **expect)
    return check


def test_no_assertions_no_checks() -> None:
    assert run("anything") == []


def test_one_check_per_needle_names_the_missing_one() -> None:
    checks = run("Your refund R-17 is on its way", contains=("REFUND", "r-17", "voucher"))
    assert [(c.check, c.passed) for c in checks] == [
        ("output.contains", True),
        ("output.contains", True),
        ("output.contains", False),
    ]
    assert checks[2].message == 'output does not contain "voucher": "Your refund R-17 is on its way"'
    assert checks[2].expected == "voucher"


def test_case_sensitive_contains() -> None:
    assert not only("Refund issued", contains=("refund",), case_sensitive=True).passed
    assert only("Refund issued", contains=("Refund",), case_sensitive=True).passed


def test_long_output_is_quoted_as_a_short_excerpt() -> None:
    check = only("x" * 1000, contains=("needle",))
    quoted = check.message.split(": ", 1)[1]
    assert len(quoted) < 210 and quoted.endswith('…"')


def test_newlines_stay_on_one_line_in_the_message() -> None:
    check = only("line one\nline two", contains=("three",))
    assert "\n" not in check.message and "line one\\nline two" in check.message


def test_not_contains_quotes_around_the_hit() -> None:
    text = "a" * 500 + " password reset sent " + "b" * 500
    check = only(text, not_contains=("PASSWORD",))
    assert check.check == "output.not_contains" and not check.passed
    assert check.message.startswith('output contains forbidden "PASSWORD" at character 501: "…')
    assert "password reset sent" in check.message
    assert only("all clear", not_contains=("password",)).passed


def test_regex_uses_search_and_checks_each_pattern() -> None:
    checks = run("Order A123 refunded", regex=(r"A\d{3}", r"^Order", r"^refunded"))
    assert [c.passed for c in checks] == [True, True, False]
    assert checks[0].message == 'output matches /A\\d{3}/ at "A123"'
    assert checks[2].message == 'output does not match /^refunded/: "Order A123 refunded"'


def test_invalid_regex_fails_with_a_reason() -> None:
    check = only("text", regex=("(",))
    assert not check.passed and check.message.startswith("invalid regular expression /(/")


def test_structured_output_is_read_as_compact_sorted_json_for_text_checks() -> None:
    output = {"z": 1, "city": "café", "ok": True}
    checks = run(output, contains=('"city": "café"', '"ok": true'), regex=(r'^\{"city"',))
    assert all(c.passed for c in checks)


def test_equals_string() -> None:
    assert only("done", equals="done", has_equals=True).passed
    check = only("Done.", equals="done", has_equals=True)
    assert not check.passed and check.check == "output.equals"
    assert check.message == 'output does not equal the expected value: (value): expected "done", got "Done."'


def test_equals_multiline_string_shows_a_line_diff() -> None:
    check = only("a\nb\nc", equals="a\nB\nc", has_equals=True)
    assert "-B" in check.explanation.splitlines() and "+b" in check.explanation.splitlines()


def test_equals_is_json_typed() -> None:
    assert only({"n": 1.0, "xs": [1, 2]}, equals={"xs": [1, 2], "n": 1}, has_equals=True).passed
    check = only({"ok": 1}, equals={"ok": True}, has_equals=True)
    assert not check.passed
    assert "ok: expected true, got 1" in check.explanation.splitlines()
    assert not only("1", equals=1, has_equals=True).passed  # text "1" is not the number 1


def test_equals_reads_json_text_when_data_is_expected() -> None:
    assert only('{"a": [1, 2]}', equals={"a": [1, 2]}, has_equals=True).passed
    assert not only("not json", equals={"a": 1}, has_equals=True).passed


def test_equals_null_is_an_assertion() -> None:
    assert only(None, equals=None, has_equals=True).passed
    assert not only("", equals=None, has_equals=True).passed


def test_equals_diff_names_each_difference() -> None:
    check = only(
        {"id": "A1", "items": [1, 3], "note": "x"},
        equals={"id": "A1", "items": [1, 2], "total": 5},
        has_equals=True,
    )
    assert check.message == "output does not equal the expected value: items[1]: expected 2, got 3"
    lines = check.explanation.splitlines()
    assert lines[0] == 'expected: {"id": "A1", "items": [1, 2], "total": 5}'
    assert 'note: unexpected key, got "x"' in lines
    assert "total: missing key (expected 5)" in lines


SCHEMA = {
    "type": "object",
    "required": ["refund_id", "amount"],
    "properties": {"refund_id": {"type": "string"}, "amount": {"type": "number", "maximum": 42}},
}


def test_json_schema_valid_dict_and_json_text() -> None:
    assert only({"refund_id": "R1", "amount": 10}, json_schema=SCHEMA).passed
    assert only('{"refund_id": "R1", "amount": 10}', json_schema=SCHEMA).passed


def test_json_schema_failure_names_the_path() -> None:
    check = only({"refund_id": "R1", "amount": 50}, json_schema=SCHEMA)
    assert check.check == "output.json_schema" and not check.passed
    assert check.message == "output does not match the JSON schema at $.amount: 50 is greater than the maximum of 42"
    both = only({"amount": "x"}, json_schema=SCHEMA)
    assert "$.amount: 'x' is not of type 'number'" in both.explanation.splitlines()
    assert "$: 'refund_id' is a required property" in both.explanation.splitlines()


def test_json_schema_on_text_that_is_not_json() -> None:
    check = only("Sure! Here is your refund.", json_schema=SCHEMA)
    assert not check.passed and check.message.startswith("output is not JSON (")
    assert check.message.endswith('"Sure! Here is your refund."')


def test_checks_come_in_the_order_written() -> None:
    checks = run(
        '{"a": 1}', contains=("a",), not_contains=("b",), regex=("1",), equals={"a": 1}, has_equals=True,
        json_schema={"type": "object"},
    )  # fmt: skip
    assert [c.check for c in checks] == [
        "output.contains",
        "output.not_contains",
        "output.regex",
        "output.equals",
        "output.json_schema",
    ]
    assert all(c.passed for c in checks)


# --- shared explanation helpers --------------------------------------------------------------------


def test_call_signatures() -> None:
    assert format_call("issue_refund", {"order_id": "A9", "amount": 50.0}) == 'issue_refund(order_id="A9", amount=50.0)'
    assert format_call("ping", None) == "ping()"
    assert format_call("raw", "text") == 'raw("text")'
    spec = {"order_id": "A123", "amount": {"$lte": 42.0}, "kind": {"$in": ["a"]}, "x": {"$absent": True}}
    assert format_expected_call("issue_refund", compile_matcher(spec)) == (
        'issue_refund(order_id="A123", amount<=42.0, kind in ["a"], x=<absent>)'
    )
    assert format_expected_call("f", None) == "f(...)"
    assert format_expected_call("f", compile_matcher({"a": 1}, ArgMode.IGNORE)) == "f(...)"
    assert format_expected_call("f", compile_matcher({"$exact": {"a": {"$regex": "^x"}}})) == "f(a~/^x/)"


def test_excerpt_window() -> None:
    assert excerpt("short") == "short"
    text = "".join(str(i % 10) for i in range(1000))
    assert excerpt(text, 20) == text[:19] + "…"
    window = excerpt(text, 20, around=500)
    assert window.startswith("…") and window.endswith("…") and text[490:510] in window


def test_minimal_diff_ignores_int_float_but_not_bool() -> None:
    assert minimal_diff({"a": 1, "b": [1]}, {"a": 1.0, "b": [1.0]}) == []
    assert minimal_diff([True], [1]) == ["[0]: expected true, got 1"]
