"""The run index: beside a results document's results, the few numbers merge reads of each.

A results document (results.json) carries in its header `"run_index": {"fields": [...], "rows": [...]}`,
one row per line of its `results` section, in the same order (null for a result with no row), all
on one line, as every other header key (so a reader of an earlier version skips it as it skips any
key it does not know). A row holds what `metrics_from_data` reads of that result (gates, stats and
segments need no more), the values JUnit and the console read of a plain passing run, and a check
value. `agentcheck merge` and `compare` read a file's rows instead of parsing each result and walking
its trace: a fourth of the work per result (docs/release-decisions.md has the figures).

Rows are derived data, made from each result's own JSON text (`row_of_data`), and trusted only as far
as they prove themselves: the check value is a CRC-32 over the result's text (all of it after its
`index`, which merge renumbers: a row stays valid, byte for byte, in the merged document) and the
rest of the row, so a result edited by hand (or a row, or a damaged file) is read in full again, as
are all rows of a document whose `fields` are not this version's. The CRC guards against accidents,
not tampering: a reader that must not trust a file should not merge it.
"""

from __future__ import annotations

import math
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from agentcheck.release.decode import metrics_from_data

FIELDS = ("check", "scenario_id", "trial", "outcome", "agent", "file", "line", "tags", "message", "cost_usd",
          "latency_s", "tokens", "tool_calls", "attack_succeeded", "utility_under_attack", "policy_violations",
          "agent_version", "model_route", "tool_errors", "shape", "trace_id", "input_tokens", "output_tokens",
          "duration_ms", "plain")
"""A row's values, in order. `plain`: the run passed and JUnit and the console need nothing else of it
(`reader_view`); the four before it are null when it is not plain."""

(_CHECK, _SCENARIO_ID, _TRIAL, _OUTCOME, _AGENT, _FILE, _LINE, _TAGS, _MESSAGE, _COST, _LATENCY, _TOKENS,
 _TOOL_CALLS, _ATTACK, _UTILITY, _VIOLATIONS, _VERSION, _ROUTE, _TOOL_ERRORS, _SHAPE, _TRACE_ID, _INPUT,
 _OUTPUT, _DURATION, _PLAIN) = range(len(FIELDS))

HEAD = b'"run_index": '
"""How the index's header line starts (one top-level key per line: agentcheck.release.results_file)."""


def header_line(rows: list[bytes | None]) -> bytes:
    """The document's run_index line (its key, its value, the separator) for the encoded rows."""
    joined = b",".join(b"null" if row is None else row for row in rows)
    return HEAD + b'{"fields":' + orjson.dumps(FIELDS) + b',"rows":[' + joined + b"]},\n"


def read_rows(value: Any) -> list[Any] | None:
    """The rows of a parsed run_index value; None unless it is this version's layout."""
    if type(value) is not dict or value.get("fields") != list(FIELDS) or type(value.get("rows")) is not list:
        return None
    return value["rows"]  # type: ignore[no-any-return]


def _tail(text: bytes) -> memoryview | None:
    """What a row's check covers of a result's text: all of it after its `index` (see the module);
    None for a text that does not start as agentcheck writes one (it is read in full)."""
    comma = text.find(b",")
    return memoryview(text)[comma:] if comma > 0 and text.startswith(_INDEX_HEAD) else None


_INDEX_HEAD = b'{"index":'
"""How a result's JSON text starts when agentcheck wrote it (orjson, ScenarioResult field order)."""


def row_of_data(data: dict[str, Any], text: bytes) -> bytes | None:
    """The encoded row of a result given as its JSON data and the text it was read from; None when the
    result is not one a row can stand in for (a tool name that is not text, a value of an odd type)."""
    trace = data.get("trace")
    events = trace.get("events") if type(trace) is dict else None
    if events is not None and (type(events) is not list or any(
            type(e) is not dict or (e.get("kind") != "model_call" and type(e.get("tool")) is not str) for e in events)):
        return None  # (handoff is worked out from the shape's tool names: they must be the events' own)
    metrics = metrics_from_data(data)
    if any(type(tag) is not str for tag in metrics.tags):
        return None  # (a row's tags are texts: see metrics_fields)
    if not (math.isfinite(metrics.cost_usd) and math.isfinite(metrics.latency_s)):
        return None  # (a text such as "NaN" read as a number: JSON has no such number to keep it)
    view = _plain_values(data, trace)
    try:
        body = orjson.dumps([
            metrics.scenario_id, metrics.trial, metrics.outcome.value, metrics.agent, metrics.file, metrics.line,
            metrics.tags, metrics.message, metrics.cost_usd, metrics.latency_s, metrics.tokens, metrics.tool_calls,
            metrics.attack_succeeded, metrics.utility_under_attack, metrics.policy_violations, metrics.agent_version,
            metrics.model_route, metrics.tool_errors, metrics.shape, *(view or (None, None, None, None)),
            view is not None,
        ])
    except (TypeError, orjson.JSONEncodeError):  # (a value orjson cannot write: no row, read in full)
        return None
    return _encoded(body, text)


def _plain_values(data: dict[str, Any], trace: Any) -> tuple[str, int, int, float] | None:
    """(trace_id, input tokens, output tokens, duration) of a plain passing run: one whose JUnit testcase
    and console line `reader_view` gives exactly (every value of the usual type, no failed advisory
    check, no folded trials); None for any other run."""
    if data.get("outcome") != "passed" or "trials" in data or type(trace) is not dict:
        return None
    checks = data.get("checks")
    if checks is not None and (type(checks) is not list or any(
            type(c) is not dict or (c.get("advisory") and not c.get("passed")) for c in checks)):
        return None
    totals = trace.get("totals")
    if type(totals) is not dict:
        return None
    agent, trace_id, duration = data.get("agent"), trace.get("trace_id"), data.get("duration_ms")
    cost, tokens_in, tokens_out = totals.get("cost_usd"), totals.get("input_tokens"), totals.get("output_tokens")
    line = data.get("line")
    if (type(agent) is not str or not agent or type(data.get("scenario_id")) is not str
            or type(data.get("file")) is not str or type(trial := data.get("trial")) is not int or trial < 1
            or (line is not None and type(line) is not int) or type(trace_id) is not str
            or type(duration) is not float or not math.isfinite(duration) or type(cost) is not float
            or not math.isfinite(cost) or math.copysign(1.0, cost) < 0  # (metrics read -0.0 as 0.0)
            or type(tokens_in) is not int or type(tokens_out) is not int
            or type(totals.get("tool_calls")) is not int):
        return None
    return trace_id, tokens_in, tokens_out, duration


def _encoded(body: bytes, text: bytes) -> bytes | None:
    """The row: its check value (over the result's text after its index, then the rest of the row),
    then the rest; None for a text not written as agentcheck writes results."""
    tail = _tail(text)
    if tail is None:
        return None
    rest = body[1:]
    return b"[%d,%s" % (zlib.crc32(rest, zlib.crc32(tail)), rest)


def proven(row: Any, text: bytes) -> bytes | None:
    """The row encoded (as the merged document keeps it) when it is this version's and its check value
    is that of `text` and the rest of the row, and `text` starts with an index as agentcheck writes
    it (the check does not cover the index); else None: read the result in full."""
    if type(row) is not list or len(row) != len(FIELDS) or type(row[_CHECK]) is not int:
        return None
    tail = _tail(text)
    if tail is None or not index_written_plainly(text, tail):
        return None
    try:
        rest = orjson.dumps(row[1:])[1:]
    except (TypeError, orjson.JSONEncodeError):  # (values no run writes: made by hand)
        return None
    return b"[%d,%s" % (row[_CHECK], rest) if zlib.crc32(rest, zlib.crc32(tail)) == row[_CHECK] else None


_INTEGER = re.compile(rb"-?(?:0|[1-9][0-9]*)")
"""An `index` as agentcheck (orjson) writes it; anything else is read in full (and refused there)."""


def index_written_plainly(text: bytes, tail: memoryview | None = None) -> bool:
    """Whether a result's text starts with an integer `index` as agentcheck writes it, so the index can
    be replaced by slicing the text (a text index such as "a,b" holds a comma of its own)."""
    tail = tail if tail is not None else _tail(text)
    return tail is not None and _INTEGER.fullmatch(text, len(_INDEX_HEAD), len(text) - len(tail)) is not None


def paired(rows: list[Any], texts: Iterable[bytes]) -> Iterator[tuple[int, bytes, list[Any] | None, bytes | None]]:
    """Each result text (in file order) with its position, its row when the row proves itself (else
    None: read that result in full), and the row encoded for the merged document."""
    for position, text in enumerate(texts):
        row = rows[position] if position < len(rows) else None
        encoded = proven(row, text) if row is not None else None
        yield position, text, row if encoded is not None else None, encoded


def renumbered(text: bytes, index: int) -> bytes:
    """A result's text with only its `index` changed (see `index_written_plainly`: the caller checked)."""
    return b"%s%d%s" % (_INDEX_HEAD, index, text[text.index(b","):])


def index_of_text(text: bytes) -> int:
    """The `index` a proven row's result text starts with (see `proven`)."""
    return int(text[len(_INDEX_HEAD):text.index(b",")])


def row_fields(row: list[Any], index: int, handoff_tools: frozenset[str]) -> tuple[Any, ...] | None:
    """`metrics_fields` of a proven row, or None for a row of this version's length and check but not
    of its types (made by hand): the caller reads that result in full."""
    try:
        return metrics_fields(row, index, handoff_tools)
    except TypeError:
        return None


def metrics_fields(row: list[Any], index: int, handoff_tools: frozenset[str]) -> tuple[Any, ...]:
    """A proven row as RunMetrics fields, in their order (agentcheck.saved_shards.Record), the outcome
    as its text; the texts many runs share are interned (see decode._shared). TypeError: a row of
    this version's length but not of its types (made by hand: the caller reads the result in full)."""
    intern = sys.intern
    tags = tuple(map(intern, row[_TAGS]))
    shape = tuple(map(intern, row[_SHAPE]))
    version, route = row[_VERSION], row[_ROUTE]
    return (index, row[_SCENARIO_ID], intern(row[_AGENT]), tags, row[_OUTCOME], row[_COST], row[_LATENCY],
            row[_TOKENS], row[_TOOL_CALLS], row[_ATTACK], row[_UTILITY], row[_VIOLATIONS], row[_TRIAL],
            intern(row[_FILE]), row[_LINE], intern(version) if type(version) is str else version,
            intern(route) if type(route) is str else route, row[_TOOL_ERRORS], shape, intern(row[_MESSAGE]),
            not handoff_tools.isdisjoint(shape))


def reader_view(row: list[Any], index: int) -> dict[str, Any] | None:
    """What JUnit and the console read of a plain passing run (`plain`), as the run's JSON data would
    give it to them; None for any other run (give them its data)."""
    if not row[_PLAIN]:
        return None
    return {
        "index": index, "scenario_id": row[_SCENARIO_ID], "file": row[_FILE], "line": row[_LINE],
        "agent": row[_AGENT], "outcome": "passed", "trial": row[_TRIAL], "duration_ms": row[_DURATION],
        "trace": {"trace_id": row[_TRACE_ID], "totals": {
            "cost_usd": row[_COST], "input_tokens": row[_INPUT], "output_tokens": row[_OUTPUT],
            "tool_calls": row[_TOOL_CALLS]}},
    }


def trial_of(row: list[Any]) -> int:
    return row[_TRIAL]  # type: ignore[no-any-return]


def scenario_of(row: list[Any]) -> str:
    return row[_SCENARIO_ID]  # type: ignore[no-any-return]
