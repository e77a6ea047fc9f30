"""The matcher language: what each operator accepts, how modes compare objects, and how bad specs fail.

Matchers decide both which fixture answers a call and whether an expected call happened, so a wrong
edge here (True == 1, a missed extra key) silently changes verdicts everywhere.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from agentcheck.matchers import ArgMode, Matcher, MatcherError, compile_matcher


def ok(spec: Any, actual: Any, mode: ArgMode = ArgMode.PARTIAL) -> bool:
    matcher = compile_matcher(spec, mode)
    result = matcher.matches(actual)
    # The slow path must agree with the fast path, or explanations would contradict verdicts.
    assert (matcher.mismatches(actual) == []) is result
    return result


def why(spec: Any, actual: Any, mode: ArgMode = ArgMode.PARTIAL) -> list[str]:
    return compile_matcher(spec, mode).mismatches(actual)


def bad(spec: Any, mode: ArgMode = ArgMode.PARTIAL) -> MatcherError:
    with pytest.raises(MatcherError) as info:
        compile_matcher(spec, mode)
    return info.value


# --- JSON-typed equality ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "actual", "expected"),
    [
        (1, 1, True),
        (1, 1.0, True),
        (1.0, 1, True),
        (True, 1, False),
        (1, True, False),
        (0, False, False),
        (False, False, True),
        ("1", 1, False),
        (1, "1", False),
        (None, None, True),
        (None, 0, False),
        ("", None, False),
        ([1, 2], [1, 2], True),
        ([1, 2], [2, 1], False),
        ([1, 2], [1, 2, 3], False),
        ([True], [1], False),
    ],
)
def test_literals_compare_with_json_types(spec: Any, actual: Any, expected: bool) -> None:
    assert ok(spec, actual) is expected


def test_type_mismatch_is_said_out_loud() -> None:
    assert why({"id": 1}, {"id": "1"}) == ['id: expected 1, got "1" (string, not integer)']
    assert why({"ok": 1}, {"ok": True}) == ["ok: expected 1, got true (boolean, not integer)"]


# --- operators -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "actual", "expected"),
    [
        ({"$eq": 5}, 5.0, True),
        ({"$eq": {"a": [1]}}, {"a": [1]}, True),
        ({"$eq": {"a": 1}}, {"a": 1, "b": 2}, False),  # $eq is whole-value equality, never partial
        ({"$eq": 1}, True, False),
        ({"$ne": 1}, 2, True),
        ({"$ne": 1}, 1.0, False),
        ({"$ne": 1}, True, True),
        ({"$gt": 1}, 2, True),
        ({"$gt": 1}, 1, False),
        ({"$gte": 1}, 1, True),
        ({"$lt": 1}, 0.5, True),
        ({"$lt": 1}, 1, False),
        ({"$lte": 42.0}, 42, True),
        ({"$lte": 42.0}, 50.0, False),
        ({"$gte": 0}, True, False),  # bools are not numbers
        ({"$gte": 0}, "5", False),  # non-numbers simply do not match
        ({"$gte": 0}, None, False),
        ({"$gte": 1, "$lte": 5}, 3, True),  # several operators are ANDed
        ({"$gte": 1, "$lte": 5}, 6, False),
        ({"$in": ["a", "b"]}, "b", True),
        ({"$in": ["a", "b"]}, "c", False),
        ({"$in": [1, 2]}, True, False),
        ({"$in": [1, 2]}, 2.0, True),
        ({"$not_in": ["x"]}, "y", True),
        ({"$not_in": ["x"]}, "x", False),
        ({"$regex": r"^A\d+$"}, "A123", True),
        ({"$regex": r"\d"}, "abc1", True),  # re.search, not fullmatch
        ({"$regex": r"^A"}, "BA", False),
        ({"$regex": r"1"}, 1, False),  # only strings match a regex
        ({"$any": True}, None, True),
        ({"$any": True}, {"x": 1}, True),
        ({"$contains": "fund"}, "refund", True),
        ({"$contains": "Fund"}, "refund", False),
        ({"$contains": "b"}, ["a", "b"], True),
        ({"$contains": "b"}, ["a", "bb"], False),
        ({"$contains": {"sku": "X"}}, [{"sku": "X", "qty": 1}], True),  # element partial-matched
        ({"$contains": {"$gt": 10}}, [1, 20], True),
        ({"$contains": {"$gt": 10}}, [1, 2], False),
        ({"$contains": "a"}, 5, False),
        ({"$len": 2}, [1, 2], True),
        ({"$len": 2}, "ab", True),
        ({"$len": 2}, {"a": 1}, False),
        ({"$len": {"$gte": 1}}, [], False),
        ({"$len": {"$gte": 1}}, [0], True),
        ({"$len": 1}, 5, False),
        ({"$not": {"$regex": "secret"}}, "public", True),
        ({"$not": {"$regex": "secret"}}, "top secret", False),
        ({"$not": 1}, True, True),
        ({"$all_of": [{"$type": "string"}, {"$regex": "^a"}]}, "ab", True),
        ({"$all_of": [{"$type": "string"}, {"$regex": "^a"}]}, "ba", False),
        ({"$any_of": [{"$type": "null"}, {"$gt": 0}]}, None, True),
        ({"$any_of": [{"$type": "null"}, {"$gt": 0}]}, 3, True),
        ({"$any_of": [{"$type": "null"}, {"$gt": 0}]}, -3, False),
    ],
)
def test_operator(spec: Any, actual: Any, expected: bool) -> None:
    assert ok(spec, actual) is expected


@pytest.mark.parametrize(
    ("name", "yes", "no"),
    [
        ("string", "x", 1),
        ("number", 1.5, True),
        ("number", 2, "2"),
        ("integer", 3, True),
        ("integer", 3.0, 3.5),
        ("boolean", True, 1),
        ("boolean", False, 0),
        ("object", {}, []),
        ("array", [], {}),
        ("null", None, 0),
    ],
)
def test_type_operator_uses_json_types(name: str, yes: Any, no: Any) -> None:
    assert ok({"$type": name}, yes)
    assert not ok({"$type": name}, no)


def test_type_accepts_a_list_of_types() -> None:
    assert ok({"$type": ["string", "null"]}, None)
    assert not ok({"$type": ["string", "null"]}, 1)


def test_schema_operator_validates_and_explains_with_path() -> None:
    spec = {"q": {"$schema": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}}}}
    assert ok(spec, {"q": {"n": 2}})
    assert why(spec, {"q": {"n": 5}}) == ["q.n: schema: 5 is greater than the maximum of 3"]


# --- objects and modes -----------------------------------------------------------------------------


ARGS = {"order_id": "A1", "amount": 5, "meta": {"src": "web", "ip": "1.2.3.4"}}


def test_partial_allows_extra_keys_at_every_level() -> None:
    assert ok({"order_id": "A1", "meta": {"src": "web"}}, ARGS)
    assert ok({}, ARGS)
    assert not ok({"order_id": "A1", "meta": {"src": "app"}}, ARGS)


def test_exact_requires_same_keys_at_every_level() -> None:
    assert ok(ARGS, dict(ARGS), ArgMode.EXACT)
    assert not ok({"order_id": "A1", "amount": 5, "meta": {"src": "web"}}, ARGS, ArgMode.EXACT)
    assert why({"order_id": "A1", "amount": 5}, ARGS, ArgMode.EXACT) == ['extra key "meta"']
    assert why({"order_id": "A1", "amount": 5, "meta": {"src": "web"}}, ARGS, ArgMode.EXACT) == ['meta: extra key "ip"']


def test_missing_key_fails_in_both_modes() -> None:
    for mode in (ArgMode.PARTIAL, ArgMode.EXACT):
        assert why({"reason": "dup"}, {}, mode) == ["reason: missing key"]


def test_ignore_mode_matches_anything() -> None:
    matcher = compile_matcher({"order_id": "A1"}, ArgMode.IGNORE)
    assert matcher.matches(None) and matcher.matches({"x": 1}) and matcher.mismatches(42) == []


def test_mode_accepts_its_string_value() -> None:
    assert not compile_matcher({"a": 1}, "exact").matches({"a": 1, "b": 2})  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", [ArgMode.PARTIAL, ArgMode.EXACT])
def test_absent_key_must_be_missing(mode: ArgMode) -> None:
    spec = {"order_id": "A1", "note": {"$absent": True}}
    assert ok(spec, {"order_id": "A1"}, mode)  # exact mode does not require the absent key
    assert why(spec, {"order_id": "A1", "note": None}, mode) == ["note: expected no such key, got null"]


def test_any_requires_the_key_to_be_present() -> None:
    assert ok({"token": {"$any": True}}, {"token": None})
    assert why({"token": {"$any": True}}, {}) == ["token: missing key"]


def test_exact_and_partial_override_the_surrounding_mode() -> None:
    loose = {"id": 1, "meta": {"$partial": {"src": "web"}}}
    assert ok(loose, {"id": 1, "meta": {"src": "web", "ip": "x"}}, ArgMode.EXACT)
    strict = {"meta": {"$exact": {"src": "web"}}}
    assert not ok(strict, {"meta": {"src": "web", "ip": "x"}, "other": 1}, ArgMode.PARTIAL)
    assert ok(strict, {"meta": {"src": "web"}, "other": 1}, ArgMode.PARTIAL)


def test_lists_match_element_wise_in_order_with_the_same_mode() -> None:
    spec = {"items": [{"sku": "A"}, {"sku": "B"}]}
    actual = {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}
    assert ok(spec, actual)
    assert not ok(spec, actual, ArgMode.EXACT)
    assert not ok(spec, {"items": [{"sku": "B"}, {"sku": "A"}]})
    assert why(spec, {"items": [{"sku": "A"}]}) == ["items: expected 2 items, got 1"]
    assert why(spec, {"items": "AB"}) == ['items: expected an array, got "AB"']


def test_nested_mismatches_name_the_full_path() -> None:
    spec = {"order": {"lines": [{"qty": {"$lte": 3}}]}}
    assert why(spec, {"order": {"lines": [{"qty": 9}]}}) == ["order.lines[0].qty: expected <= 3, got 9"]
    assert why(spec, {"order": 7}) == ["order: expected an object, got 7"]


@pytest.mark.parametrize(
    ("spec", "actual", "reason"),
    [
        ({"amount": {"$lte": 42.0}}, {"amount": 50.0}, "amount: expected <= 42.0, got 50.0"),
        ({"order_id": "A123"}, {"order_id": "A9"}, 'order_id: expected "A123", got "A9"'),
        ({"s": {"$in": ["a", "b"]}}, {"s": "c"}, 's: expected one of ["a", "b"], got "c"'),
        ({"s": {"$not_in": ["a"]}}, {"s": "a"}, 's: expected none of ["a"], got "a"'),
        ({"s": {"$regex": "^A"}}, {"s": "B"}, 's: expected a string matching /^A/, got "B"'),
        ({"s": {"$type": "integer"}}, {"s": "x"}, 's: expected type integer, got "x" (string)'),
        ({"s": {"$ne": 1}}, {"s": 1}, "s: expected != 1, got 1"),
        ({"s": {"$not": 1}}, {"s": 1}, "s: expected not 1, got 1"),
        ({"s": {"$contains": "z"}}, {"s": "abc"}, 's: expected to contain "z", got "abc"'),
        ({"s": {"$contains": "z"}}, {"s": ["a"]}, 's: expected an element matching "z", got ["a"]'),
        ({"s": {"$len": 2}}, {"s": [1]}, "len(s): expected 2, got 1"),
        ({"s": {"$any_of": [1, 2]}}, {"s": 3}, "s: expected any of 1 | 2, got 3"),
    ],
)
def test_mismatch_reason_text(spec: Any, actual: Any, reason: str) -> None:
    assert why(spec, actual) == [reason]


def test_every_failing_operator_in_a_mapping_is_reported() -> None:
    assert why({"n": {"$gte": 5, "$type": "string"}}, {"n": 1}) == [
        "n: expected >= 5, got 1",
        "n: expected type string, got 1 (integer)",
    ]


# --- $literal and describe -------------------------------------------------------------------------


def test_literal_escapes_keys_that_start_with_a_dollar() -> None:
    spec = {"schema": {"$literal": {"$ref": "#/defs/a", "n": [1]}}}
    assert ok(spec, {"schema": {"$ref": "#/defs/a", "n": [1], "extra": 1}})  # still partial
    assert not ok(spec, {"schema": {"$ref": "#/defs/b", "n": [1]}})
    assert not ok(spec, {"schema": {"$ref": "#/defs/a", "n": [1], "extra": 1}}, ArgMode.EXACT)
    assert ok({"$literal": {"$gt": 3}}, {"$gt": 3})  # the operator name is data here
    assert not ok({"$literal": {"$gt": 3}}, 4)


def test_describe_keeps_the_spec_as_written() -> None:
    spec = {"id": "A1", "amount": {"$gte": 1, "$lte": 5}, "meta": {"$exact": {"k": 1}}, "x": {"$absent": True}}
    assert compile_matcher(spec).describe() == spec
    assert compile_matcher({"$literal": {"$a": 1}}).describe() == {"$literal": {"$a": 1}}
    assert compile_matcher(3).describe() == 3


def test_matcher_satisfies_the_protocol() -> None:
    matcher: Matcher = compile_matcher({"a": 1})
    assert isinstance(matcher.describe(), dict)


# --- bad specs -------------------------------------------------------------------------------------


def test_unknown_operator_suggests_the_close_one() -> None:
    error = bad({"amount": {"$lte": 5, "$gtee": 1}})
    assert error.path == "amount.$gtee"
    assert "unknown operator $gtee" in error.message
    assert error.hint is not None and error.hint.startswith("did you mean '$gte'?")


@pytest.mark.parametrize("op", ["$ref", "$comment"])
def test_unknown_operator_points_at_literal_for_real_dollar_keys(op: str) -> None:
    error = bad({op: "#/a"})
    assert error.hint is not None and "{$literal: ...}" in error.hint and op in error.hint


def test_mixing_operators_and_plain_keys_is_an_error() -> None:
    error = bad({"q": {"$gte": 1, "limit": 5}})
    assert error.path == "q"
    assert "$gte" in error.message and "limit" in error.message
    assert error.hint is not None and "$literal" in error.hint


@pytest.mark.parametrize(
    ("spec", "path", "fragment"),
    [
        ({"s": {"$regex": "(unclosed"}}, "s.$regex", "invalid regular expression"),
        ({"s": {"$regex": 5}}, "s.$regex", "needs a string"),
        ({"s": {"$schema": {"type": "nope"}}}, "s.$schema.type", "invalid JSON Schema"),
        ({"s": {"$schema": "object"}}, "s.$schema", "JSON Schema object"),
        ({"s": {"$lte": "5"}}, "s.$lte", "compares numbers"),
        ({"s": {"$gt": True}}, "s.$gt", "compares numbers"),
        ({"s": {"$in": "abc"}}, "s.$in", "non-empty list"),
        ({"s": {"$any_of": []}}, "s.$any_of", "non-empty list"),
        ({"s": {"$any": False}}, "s.$any", "takes `true`"),
        ({"s": {"$len": -1}}, "s.$len", "$len needs"),
        ({"s": {"$type": "text"}}, "s.$type", "unknown type"),
        ({"s": {"$absent": False}}, "s.$absent", "takes `true`"),
        ({"s": {"$absent": True, "$type": "string"}}, "s", "cannot be combined"),
        ({"$absent": True}, "$absent", "only works directly as the value of an object key"),
        ({"s": [{"$not": {"$absent": True}}]}, "s[0].$not.$absent", "only works directly"),
        ({"s": {"$all_of": [1, {"$nope": 1}]}}, "s.$all_of[1].$nope", "unknown operator"),
        ({"s": {1, 2}}, "s", "unsupported value"),
    ],
)
def test_bad_specs_name_the_path(spec: Any, path: str, fragment: str) -> None:
    error = bad(spec)
    assert error.path == path
    assert fragment in error.message
    assert str(error).startswith(f"{path}: ")


def test_python_type_names_get_the_json_name_as_hint() -> None:
    assert bad({"$type": "int"}).hint == "did you mean 'integer'? (JSON type names)"


# --- performance contract --------------------------------------------------------------------------


def test_matching_never_compiles_a_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = compile_matcher({"id": {"$regex": r"^A\d+$"}, "tags": {"$contains": {"$regex": "x"}}})

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("regex compiled on the match path")

    monkeypatch.setattr(re, "compile", refuse)
    assert matcher.matches({"id": "A12", "tags": ["y", "xz"]})
    assert not matcher.matches({"id": "B12", "tags": []})


def test_importing_the_judge_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, agentcheck.matchers, agentcheck.judge.trajectory, agentcheck.judge.output;"
        "print(sorted(m for m in ('deepdiff', 'jsonschema') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
