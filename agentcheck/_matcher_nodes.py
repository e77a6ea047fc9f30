"""The compiled matcher tree (private to agentcheck.matchers).

Each node is a small slotted object: `matches` is the hot path and builds no strings; `why` is the
slow path that explains a failure with key paths. Kept apart from the compiler so each stays short.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from agentcheck.calls import format_value

# --- JSON typing -----------------------------------------------------------------------------------

JSON_TYPES: tuple[str, ...] = ("string", "number", "integer", "boolean", "object", "array", "null")
PY_TYPE_NAMES: dict[str, str] = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                                 "dict": "object", "list": "array", "none": "null"}  # fmt: skip


def is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but JSON keeps them apart.
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_eq(a: Any, b: Any) -> bool:
    """Deep equality with JSON's types: Python's `==` would say `True == 1` and `1 == 1.0 == True`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float):
        return isinstance(b, int | float) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if a is None:
        return b is None
    if isinstance(a, dict):
        return isinstance(b, dict) and len(a) == len(b) and all(k in b and json_eq(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(map(json_eq, a, b))
    return type(a) is type(b) and a == b


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def has_type(value: Any, name: str) -> bool:
    if name == "number":
        return is_number(value)
    if name == "integer":  # JSON Schema's rule: 1.0 is an integer, true is not
        return is_number(value) and (isinstance(value, int) or value.is_integer())
    return json_type(value) == name


def fmt(value: Any, limit: int = 80) -> str:
    return format_value(value, limit)


def join_path(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def prefix(path: str) -> str:
    return f"{path}: " if path else ""


# --- nodes -----------------------------------------------------------------------------------------


class Node:
    """Base of the compiled tree. Leaf nodes define `matches` and `expect_text`; `why` builds the
    reason only after a failed match, so the hot path stays allocation-free."""

    __slots__ = ("spec",)

    def __init__(self, spec: Any):
        self.spec = spec

    def matches(self, actual: Any) -> bool:  # pragma: no cover - every node overrides it
        raise NotImplementedError

    def expect_text(self) -> str:
        return fmt(self.spec)

    def why(self, actual: Any, path: str) -> list[str]:
        if self.matches(actual):
            return []
        return [f"{prefix(path)}expected {self.expect_text()}, got {fmt(actual)}"]

    def mismatches(self, actual: Any) -> list[str]:
        return self.why(actual, "")

    def describe(self) -> Any:
        return self.spec

    def __repr__(self) -> str:
        return f"<matcher {fmt(self.spec)}>"


class Ignore(Node):
    __slots__ = ()
    ignores_all = True
    """Duck-typed flag so explanations can print `tool(...)` instead of a spec."""

    def matches(self, actual: Any) -> bool:
        return True

    def describe(self) -> Any:
        return "<ignored>"


class Eq(Node):
    __slots__ = ("value",)

    def __init__(self, spec: Any, value: Any):
        super().__init__(spec)
        self.value = value

    def matches(self, actual: Any) -> bool:
        return json_eq(self.value, actual)

    def expect_text(self) -> str:
        return fmt(self.value)

    def why(self, actual: Any, path: str) -> list[str]:
        reasons = super().why(actual, path)
        want, got = json_type(self.value), json_type(actual)
        if reasons and want != got and not (is_number(self.value) and is_number(actual)):
            reasons[0] += f" ({got}, not {want})"  # the "1" vs 1, true vs 1 trap, said out loud
        return reasons


class Ne(Eq):
    __slots__ = ()

    def matches(self, actual: Any) -> bool:
        return not json_eq(self.value, actual)

    def expect_text(self) -> str:
        return f"!= {fmt(self.value)}"


COMPARISONS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "$gt": (">", operator.gt),
    "$gte": (">=", operator.ge),
    "$lt": ("<", operator.lt),
    "$lte": ("<=", operator.le),
}


class Compare(Node):
    __slots__ = ("bound", "fn", "symbol")

    def __init__(self, spec: Any, op: str, bound: float):
        super().__init__(spec)
        self.symbol, self.fn = COMPARISONS[op]
        self.bound = bound

    def matches(self, actual: Any) -> bool:
        return is_number(actual) and self.fn(actual, self.bound)

    def expect_text(self) -> str:
        return f"{self.symbol} {fmt(self.bound)}"


class OneOf(Node):
    __slots__ = ("negate", "values")

    def __init__(self, spec: Any, values: list[Any], negate: bool):
        super().__init__(spec)
        self.values = tuple(values)
        self.negate = negate

    def matches(self, actual: Any) -> bool:
        found = any(json_eq(v, actual) for v in self.values)
        return found is not self.negate

    def expect_text(self) -> str:
        return f"{'none' if self.negate else 'one'} of {fmt(list(self.values))}"


class Regex(Node):
    __slots__ = ("pattern",)

    def __init__(self, spec: Any, pattern: re.Pattern[str]):
        super().__init__(spec)
        self.pattern = pattern

    def matches(self, actual: Any) -> bool:
        return isinstance(actual, str) and self.pattern.search(actual) is not None

    def expect_text(self) -> str:
        return f"a string matching /{self.pattern.pattern}/"


class TypeOf(Node):
    __slots__ = ("names",)

    def __init__(self, spec: Any, names: tuple[str, ...]):
        super().__init__(spec)
        self.names = names

    def matches(self, actual: Any) -> bool:
        return any(has_type(actual, n) for n in self.names)

    def expect_text(self) -> str:
        return "type " + " or ".join(self.names)

    def why(self, actual: Any, path: str) -> list[str]:
        reasons = super().why(actual, path)
        return [f"{r} ({json_type(actual)})" for r in reasons]


class AnyValue(Node):
    __slots__ = ()

    def matches(self, actual: Any) -> bool:
        return True


class Schema(Node):
    __slots__ = ("validator",)

    def __init__(self, spec: Any, validator: Any):
        super().__init__(spec)
        self.validator = validator

    def matches(self, actual: Any) -> bool:
        return bool(self.validator.is_valid(actual))

    def why(self, actual: Any, path: str) -> list[str]:
        reasons = []
        for error in sorted(self.validator.iter_errors(actual), key=lambda e: [str(p) for p in e.absolute_path])[:3]:
            where = path
            for part in error.absolute_path:
                where = f"{where}[{part}]" if isinstance(part, int) else join_path(where, part)
            reasons.append(f"{prefix(where)}schema: {error.message}")
        return reasons


class Contains(Node):
    __slots__ = ("element", "needle")

    def __init__(self, spec: Any, element: Node, needle: str | None):
        super().__init__(spec)
        self.element = element
        self.needle = needle

    def matches(self, actual: Any) -> bool:
        if isinstance(actual, str):
            return self.needle is not None and self.needle in actual
        if isinstance(actual, list | tuple):
            return any(self.element.matches(item) for item in actual)
        return False

    def expect_text(self) -> str:
        return f"a string or array containing {fmt(self.element.spec)}"

    def why(self, actual: Any, path: str) -> list[str]:
        if self.matches(actual):
            return []
        want = fmt(self.element.spec)
        if isinstance(actual, str):
            return [f"{prefix(path)}expected to contain {want}, got {fmt(actual)}"]
        if isinstance(actual, list | tuple):
            return [f"{prefix(path)}expected an element matching {want}, got {fmt(actual)}"]
        return super().why(actual, path)


class Length(Node):
    __slots__ = ("length",)

    def __init__(self, spec: Any, length: Node):
        super().__init__(spec)
        self.length = length

    def matches(self, actual: Any) -> bool:
        return isinstance(actual, str | list | tuple | dict) and self.length.matches(len(actual))

    def why(self, actual: Any, path: str) -> list[str]:
        if not isinstance(actual, str | list | tuple | dict):
            return [f"{prefix(path)}expected a string, array or object (for $len), got {fmt(actual)}"]
        return self.length.why(len(actual), f"len({path or 'value'})")


class Not(Node):
    __slots__ = ("inner",)

    def __init__(self, spec: Any, inner: Node):
        super().__init__(spec)
        self.inner = inner

    def matches(self, actual: Any) -> bool:
        return not self.inner.matches(actual)

    def expect_text(self) -> str:
        return f"not {fmt(self.inner.spec)}"


class AllOf(Node):
    """`$all_of`, and also a mapping with several operators (`{$gte: 1, $lte: 5}` is ANDed)."""

    __slots__ = ("parts",)

    def __init__(self, spec: Any, parts: list[Node]):
        super().__init__(spec)
        self.parts = tuple(parts)

    def matches(self, actual: Any) -> bool:
        return all(p.matches(actual) for p in self.parts)

    def why(self, actual: Any, path: str) -> list[str]:
        return [r for p in self.parts for r in p.why(actual, path)]


class AnyOf(AllOf):
    __slots__ = ()

    def matches(self, actual: Any) -> bool:
        return any(p.matches(actual) for p in self.parts)

    def why(self, actual: Any, path: str) -> list[str]:
        return Node.why(self, actual, path)

    def expect_text(self) -> str:
        return "any of " + " | ".join(p.expect_text() for p in self.parts)


class ObjectNode(Node):
    __slots__ = ("absent", "exact", "fields", "names")

    def __init__(self, spec: Any, fields: list[tuple[str, Node]], absent: list[str], exact: bool):
        super().__init__(spec)
        self.fields = tuple(fields)
        self.names = frozenset(k for k, _ in fields)
        self.absent = tuple(absent)
        self.exact = exact

    def matches(self, actual: Any) -> bool:
        if not isinstance(actual, dict):
            return False
        for key, node in self.fields:
            if key not in actual or not node.matches(actual[key]):
                return False
        for key in self.absent:
            if key in actual:
                return False
        # Every expected key is present and no absent key is: equal sizes means equal key sets.
        return not self.exact or len(actual) == len(self.fields)

    def why(self, actual: Any, path: str) -> list[str]:
        if not isinstance(actual, dict):
            return [f"{prefix(path)}expected an object, got {fmt(actual)}"]
        reasons = []
        for key, node in self.fields:
            sub = join_path(path, key)
            if key in actual:
                reasons.extend(node.why(actual[key], sub))
            else:
                reasons.append(f"{sub}: missing key")
        for key in self.absent:
            if key in actual:
                reasons.append(f"{join_path(path, key)}: expected no such key, got {fmt(actual[key])}")
        if self.exact:
            reasons.extend(
                f"{prefix(path)}extra key {fmt(key)}"
                for key in actual
                if key not in self.names and key not in self.absent
            )
        return reasons


class ListNode(Node):
    __slots__ = ("items",)

    def __init__(self, spec: Any, items: list[Node]):
        super().__init__(spec)
        self.items = tuple(items)

    def matches(self, actual: Any) -> bool:
        if not isinstance(actual, list | tuple) or len(actual) != len(self.items):
            return False
        return all(node.matches(item) for node, item in zip(self.items, actual, strict=True))

    def why(self, actual: Any, path: str) -> list[str]:
        if not isinstance(actual, list | tuple):
            return [f"{prefix(path)}expected an array, got {fmt(actual)}"]
        reasons = []
        if len(actual) != len(self.items):
            reasons.append(f"{prefix(path)}expected {len(self.items)} items, got {len(actual)}")
        for i, (node, item) in enumerate(zip(self.items, actual, strict=False)):
            reasons.extend(node.why(item, f"{path}[{i}]"))
            if len(reasons) > 1 and len(actual) != len(self.items):
                break  # after a length change, the first differing item says enough
        return reasons
