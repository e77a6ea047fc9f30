"""Argument matchers: the `$`-operators scenarios use to say what a value must look like.

Shared by fixtures (`when:` picks a response) and by expectations (an expected call's arguments), so
both read the same language. Compiled once at load time; a bad operator is a load-time problem, never
a run-time surprise. Comparison always runs one way: the *actual* value against the *expected* spec.

(Interface fixed here; see docs/matching.md for the semantics.)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol


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


def compile_matcher(spec: Any, mode: ArgMode = ArgMode.PARTIAL) -> Matcher:  # pragma: no cover
    """Compile a YAML value (literal, nested object/list, or `{$op: ...}`) into a Matcher."""
    raise NotImplementedError
