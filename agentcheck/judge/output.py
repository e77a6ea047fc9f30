"""Judge the agent's final output: text it must (not) contain, patterns, an exact value, a schema.

One check per assertion item, so a failure names exactly which needle was missing instead of "some
text check failed". Text checks read structured output as its compact JSON text, so `contains:
refund_id` works the same whether the agent returned a string or a dict.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentcheck.judge.explain import excerpt, expected_vs_actual, format_value, minimal_diff
from agentcheck.matchers import compile_matcher
from agentcheck.scenario import OutputExpectations
from agentcheck.verdict import CheckResult

_EXCERPT = 200
_MAX_SCHEMA_ERRORS = 5


def judge_output(expect: OutputExpectations, output: Any) -> list[CheckResult]:
    """Every output assertion the scenario makes, in the order the user wrote them."""
    text = _as_text(output)
    folded = text if expect.case_sensitive else text.casefold()
    checks = [_contains(needle, text, folded, expect.case_sensitive) for needle in expect.contains]
    checks += [_not_contains(needle, text, folded, expect.case_sensitive) for needle in expect.not_contains]
    checks += [_regex(pattern, text) for pattern in expect.regex]
    if expect.has_equals:
        checks.append(_equals(expect.equals, output))
    if expect.json_schema is not None:
        checks.append(_json_schema(expect.json_schema, output))
    return checks


def _as_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    try:
        return json.dumps(output, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(output)


def _quote(text: str, around: int | None = None) -> str:
    """An excerpt kept on one line; quotes inside stay unescaped so JSON output stays readable."""
    piece = excerpt(text, _EXCERPT, around).replace("\r", "\\r").replace("\n", "\\n")
    return f'"{piece}"'


def _contains(needle: str, text: str, folded: str, case_sensitive: bool) -> CheckResult:
    found = (needle if case_sensitive else needle.casefold()) in folded
    message = (
        f"output contains {format_value(needle)}"
        if found
        else f"output does not contain {format_value(needle)}: {_quote(text)}"
    )
    return CheckResult("output.contains", found, message, expected=needle, actual=None if found else text)


def _not_contains(needle: str, text: str, folded: str, case_sensitive: bool) -> CheckResult:
    at = folded.find(needle if case_sensitive else needle.casefold())
    if at < 0:
        return CheckResult(
            "output.not_contains", True, f"output does not contain {format_value(needle)}", expected=needle
        )
    return CheckResult(
        "output.not_contains",
        False,
        f"output contains forbidden {format_value(needle)} at character {at}: {_quote(text, at)}",
        expected=needle,
        actual=text,
    )


def _regex(pattern: str, text: str) -> CheckResult:
    try:
        found = re.search(pattern, text)  # re caches compiled patterns; the loader already checked them
    except re.error as exc:
        return CheckResult("output.regex", False, f"invalid regular expression /{pattern}/: {exc}", expected=pattern)
    if found is None:
        return CheckResult(
            "output.regex", False, f"output does not match /{pattern}/: {_quote(text)}", expected=pattern, actual=text
        )
    return CheckResult(
        "output.regex", True, f"output matches /{pattern}/ at {format_value(found.group(0))}", expected=pattern
    )


def _equals(expected: Any, output: Any) -> CheckResult:
    actual = output
    if isinstance(output, str) and isinstance(expected, dict | list):
        # An agent that answers a JSON object as text still answers JSON; compare the data it means.
        # Scalars are not parsed: text "1" is not the number 1, as everywhere else.
        try:
            actual = json.loads(output)
        except ValueError:
            actual = output
    if compile_matcher({"$eq": expected}).matches(actual):
        return CheckResult("output.equals", True, "output equals the expected value", expected=expected, actual=actual)
    diff = minimal_diff(expected, actual)
    head = diff[0] if diff and not diff[0].startswith("---") else "differs"
    explanation = "\n".join([expected_vs_actual(expected, actual, _EXCERPT), *diff])
    return CheckResult(
        "output.equals",
        False,
        f"output does not equal the expected value: {head}",
        explanation,
        expected=expected,
        actual=actual,
    )


def _json_schema(schema: dict[str, Any], output: Any) -> CheckResult:
    from jsonschema.exceptions import SchemaError, best_match  # deferred: costly import
    from jsonschema.validators import validator_for

    data = output
    if isinstance(output, str):
        try:
            data = json.loads(output)
        except ValueError as exc:
            return CheckResult(
                "output.json_schema",
                False,
                f"output is not JSON ({exc}): {_quote(output)}",
                expected=schema,
                actual=output,
            )
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        return CheckResult("output.json_schema", False, f"invalid JSON Schema: {exc.message}", expected=schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = list(validator.iter_errors(data))
    if not errors:
        return CheckResult("output.json_schema", True, "output matches the JSON schema", expected=schema, actual=data)
    first = best_match(errors)
    lines = [f"{e.json_path}: {e.message}" for e in sorted(errors, key=lambda e: e.json_path)[:_MAX_SCHEMA_ERRORS]]
    if len(errors) > _MAX_SCHEMA_ERRORS:
        lines.append(f"… {len(errors) - _MAX_SCHEMA_ERRORS} more errors")
    return CheckResult(
        "output.json_schema",
        False,
        f"output does not match the JSON schema at {first.json_path}: {first.message}",
        "\n".join(lines),
        expected=schema,
        actual=data,
    )
