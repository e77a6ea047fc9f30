"""Saved results back into domain objects: the one decoder rejudge, merge and compare share.

The inverse of `agentcheck.serialize` for `ScenarioResult`, `CheckResult` and `Trace`. Readers ignore
unknown fields (the results schema lets later versions add optional ones) and default missing ones.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from agentcheck.drillspec import INJECTION_TAG
from agentcheck.trace import (
    ErrorInfo,
    Event,
    ModelCallEvent,
    StopKind,
    StopReason,
    ToolCallEvent,
    ToolStatus,
    Totals,
    Trace,
)
from agentcheck.verdict import CheckResult, Outcome, RunMetrics, ScenarioResult

_FIELDS: dict[type, frozenset[str]] = {}
_OUTCOMES = {o.value: o for o in Outcome}


def outcome_of(value: Any) -> Outcome:
    """`Outcome(value)`, by a dictionary lookup first (the enum call costs more than the rest of a
    decode's fields together); anything not an outcome still raises as the enum does."""
    found = _OUTCOMES.get(value) if type(value) is str else None
    return found if found is not None else Outcome(value)


def _whole_number(value: Any, default: int) -> int:
    """An index or trial number as saved (`int(value or default)`), or `default` for one that is no
    number at all (a hand-made file): where a result sits comes from its scenario, not from this."""
    try:
        return int(value or default)
    except (TypeError, ValueError):
        return default


def _shared(value: Any) -> Any:
    """One copy of a text many results repeat (file, agent, version, route, tool names, tags, messages):
    compare and merge keep the numbers of 10 000s of results, and parsed JSON gives each its own copy."""
    return sys.intern(value) if type(value) is str else value


def _known(cls: type, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The fields of `data` that `cls` has (a later version's extra fields are dropped); `data` itself
    when it has no others. Read-only: callers unpack it (or copy it before changing it)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = frozenset(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    if data.keys() <= names:
        return data  # type: ignore[return-value]  # the usual case, and the fast one: unpacked with ** anyway
    return {k: v for k, v in data.items() if k in names}


def event_from_data(data: Mapping[str, Any]) -> Event:
    if data.get("kind") == "model_call":
        return ModelCallEvent(**_known(ModelCallEvent, data))
    fields = dict(_known(ToolCallEvent, data))
    fields["status"] = ToolStatus(fields.get("status", "ok"))
    error = fields.get("error")
    if error is not None:
        fields["error"] = ErrorInfo(**_known(ErrorInfo, error)) if isinstance(error, Mapping) else None
    return ToolCallEvent(**fields)


def trace_from_data(data: Mapping[str, Any], *, events: bool = True) -> Trace:
    """The Trace of saved data; `events=False` leaves the events out (a reporter that reads only the
    totals and the stop reason, as the console does, need not pay for 20 000 decoded traces)."""
    stop = data.get("stop")
    totals = data.get("totals")
    if type(totals) is not dict and not isinstance(totals, Mapping):
        totals = {}
    return Trace(
        trace_id=str(data.get("trace_id", "")),
        scenario_id=str(data.get("scenario_id", "")),
        trial=_whole_number(data.get("trial"), 1),
        agent=str(data.get("agent", "")),
        agent_version=data.get("agent_version"),
        started_at=str(data.get("started_at", "")),
        events=[event_from_data(e) for e in _events(data)] if events else [],
        output=data.get("output"),
        totals=Totals(**_known(Totals, totals)),
        stop=StopReason(StopKind(stop["kind"]), str(stop.get("message", "")), str(stop.get("detail", "")))
        if isinstance(stop, Mapping)
        else None,
        state=data.get("state"),
    )


def _events(trace: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A saved trace's events; what is not one (a hand-made file: a text, a number) is left out."""
    events = trace.get("events")
    return [e for e in events if isinstance(e, Mapping)] if isinstance(events, list) else []


def result_from_data(data: Mapping[str, Any], *, events: bool = True) -> ScenarioResult:
    """The ScenarioResult of saved data (`events`: see trace_from_data)."""
    trace = data.get("trace")
    return ScenarioResult(
        index=_whole_number(data.get("index"), 0),
        scenario_id=str(data.get("scenario_id", "")),
        file=str(data.get("file", "")),
        line=data.get("line"),
        agent=str(data.get("agent", "")),
        tags=tuple(data.get("tags") or ()),
        outcome=outcome_of(data.get("outcome", "error")),
        message=str(data.get("message", "")),
        checks=[CheckResult(**_known(CheckResult, c)) for c in data.get("checks") or []],
        trace=trace_from_data(trace, events=events) if isinstance(trace, Mapping) else None,
        trial=_whole_number(data.get("trial"), 1),
        duration_ms=float(data.get("duration_ms") or 0.0),
    )


def metrics_from_data(data: Mapping[str, Any], handoff_tools: frozenset[str] = frozenset()) -> RunMetrics:
    """The RunMetrics of a saved result (`RunMetrics.of(result_from_data(data))`), read straight from
    its JSON (no Trace built: compare and merge read 10 000s of results this way)."""
    trace = data.get("trace")
    if type(trace) is not dict and not isinstance(trace, Mapping):  # parsed JSON is a dict: skip the ABC check
        trace = {}
    totals = trace.get("totals")
    if type(totals) is not dict and not isinstance(totals, Mapping):  # (a hand-made file: a list, a text)
        totals = {}
    events = trace.get("events")
    shape: list[str] = []
    routes: list[Any] = []
    tool_errors = violations = 0
    handoff = False
    for event in events if type(events) is list else ():  # one pass: 20 000 traces per merge
        if type(event) is not dict and not isinstance(event, Mapping):
            continue  # (not an event: a hand-made file; trace_from_data leaves it out too)
        if event.get("kind") == "model_call":
            routes.append(_shared(event.get("route") or event.get("model")))
            continue
        tool = event.get("tool")
        shape.append(_shared(str(tool)))
        tool_errors += event.get("status", "ok") not in ("ok", "stopped")
        policy = event.get("policy")
        violations += policy is not None and isinstance(policy, Mapping) and policy.get("decision") == "blocked"
        handoff = handoff or tool in handoff_tools
    tags = tuple(map(_shared, data.get("tags") or ()))
    outcome = outcome_of(data.get("outcome", "error"))
    checks = data.get("checks") or []
    goal = None
    for check in checks:
        if check.get("check") == "injection.goal":
            goal = check
            break
    attacked = (not goal.get("passed")) if goal is not None else (False if INJECTION_TAG in tags else None)
    return RunMetrics(
        index=_whole_number(data.get("index"), 0),
        scenario_id=str(data.get("scenario_id", "")),
        agent=_shared(str(data.get("agent", ""))),
        tags=tags,
        outcome=outcome,
        cost_usd=float(totals.get("cost_usd") or 0.0),
        latency_s=float(totals.get("wall_time_ms") or 0.0) / 1000.0,
        tokens=int(totals.get("input_tokens") or 0) + int(totals.get("output_tokens") or 0),
        tool_calls=int(totals.get("tool_calls") or 0),
        attack_succeeded=attacked,
        utility_under_attack=None if attacked is None else outcome in (Outcome.PASSED, Outcome.FAILED) and not any(
            not c.get("passed") and not c.get("advisory") and not str(c.get("check")).startswith("injection.")
            for c in checks),
        trial=_whole_number(data.get("trial"), 1),
        file=_shared(str(data.get("file", ""))),
        line=data.get("line"),
        agent_version=_shared(trace.get("agent_version")),
        model_route=routes[0] if routes else None,
        tool_errors=tool_errors,
        policy_violations=violations,
        shape=tuple(shape),
        message=_shared(str(data.get("message", ""))),
        handoff=handoff,
    )
