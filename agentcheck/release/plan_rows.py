"""The plan rows: beside a results document's `scenarios` statistics, what its run planned, compactly.

A results document (results.json) carries in its header `"plan": {"fields": [...], "rows": [...]}`,
one row per planned scenario in plan order: its id, file, line, agent, tags, planned trials and
criterion (`required_pass_rate`), all on one line, as every other header key (a reader of an earlier
version skips it as any key it does not know).

Why a second table: `agentcheck merge` places a shard's results by what its run planned, and used
to take that from the `scenarios` rows, whose twenty statistics per scenario made them most of the
time spent reading a shard's header (4 MB and 80 ms of parsing per 10 000 scenarios, for the six
values merge reads of each). These rows are a fifth of the size and parse eight times faster. They
are derived data like the run index (agentcheck.release.run_index): a file whose rows are missing or
not in this version's layout is read from its `scenarios` rows as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import orjson

from agentcheck.verdict import PlannedScenario

FIELDS = ("scenario_id", "file", "line", "agent", "tags", "trials", "required_pass_rate")
"""A row's values, in order."""

HEAD = b'"plan": '
"""How the rows' header line starts (one top-level key per line: agentcheck.release.results_file)."""

Row = tuple[str, str, Any, str, tuple[str, ...], int, float]
"""A planned scenario as merge reads it: id, file, line, agent, tags, trials, required pass rate
(a PlannedScenario without its index: its place in the merged suite is merge's to give)."""


_ROW = attrgetter(*FIELDS)
"""A PlannedScenario's row, as a tuple (orjson writes it, and its tags, as arrays)."""


def header_line(planned: Sequence[PlannedScenario]) -> bytes:
    """The document's plan line (its key, its value, the separator). (The rows are taken at C speed:
    a merge's 20 000 took 25 ms in Python, on the JSON report's path at the end.)"""
    return HEAD + orjson.dumps({"fields": FIELDS, "rows": list(map(_ROW, planned))}) + b",\n"


def read_rows(value: Any) -> list[Row] | None:
    """The rows of a parsed plan value as merge reads them; None unless every row is what a run
    writes (texts, a line that is an integer or null, a list of text tags, at least one trial, a
    criterion from 0 to 1): anything else is read from the `scenarios` rows instead."""
    if type(value) is not dict or value.get("fields") != list(FIELDS) or type(value.get("rows")) is not list:
        return None
    table: list[Row] = []
    for row in value["rows"]:
        if type(row) is not list or len(row) != len(FIELDS):
            return None
        scenario_id, file, line, agent, tags, trials, required = row
        if (type(scenario_id) is not str or type(file) is not str or (line is not None and type(line) is not int)
                or type(agent) is not str or type(tags) is not list or not all(type(t) is str for t in tags)
                or type(trials) is not int or trials < 1 or type(required) not in (int, float)
                or not 0 <= required <= 1):
            return None
        table.append((scenario_id, file, line, agent, tuple(tags), trials, float(required)))
    return table
