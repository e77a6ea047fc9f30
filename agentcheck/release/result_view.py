"""A saved result read for its numbers and its usual report lines only: the usual-run view.

Merge parses 20 000 saved results to read a few dozen fields of each (its RunMetrics, the JUnit
testcase and the console line of a passing run); parsing each whole, with the arguments and results
of every tool call, was a third of merge's work. `view_of` decodes a result's JSON text (msgspec)
into plain dicts and lists holding only those fields, typed as agentcheck writes them; everything
else in the text is skipped unread. Anything unusual in those fields (another type, an integer past
64 bits, which orjson reads as a float) does not decode: the caller parses that result whole, as
before, so a result reads the same either way.

The fields are those read by `decode.metrics_from_data` and by the readers' `prepare_usual`
(report/base.py: UsualRunPreparer); tests/test_result_view.py fails when one of them reads another.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import msgspec

Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
"""An integer orjson reads as an integer (from 2**63 on, msgspec and orjson differ: such text is
parsed whole). Booleans are not integers here."""

Number = Int | float
"""As orjson reads it: `450` an int, `450.0` a float."""


class _Totals(TypedDict, total=False):
    cost_usd: Number | None
    wall_time_ms: Number | None
    input_tokens: Number | None
    output_tokens: Number | None
    tool_calls: Number | None


class _Policy(TypedDict, total=False):
    decision: str | None


class _Event(TypedDict, total=False):
    kind: str
    tool: str
    status: str
    policy: _Policy | None
    route: str | None
    model: str | None


class _Trace(TypedDict, total=False):
    trace_id: str
    agent: str | None
    agent_version: str | None
    events: list[_Event]
    totals: _Totals


class _Check(TypedDict, total=False):
    check: str
    passed: bool
    advisory: bool


class UsualRun(TypedDict, total=False):
    """A result as the view holds it (a field the text lacks is absent, as in the parsed text)."""

    index: Int
    scenario_id: str
    file: str
    line: Int | None
    agent: str
    tags: list[str]
    outcome: str
    message: str
    checks: list[_Check]
    trace: _Trace
    trial: Int
    duration_ms: Number
    trials: Any
    """Only whether it is there is read (a folded scenario's record: never the usual run)."""


_decoder = msgspec.json.Decoder(UsualRun)


def view_of(text: bytes) -> dict[str, Any] | None:
    """The usual-run view of a result's JSON text, or None when the text is not a usual run's (or not
    JSON at all: parsing it whole says so)."""
    try:
        return _decoder.decode(text)  # type: ignore[return-value]
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # (ValidationError is a DecodeError)
        return None
