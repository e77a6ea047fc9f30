"""Argument matchers: the `$`-operators scenarios use to say what a value must look like.

Shared by fixtures (`when:` picks a response) and by expectations (an expected call's arguments), so
both read the same language. Compiled once at load time; a bad operator is a load-time problem, never
a run-time surprise. Comparison always runs one way: the *actual* value against the *expected* spec.

A compiled matcher is a small tree of slotted nodes. `matches` is the hot path (fixtures resolve on
every call, judges run thousands of times per second): it builds no strings, compiles no regex and
never touches deepdiff. `mismatches` is the slow, friendly path used only to explain a failure.

Equality is JSON-typed, unlike Python's: `True` is not `1`, `"1"` is not `1`, but `1` is `1.0`.

(Interface fixed here; see docs/matching.md for the semantics.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol

from agentcheck._matcher_nodes import (
    COMPARISONS,
    JSON_TYPES,
    PY_TYPE_NAMES,
    AllOf,
    AnyOf,
    AnyValue,
    Compare,
    Contains,
    Eq,
    Ignore,
    Length,
    ListNode,
    Ne,
    Node,
    Not,
    ObjectNode,
    OneOf,
    Regex,
    Schema,
    TypeOf,
    fmt,
    is_number,
    join_path,
)
from agentcheck.problems import did_you_mean


class ArgMode(StrEnum):
    """How an expected argument object is compared with the actual arguments."""

    EXACT = "exact"
    """Same keys at every level; values equal (operators allowed as values)."""
    PARTIAL = "partial"
    """Every expected key present and matching, at every level; extra actual keys allowed."""
    IGNORE = "ignore"
    """Arguments are not compared at all."""


class MatcherError(ValueError):
    """A spec that cannot be compiled; `path` is the key path inside the spec ("amount.$lte")."""

    def __init__(self, path: str, message: str, hint: str | None = None):
        self.path = path
        self.message = message
        self.hint = hint
        super().__init__(f"{path}: {message}" if path else message)


class Matcher(Protocol):
    def matches(self, actual: Any) -> bool:
        """True when `actual` satisfies the spec."""
        ...

    def mismatches(self, actual: Any) -> list[str]:
        """Human-readable reasons `actual` fails, each naming the key path; [] when it matches."""
        ...

    def describe(self) -> Any:
        """The spec as JSON-able data, for reports and diffs."""
        ...


# --- compiler --------------------------------------------------------------------------------------


def compile_matcher(spec: Any, mode: ArgMode = ArgMode.PARTIAL) -> Matcher:
    """Compile a YAML value (literal, nested object/list, or `{$op: ...}`) into a Matcher."""
    mode = ArgMode(mode)
    if mode is ArgMode.IGNORE:
        return Ignore(spec)
    return _compile(spec, mode is ArgMode.EXACT, "")


_Builder = Callable[[Any, bool, str], Node]


def _compile(spec: Any, exact: bool, path: str) -> Node:
    if isinstance(spec, dict):
        ops = [k for k in spec if isinstance(k, str) and k.startswith("$")]
        if not ops:
            return _compile_object(spec, exact, path)
        if len(ops) != len(spec):
            plain = [str(k) for k in spec if k not in ops]
            raise MatcherError(
                path,
                f"mixes operators ({', '.join(ops)}) with plain keys ({', '.join(plain)})",
                "put operators under the key they constrain, e.g. {amount: {$lte: 5}}; to match "
                "a real key that starts with '$', wrap the object in {$literal: ...}",
            )
        parts = [_compile_op(op, value, exact, join_path(path, op)) for op, value in spec.items()]
        return parts[0] if len(parts) == 1 else AllOf(spec, parts)
    if isinstance(spec, list | tuple):
        return ListNode(spec, [_compile(item, exact, f"{path}[{i}]") for i, item in enumerate(spec)])
    if spec is None or isinstance(spec, str | int | float | bool):
        return Eq(spec, spec)
    raise MatcherError(path, f"unsupported value of type {type(spec).__name__}: {spec!r}")


def _key(key: Any) -> str:
    """Actual JSON keys are strings; YAML may hand us `200:` or `true:` as int/bool keys."""
    return key if isinstance(key, str) else json.dumps(key)


def _compile_object(spec: dict[Any, Any], exact: bool, path: str) -> Node:
    fields: list[tuple[str, Node]] = []
    absent: list[str] = []
    for raw_key, value in spec.items():
        key = _key(raw_key)
        sub = join_path(path, key)
        if isinstance(value, dict) and "$absent" in value:
            if len(value) != 1:
                raise MatcherError(sub, "$absent cannot be combined with other operators")
            if value["$absent"] is not True:
                raise MatcherError(join_path(sub, "$absent"), "$absent takes `true`", "use {$any: true} to "
                                   "require the key to be present with any value")  # fmt: skip
            absent.append(key)
        else:
            fields.append((key, _compile(value, exact, sub)))
    return ObjectNode(spec, fields, absent, exact)


def _compile_literal(spec: Any, exact: bool) -> Node:
    """`$literal`: structure compared in the surrounding mode, but no key is read as an operator."""
    if isinstance(spec, dict):
        fields = [(_key(k), _compile_literal(v, exact)) for k, v in spec.items()]
        return ObjectNode(spec, fields, [], exact)
    if isinstance(spec, list | tuple):
        return ListNode(spec, [_compile_literal(item, exact) for item in spec])
    return Eq(spec, spec)


def _compile_op(op: str, value: Any, exact: bool, path: str) -> Node:
    builder = _OPS.get(op)
    if builder is None:
        if op == "$absent":
            raise MatcherError(path, "$absent only works directly as the value of an object key",
                               "write `key: {$absent: true}` inside the arguments object")  # fmt: skip
        literal = f"to match a key literally named {op!r}, wrap the object in {{$literal: ...}}"
        close = did_you_mean(op, [*_OPS, "$absent"])
        hint = f"{close} ({literal})" if close else f"operators are {', '.join(sorted(_OPS))}; {literal}"
        raise MatcherError(path, f"unknown operator {op}", hint)
    return builder(value, exact, path)


def _need_list(op: str, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple) or not value:
        raise MatcherError(path, f"{op} needs a non-empty list, got {fmt(value)}")
    return list(value)


def _need_true(op: str, value: Any, path: str) -> None:
    if value is not True:
        raise MatcherError(path, f"{op} takes `true`, got {fmt(value)}")


def _cmp(op: str) -> _Builder:
    def build(value: Any, exact: bool, path: str) -> Node:
        if not is_number(value):
            raise MatcherError(path, f"{op} compares numbers, got {fmt(value)}")
        return Compare({op: value}, op, value)

    return build


def _build_regex(value: Any, exact: bool, path: str) -> Node:
    if not isinstance(value, str):
        raise MatcherError(path, f"$regex needs a string, got {fmt(value)}")
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise MatcherError(path, f"invalid regular expression: {exc}") from None
    return Regex({"$regex": value}, pattern)


def _build_type(value: Any, exact: bool, path: str) -> Node:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names:
        raise MatcherError(path, f"$type needs a type name or a list of them, got {fmt(value)}")
    for name in names:
        if name not in JSON_TYPES:
            hint = did_you_mean(str(name), JSON_TYPES)
            if isinstance(name, str) and name.lower() in PY_TYPE_NAMES:
                hint = f"did you mean '{PY_TYPE_NAMES[name.lower()]}'? (JSON type names)"
            raise MatcherError(path, f"unknown type {fmt(name)}; one of {', '.join(JSON_TYPES)}", hint)
    return TypeOf({"$type": value}, tuple(names))


def _build_schema(value: Any, exact: bool, path: str) -> Node:
    if not isinstance(value, dict):
        raise MatcherError(path, f"$schema needs a JSON Schema object, got {fmt(value)}")
    from jsonschema.exceptions import SchemaError  # deferred: costly import, rarely needed
    from jsonschema.validators import validator_for

    cls = validator_for(value)
    try:
        cls.check_schema(value)
    except SchemaError as exc:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.absolute_path)
        raise MatcherError(path + where, f"invalid JSON Schema: {exc.message}") from None
    return Schema({"$schema": value}, cls(value, format_checker=cls.FORMAT_CHECKER))


def _build_contains(value: Any, exact: bool, path: str) -> Node:
    return Contains({"$contains": value}, _compile(value, exact, path), value if isinstance(value, str) else None)


def _build_len(value: Any, exact: bool, path: str) -> Node:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Length({"$len": value}, Eq(value, value))
    if isinstance(value, dict):
        return Length({"$len": value}, _compile(value, exact, path))
    raise MatcherError(path, f"$len needs a length or a matcher such as {{$gte: 1}}, got {fmt(value)}")


def _build_any(value: Any, exact: bool, path: str) -> Node:
    _need_true("$any", value, path)
    return AnyValue({"$any": True})


def _build_in(op: str) -> _Builder:
    def build(value: Any, exact: bool, path: str) -> Node:
        return OneOf({op: value}, _need_list(op, value, path), negate=op == "$not_in")

    return build


def _build_group(op: str) -> _Builder:
    cls = AllOf if op == "$all_of" else AnyOf

    def build(value: Any, exact: bool, path: str) -> Node:
        items = _need_list(op, value, path)
        return cls({op: value}, [_compile(s, exact, f"{path}[{i}]") for i, s in enumerate(items)])

    return build


def _build_mode(op: str) -> _Builder:
    def build(value: Any, exact: bool, path: str) -> Node:
        node = _compile(value, op == "$exact", path)
        node.spec = {op: value}  # describe() keeps the override as written
        return node

    return build


_OPS: dict[str, _Builder] = {
    "$eq": lambda v, exact, path: Eq({"$eq": v}, v),
    "$ne": lambda v, exact, path: Ne({"$ne": v}, v),
    **{op: _cmp(op) for op in COMPARISONS},
    "$in": _build_in("$in"),
    "$not_in": _build_in("$not_in"),
    "$regex": _build_regex,
    "$type": _build_type,
    "$any": _build_any,
    "$schema": _build_schema,
    "$contains": _build_contains,
    "$len": _build_len,
    "$not": lambda v, exact, path: Not({"$not": v}, _compile(v, exact, path)),
    "$all_of": _build_group("$all_of"),
    "$any_of": _build_group("$any_of"),
    "$exact": _build_mode("$exact"),
    "$partial": _build_mode("$partial"),
    "$literal": lambda v, exact, path: _literal(v, exact),
}


def _literal(value: Any, exact: bool) -> Node:
    node = _compile_literal(value, exact)
    node.spec = {"$literal": value}
    return node
