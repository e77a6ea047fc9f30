"""Pydantic validation errors, retold as one-line problems a YAML author can act on.

Pydantic speaks about Python types ("Input should be a valid integer", plus a documentation URL);
our users wrote YAML. Each error becomes one :class:`Problem` with the file, the line of the nearest
key that exists in the file, the key path as written, what was expected in plain words and what was
found, and for an unknown key the closest allowed key.
"""

from __future__ import annotations

import re
import types
import typing
from typing import TYPE_CHECKING, Any

from agentcheck.collect.yamlsource import KeyPath, line_of, render_path
from agentcheck.problems import Problem, did_you_mean

if TYPE_CHECKING:
    from pydantic import ValidationError

TAG_PREFIX = "\x1f"
"""Marks union-member tags in pydantic locations (see models.either); they are not user keys."""

_EXPECTED = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "none_required": "expected null",
    "finite_number": "expected a finite number",
}

_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}

PATTERN_MESSAGES: dict[str, str] = {}
"""Regex pattern -> what it means in words; models register their patterns here."""

_MATCHER_PATH = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def in_reading_order(problems: list[Problem]) -> list[Problem]:
    """Problems grouped by file (in the order files were read), then by line, for top-down fixing."""
    files: dict[str | None, int] = {}
    for problem in problems:
        files.setdefault(problem.file, len(files))
    return sorted(problems, key=lambda p: (files[p.file], p.line or 0))


def describe_value(value: Any) -> str:
    """A short rendering of what the user wrote, YAML-flavoured (true/null, not True/None)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def split_matcher_path(path: str) -> KeyPath:
    """'amount.$lte' / 'items[0].sku' -> key path parts, to find the most precise line."""
    parts: list[str | int] = []
    for index, key in _MATCHER_PATH.findall(path):
        parts.append(int(index) if index else key)
    return tuple(parts)


def validation_problems(
    exc: ValidationError,
    *,
    file: str,
    lines: dict[KeyPath, int],
    model: Any,
    base: KeyPath = (),
    root_keys: tuple[str, ...] = (),
) -> list[Problem]:
    """One Problem per pydantic error of validating data at `base` (a key path) against `model`.

    `root_keys` are extra top-level keys to suggest for a misspelt key (e.g. `scenarios`, which
    turns a scenario file into a file of several scenarios).
    """
    problems = []
    for error in exc.errors(include_url=False):
        raw_loc = tuple(error["loc"])
        loc = tuple(p for p in raw_loc if not (isinstance(p, str) and p.startswith(TAG_PREFIX)))
        kind = error["type"]
        value = error.get("input")
        ctx = error.get("ctx") or {}
        hint = None
        path = (*base, *loc)
        line_path = path
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            path = path[:-1]
            message = f"unknown key '{key}'"
            allowed = allowed_keys(model, raw_loc[:-1])
            if len(raw_loc) == 1:
                allowed = [*allowed, *root_keys]
            if allowed:
                hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
        elif kind == "missing":
            key = str(loc[-1]) if loc else "?"
            path = line_path = path[:-1]
            message = f"missing required key '{key}'"
        else:
            message, hint = _describe(kind, error["msg"], value, ctx)
        problems.append(Problem(file, line_of(lines, line_path), render_path(path), message, hint))
    return problems


def _describe(kind: str, msg: str, value: Any, ctx: dict[str, Any]) -> tuple[str, str | None]:
    got = f", got {describe_value(value)}"
    if kind in _EXPECTED:
        hint = None
        if kind == "string_type" and isinstance(value, int | float | bool):
            hint = f"quote it: '{describe_value(value)}'"
        return _EXPECTED[kind] + got, hint
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = re.findall(r"'([^']*)'", expected)
        hint = did_you_mean(str(value), options) if isinstance(value, str) and options else None
        return f"expected {expected}{got}", hint
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        bound = ctx.get(key)
        shown = f"{bound:g}" if isinstance(bound, float) else bound
        return f"must be {words} {shown}{got}", None
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERN_MESSAGES.get(pattern, f"expected text matching {pattern}") + got, None
    if kind in ("too_short", "too_long"):
        if ctx.get("field_type") == "String" or isinstance(value, str):
            return "must not be empty" if kind == "too_short" else "is too long", None
        if kind == "too_short":
            return f"expected at least {ctx.get('min_length')} item(s)", None
        return f"expected at most {ctx.get('max_length')} item(s)", None
    if kind == "shape":
        return msg + got, None
    if kind == "value_error":
        return msg.removeprefix("Value error, "), None
    # Our own PydanticCustomError types (models.py) carry finished sentences.
    return msg, None


# --- which keys a model allows at a location (for "did you mean") --------------------------------


def allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys the mapping at `loc` (a raw pydantic location, tags included) accepts."""
    target = model
    for part in loc:
        target = _step(target, part)
        if target is None:
            return []
    target = _unwrap(target, None)
    fields = getattr(target, "model_fields", None)
    if not fields:
        return []
    return [_key_name(name, info) for name, info in fields.items()]


def _key_name(name: str, info: Any) -> str:
    alias = info.validation_alias or info.alias
    return alias if isinstance(alias, str) else name


def _unwrap(tp: Any, part: Any) -> Any:
    """Strip Annotated and Optional; at a tagged union, follow the member named by `part`."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin is typing.Union or origin is types.UnionType:
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            if isinstance(part, str) and part.startswith(TAG_PREFIX):
                for member in members:
                    if any(getattr(meta, "tag", None) == part for meta in getattr(member, "__metadata__", ())):
                        return member
                return None
            if len(members) != 1:
                return None
            tp = members[0]
            continue
        return tp


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp, part)
    if tp is None:
        return None
    if isinstance(part, str) and part.startswith(TAG_PREFIX):
        return tp  # _unwrap already chose the member
    fields = getattr(tp, "model_fields", None)
    if fields is not None:
        for name, info in fields.items():
            if part in (name, _key_name(name, info)):
                return _field_type(info)
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _field_type(info: Any) -> Any:
    return info.annotation


def json_schema_problem(schema: Any) -> tuple[KeyPath, str] | None:
    """Where and why `schema` is not a valid JSON Schema (draft 2020-12 unless it says otherwise)."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import Draft202012Validator, validator_for

    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        return tuple(exc.path), f"invalid JSON Schema: {exc.message}"
    return None


def salvage(model: Any, data: Any, exc: ValidationError, placeholders: dict[str, Any], rounds: int = 8) -> Any:
    """A model built from `data` minus the keys that failed validation, or None.

    Shape problems are already reported; salvaging lets the loaders still check the valid rest
    (tool and agent names, fixture files, matchers) so one run shows every problem. Keys are only
    ever dropped, never list items, so key paths and lines in later problems still point at the
    user's file. A missing required top-level key is filled from `placeholders`.
    """
    from pydantic import ValidationError

    for _ in range(rounds):
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(TAG_PREFIX)))
            if error["type"] == "missing":
                if len(loc) == 1 and loc[0] in placeholders:
                    data = {**data, loc[0]: placeholders[loc[0]]}
                    continue
                loc = loc[:-1]
            keys = [i for i, part in enumerate(loc) if isinstance(part, str)]
            if not keys:
                return None
            data = _without(data, loc[: keys[-1] + 1])
        try:
            return model.model_validate(data)
        except ValidationError as again:
            exc = again
    return None


def _without(data: Any, path: tuple[Any, ...]) -> Any:
    """`data` with the key at `path` removed, copying only the containers along the path."""
    if not path:
        return data
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and head in data:
        if not rest:
            return {k: v for k, v in data.items() if k != head}
        return {**data, head: _without(data[head], rest)}
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data) and rest:
        copy = list(data)
        copy[head] = _without(data[head], rest)
        return copy
    return data
