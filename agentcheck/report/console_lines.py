"""A run's one-line report in the console (`PASSED id (0.45s, 2 tool calls)`), as plain text: the
parts the console's live lines, tables and merge's 20 000 saved runs share (agentcheck.report.console)."""

from __future__ import annotations

import math
from typing import Any

from agentcheck.calls import plural


def run_name(scenario_id: str, trial: int) -> str:
    """A run's name in lines and tables: the scenario id, and its trial past the first."""
    return f"{scenario_id} [trial {trial}]" if trial > 1 else scenario_id


def line_rest(name: str, outcome: str, seconds: float, tool_calls: int, message: str = "") -> str:
    """A run's line after its outcome label: ` id (0.01s, 2 tool calls)`, then ` — why` unless it passed."""
    rest = f" {name}"
    if outcome != "skipped":
        rest += f" ({seconds:.2f}s, {plural(tool_calls, 'tool call')})"
    if outcome != "passed":
        rest += f" — {message or outcome}"
    return rest


_CALLS = {n: plural(n, "tool call") for n in range(64)}


def usual_passed_line(data: dict[str, Any]) -> str | None:
    """`ConsoleReporter._print_passed`'s line for the usual saved run (a first trial, a printable id, a finite duration
    and a small call count: nothing to strip, expand or look up), in one format call; else None."""
    scenario_id, trial, duration_ms = data.get("scenario_id"), data.get("trial"), data.get("duration_ms")
    trace = data.get("trace")
    totals = trace.get("totals") if type(trace) is dict else None
    count = totals.get("tool_calls") if type(totals) is dict else None
    calls = _CALLS.get(count) if type(count) is int else None  # type: ignore[arg-type]
    if (calls is None or trial != 1 or type(trial) is not int or type(scenario_id) is not str
            or type(duration_ms) is not float or not math.isfinite(duration_ms) or not scenario_id.isprintable()):
        return None
    return "PASSED %s (%.2fs, %s)" % (scenario_id, duration_ms / 1000, calls)  # noqa: UP031  # a third of the f-string's cost


def strip_control_codes(text: str) -> str:
    """What rich.text.Text does to every string it is given (imported when first needed)."""
    from rich.control import strip_control_codes as strip

    return strip(text)
