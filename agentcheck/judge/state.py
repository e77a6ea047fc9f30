"""End-state checks over the stateful fixtures' tables (check group `state`).

The outcome, not the path: the rows that must exist, the rows that must not, and the tables that
must be untouched, with a deepdiff of what differs so a failure says which field of which row.
"""

from __future__ import annotations

from typing import Any

from agentcheck.state import StateTable, TableExpectation
from agentcheck.verdict import CheckResult


def _diff(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    from deepdiff import DeepDiff  # deferred: only scenarios with state expectations pay for it

    diff = DeepDiff(expected, actual, ignore_order=True, view="text")
    return diff.pretty() if diff else ""


def judge_state(
    expect: dict[str, TableExpectation], before: dict[str, StateTable], after: dict[str, list[dict[str, Any]]] | None
) -> list[CheckResult]:
    checks: list[CheckResult] = []
    tables = after or {}
    for name, spec in expect.items():
        rows = tables.get(name, [])
        if spec.equals is not None:
            diff = _diff(list(spec.equals), rows)
            checks.append(CheckResult(f"state.{name}.equals", not diff,
                                      f"{name}: rows differ" if diff else f"{name}: rows as expected",
                                      diff, expected=list(spec.equals), actual=rows))
        if spec.unchanged:
            initial = list(before[name].rows) if name in before else []
            diff = _diff(initial, rows)
            checks.append(CheckResult(f"state.{name}.unchanged", not diff,
                                      f"{name}: changed during the run" if diff else f"{name}: unchanged", diff))
        for matcher in spec.contains:
            hit = any(matcher.matches(row) for row in rows)
            checks.append(CheckResult(
                f"state.{name}.contains", hit,
                f"{name}: {'has' if hit else 'no'} row matching {matcher.describe()!r}",
                "" if hit else f"rows: {rows!r}", expected=matcher.describe(), actual=rows))
        for matcher in spec.absent:
            bad = [row for row in rows if matcher.matches(row)]
            checks.append(CheckResult(
                f"state.{name}.absent", not bad,
                f"{name}: {len(bad)} row(s) match {matcher.describe()!r}" if bad else f"{name}: no forbidden row",
                "\n".join(repr(r) for r in bad), expected=matcher.describe(), actual=bad))
        if spec.count is not None:
            ok = spec.count.matches(len(rows))
            checks.append(CheckResult(f"state.{name}.count", ok, f"{name}: {len(rows)} row(s)",
                                      "" if ok else "; ".join(spec.count.mismatches(len(rows))),
                                      expected=spec.count.describe(), actual=len(rows)))
    return checks
