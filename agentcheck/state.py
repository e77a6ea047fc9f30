"""Stateful fixtures, as data: named in-memory tables, the operations tools perform on them, and
what the end state must look like.

Judging the end state (the records that exist, changed, or stayed untouched) judges the outcome
rather than the path, the way τ-bench compares database state after a task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentcheck.matchers import Matcher

STATE_OPS: dict[str, str] = {
    "get": "the row whose key equals the key argument (404 NotFound when there is none)",
    "list": "the rows whose `where` columns equal the call's arguments of the same name",
    "insert": "the call's arguments (plus `set`) as a new row; a missing key comes from `id_template`",
    "update": "the row of the key argument, with the other arguments (plus `set`) written over it",
    "delete": "removes the row of the key argument",
}


@dataclass(frozen=True, slots=True)
class StateTable:
    """One table: the column that keys its rows, and the rows before the run."""

    key: str
    rows: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class StateOp:
    """What a tool does to the state when no rule or sequence item answered first."""

    op: str
    table: str
    key_arg: str | None = None
    """The argument holding the row key (get, update, delete); default: the table's key column."""
    where: tuple[str, ...] = ()
    """list: the arguments to filter on (equal values); empty: every argument given."""
    id_template: str | None = None
    """insert: the new row's key when the arguments give none; `{n}` is the table's row number."""
    set: dict[str, Any] = field(default_factory=dict)
    """insert/update: extra fields written with the row."""


@dataclass(frozen=True, slots=True)
class TableExpectation:
    """What one table must look like after the run. Every given part must hold."""

    equals: tuple[dict[str, Any], ...] | None = None
    """Exactly these rows, in any order (differences shown as a deepdiff)."""
    contains: tuple[Matcher, ...] = ()
    """Each matcher must match at least one row."""
    absent: tuple[Matcher, ...] = ()
    """No row may match any of these."""
    count: Matcher | None = None
    """A matcher over the number of rows."""
    unchanged: bool = False
    """The table must be as it was before the run."""
