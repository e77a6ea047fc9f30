"""One run's in-memory state: the tables stateful fixtures read and write.

Each run gets its own deep copy of the scenario's tables, so runs (and trials) never see each
other's writes; the end state is stored on the trace for `expect.state` to judge.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from typing import Any

from agentcheck.scenario import FixtureResponse, ToolErrorSpec
from agentcheck.state import StateOp, StateTable


class StateStore:
    """Named tables of rows (dicts), keyed by one column each."""

    def __init__(self, tables: dict[str, StateTable]):
        self.keys = {name: table.key for name, table in tables.items()}
        self.tables: dict[str, list[dict[str, Any]]] = {
            name: copy.deepcopy(list(table.rows)) for name, table in tables.items()
        }
        self._inserted = {name: len(rows) for name, rows in self.tables.items()}

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return copy.deepcopy(self.tables)

    def find(self, table: str, key: Any) -> dict[str, Any] | None:
        column = self.keys[table]
        return next((row for row in self.tables[table] if row.get(column) == key), None)

    def apply(self, op: StateOp, args: Any) -> FixtureResponse:
        """Perform `op` with the call's arguments; the answer is a response like any fixture's."""
        args = args if isinstance(args, dict) else {}
        rows = self.tables.setdefault(op.table, [])
        column = self.keys.setdefault(op.table, op.key_arg or "id")
        key_arg = op.key_arg or column
        if op.op == "list":
            names = op.where or tuple(args)
            found = [row for row in rows if all(row.get(n) == args[n] for n in names if n in args)]
            return FixtureResponse(value=copy.deepcopy(found))
        if op.op == "insert":
            self._inserted[op.table] = self._inserted.get(op.table, len(rows)) + 1
            row = {**args, **op.set}
            if column not in row:
                template = op.id_template or f"{op.table}-{{n}}"
                row[column] = template.format(n=self._inserted[op.table])
            if self.find(op.table, row[column]) is not None:
                return _error("Conflict", f"{op.table} already has {column}={row[column]!r}", 409)
            rows.append(row)
            return FixtureResponse(value=copy.deepcopy(row))
        key = args.get(key_arg)
        row = self.find(op.table, key)
        if row is None:
            return _error("NotFound", f"no {op.table} row with {column}={key!r}", 404)
        if op.op == "update":
            row.update({k: v for k, v in args.items() if k != key_arg})
            row.update(op.set)
        elif op.op == "delete":
            rows.remove(row)
            return FixtureResponse(value={"deleted": key})
        return FixtureResponse(value=copy.deepcopy(row))


def _error(error_class: str, message: str, status: int) -> FixtureResponse:
    return FixtureResponse(error=ToolErrorSpec(error_class, message, status))


_HANDLERS: dict[str, Callable[..., Any]] = {}


def load_handler(target: str) -> Callable[..., Any]:
    """The `module:function` a fixture names, imported once per process."""
    handler = _HANDLERS.get(target)
    if handler is None:
        module_name, _, attr = target.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        handler = _HANDLERS[target] = obj
    return handler


def call_handler(target: str, args: Any, store: StateStore) -> FixtureResponse:
    """A Python handler answers `handler(args, tables)`: a value, or a FixtureResponse for errors."""
    result = load_handler(target)(args, store.tables)
    return result if isinstance(result, FixtureResponse) else FixtureResponse(value=result)
