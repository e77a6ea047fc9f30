"""Show one stored result in the terminal, and the text helpers every report shares.

`render_trace` works on the serialised (dict) form, as read back from a results JSONL stream or a
results JSON document, so `agentcheck show` needs no live objects and can open any past run.

The helpers (`one_line`, `explain_check`, ...) live here because the console, JUnit and this view must
word a failure the same way; they take plain data and never raise on odd values (None fields,
non-string outputs, huge payloads). rich is imported inside functions only: importing this module
must stay cheap for CLI start-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcheck.redact import scrub
from agentcheck.reliability import RESULTS_SCHEMA
from agentcheck.report.stream import read_log
from agentcheck.serialize import encode, to_data

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

MESSAGE_LIMIT = 300
"""Characters kept in a one-line message (JUnit `message` attribute, console lines)."""
BODY_LIMIT = 64 * 1024
"""Bytes kept in one multi-line body (a failure body, a traceback, system-out)."""
VALUE_LIMIT = 2000
"""Characters kept when showing one value (tool args, tool result, final output)."""

OUTCOMES = ("passed", "failed", "error", "skipped")
OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "error": "bold magenta", "skipped": "yellow"}


# ---------------------------------------------------------------------------------------------------
# Text helpers shared by the console, JUnit and show views
# ---------------------------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """Any value as display text: strings as they are, None as empty, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(value)  # what JSON would say, without the encoder's overhead
        return json.dumps(value, ensure_ascii=False, default=encode)  # spaced: this is for people
    except (TypeError, ValueError):  # circular data and friends
        try:
            return repr(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"


def safe_data(obj: Any) -> Any:
    """The JSON-able form of `obj`, with non-finite floats (NaN, inf) as null instead of an error.

    Kept as the reporters' name for `serialize.to_data`, which already maps NaN to null.
    """
    return to_data(obj)


def clip(text: str, limit: int = VALUE_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def one_line(value: Any, limit: int = MESSAGE_LIMIT) -> str:
    """A single line for attributes and list views: whitespace runs (newlines too) become one space.
    Joining lines can put a secret back together (`4242\n4242\n…` is no card; `4242 4242 …` is), so the
    joined text passes the run's redactor again before it is cut to `limit`."""
    text = as_text(value)
    joined = " ".join(text.split())
    return clip(scrub(joined) if joined != text else joined, limit)


def truncate_bytes(text: str, limit: int = BODY_LIMIT) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (plus a short note), on a character boundary."""
    raw = text.encode("utf-8", "backslashreplace")
    if len(raw) <= limit:
        return text
    kept = raw[:limit].decode("utf-8", "ignore")
    return f"{kept}\n… [truncated: {len(raw) - limit} more bytes]"


def indent(text: str, prefix: str) -> str:
    """Every line of `text` prefixed (blank lines too, so bodies keep their shape)."""
    return "\n".join(prefix + line for line in text.splitlines())


def number(value: Any) -> float:
    """A finite float from whatever a field holds; 0.0 for None, text, NaN."""
    if type(value) is float:  # the usual case, first (reporters read 200 000 numbers for 20 000 runs)
        return value if math.isfinite(value) else 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        result = float(value)
    except OverflowError:  # an int too large for a float
        return 0.0
    return result if math.isfinite(result) else 0.0


def integer(value: Any) -> int:
    if type(value) is int:  # the usual case (counts, tokens, indexes), first
        return value
    return int(number(value))


def fmt_number(value: Any) -> str:
    """A measured or threshold value as people read it: 3, 0.75, 0.00123, 1234.50; n/a when unknown."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None else as_text(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "n/a"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


def fmt_cost(value: Any) -> str:
    return f"${number(value):.4f}"


def fmt_seconds(ms: Any) -> str:
    return f"{number(ms) / 1000:.2f}s"


def dig(data: Any, *keys: str, default: Any = None) -> Any:
    """`data[k1][k2]...` tolerating missing keys and non-dict values on the way."""
    for key in keys:
        if not isinstance(data, Mapping):
            return default
        data = data.get(key)
    return default if data is None else data


def case_name(result: Mapping[str, Any]) -> str:
    """The scenario id, with ` [trial N]` for repeated trials so every run has a distinct name."""
    name = as_text(result.get("scenario_id")) or f"scenario #{integer(result.get('index'))}"
    trial = integer(result.get("trial", 1))
    return f"{name} [trial {trial}]" if trial > 1 else name


def location(result: Mapping[str, Any], file: str | None = None) -> str:
    """`file:line` (or just the file) of a result's scenario."""
    where = file if file is not None else as_text(result.get("file"))
    line = result.get("line")
    return f"{where}:{line}" if isinstance(line, int) and not isinstance(line, bool) else where


def checks_of(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    checks = result.get("checks")
    return [c for c in checks if isinstance(c, Mapping)] if isinstance(checks, list) else []


def is_blocking(check: Mapping[str, Any]) -> bool:
    return not check.get("passed") and not check.get("advisory")


def blocking_checks(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The failed checks that make the scenario fail (advisory ones excluded)."""
    return [c for c in checks_of(result) if is_blocking(c)]


def advisory_failures(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Failed checks marked advisory: reported, never blocking."""
    return [c for c in checks_of(result) if not c.get("passed") and c.get("advisory")]


def check_header(check: Mapping[str, Any]) -> str:
    """`name: message (step 3, tool refund_order)` for one check."""
    where = []
    if check.get("step") is not None:
        where.append(f"step {as_text(check.get('step'))}")
    if check.get("tool"):
        where.append(f"tool {as_text(check.get('tool'))}")
    suffix = f" ({', '.join(where)})" if where else ""
    return f"{as_text(check.get('check')) or 'check'}: {one_line(check.get('message'))}{suffix}"


def check_details(check: Mapping[str, Any], *, verbose: bool = False) -> str:
    """The explanation of one check; expected/actual are shown when there is no explanation (or when
    `verbose`), since the explanation usually already states them."""
    lines: list[str] = []
    explanation = as_text(check.get("explanation")).rstrip()
    if explanation:
        lines.append(explanation)
    if verbose or not explanation:
        for key in ("expected", "actual"):
            if check.get(key) is not None:
                lines.append(f"{key}: {clip(as_text(check.get(key)))}")
    return "\n".join(lines)


def explain_check(check: Mapping[str, Any], *, mark: str = "✗", verbose: bool = False) -> str:
    """One check as a block: the header line, then its details indented by four spaces."""
    details = check_details(check, verbose=verbose)
    head = f"{mark} {check_header(check)}"
    return f"{head}\n{indent(details, '    ')}" if details else head


def stop_of(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    stop = dig(result, "trace", "stop")
    return stop if isinstance(stop, Mapping) else None


# ---------------------------------------------------------------------------------------------------
# Loading stored results
# ---------------------------------------------------------------------------------------------------


def find_results(path: Path) -> list[dict[str, Any]]:
    """Every result in a results JSONL stream, a results JSON document, or a run folder holding one
    JSONL stream; in index order. Raises ValueError naming the file when it is neither."""
    path = Path(path)
    if path.is_dir():
        streams = sorted(path.glob("*.jsonl"))
        named = [p for p in streams if p.name == "results.jsonl"]
        if named or len(streams) == 1:
            path = (named or streams)[0]
        else:
            raise ValueError(f"{path}: expected one results .jsonl file in this folder, found {len(streams)}")
    if path.suffix == ".jsonl" or _looks_like_stream(path):
        return read_log(path)[1]
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except ValueError as exc:  # invalid JSON or not UTF-8
        raise ValueError(f"{path}: not a results file (invalid JSON: {exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise ValueError(f"{path}: not a results file (no 'results' list)")
    schema = document.get("schema")
    if schema is not None and schema != RESULTS_SCHEMA:
        raise ValueError(f"{path}: a '{schema}' document; this agentcheck reads '{RESULTS_SCHEMA}'")
    results = document["results"]
    ordered = [r for r in results if isinstance(r, dict)]
    ordered.sort(key=lambda r: (integer(r.get("index")), integer(r.get("trial", 1))))
    return ordered


def _looks_like_stream(path: Path) -> bool:
    """True when the first line alone is a stream record (`{"type": "plan", ...}`)."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        record = json.loads(first)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return False
    return isinstance(record, dict) and record.get("type") in ("plan", "result", "summary")


# ---------------------------------------------------------------------------------------------------
# Rendering one result
# ---------------------------------------------------------------------------------------------------


def render_trace(result: Mapping[str, Any], console: Console, *, max_chars: int = VALUE_LIMIT) -> None:
    """Print one result: header, every step, final output, stop reason and checks.

    Values (arguments, tool results, output) are cut to `max_chars` characters each so one huge
    payload cannot flood the terminal.
    """
    from rich.text import Text

    trace = result.get("trace") if isinstance(result.get("trace"), Mapping) else None
    for line in _header(result, trace):
        console.print(line)
    events = trace.get("events") if trace else None
    if isinstance(events, list) and events:
        console.print(Text("steps", style="bold"))
        for event in events:
            if isinstance(event, Mapping):
                for line in _event_lines(event, max_chars):
                    console.print(line)
    elif trace is not None:
        console.print(Text("steps: none recorded", style="dim"))
    if trace is not None:
        console.print(Text.assemble(("output: ", "bold"), clip(as_text(trace.get("output")), max_chars)))
    stop = stop_of(result)
    if stop is not None:
        console.print(
            Text.assemble(
                ("stop: ", "bold"),
                (as_text(stop.get("kind")) or "stopped", "magenta"),
                f": {one_line(stop.get('message'), max_chars)}",
            )
        )
        detail = as_text(stop.get("detail")).rstrip()
        if detail:
            console.print(Text(indent(truncate_bytes(detail, 8 * 1024), "    "), style="dim"))
    checks = checks_of(result)
    if checks:
        console.print(Text("checks", style="bold"))
        for check in checks:
            console.print(_check_text(check))


def _header(result: Mapping[str, Any], trace: Mapping[str, Any] | None) -> list[Text]:
    from rich.text import Text

    outcome = as_text(result.get("outcome")) or "unknown"
    lines = [
        Text.assemble(
            (case_name(result), "bold"),
            "  ",
            (outcome.upper(), OUTCOME_STYLE.get(outcome, "bold")),
            f"  {location(result)}" if result.get("file") else "",
        )
    ]
    message = one_line(result.get("message"))
    if message:
        lines.append(Text(f"  {message}"))
    agent = as_text(dig(trace, "agent") or result.get("agent"))
    version = as_text(dig(trace, "agent_version"))
    agent_text = f"{agent} {version}".strip() if version else agent
    lines.append(
        Text.assemble(
            "  trace ",
            (as_text(dig(trace, "trace_id")) or "—", "cyan"),
            "  agent ",
            (agent_text or "—", "cyan"),
            f"  started {as_text(dig(trace, 'started_at'))}" if dig(trace, "started_at") else "",
        )
    )
    totals = dig(trace, "totals", default={})
    if trace is not None:
        virtual = number(dig(totals, "virtual_wait_ms"))
        lines.append(
            Text(
                f"  {integer(dig(totals, 'steps'))} steps · {integer(dig(totals, 'tool_calls'))} tool calls"
                f" · {integer(dig(totals, 'model_calls'))} model calls"
                f" · {integer(dig(totals, 'input_tokens'))} in / {integer(dig(totals, 'output_tokens'))}"
                f" out tokens · {fmt_cost(dig(totals, 'cost_usd'))}"
                f" · {fmt_seconds(dig(totals, 'wall_time_ms'))}"
                + (f" ({fmt_seconds(virtual)} virtual wait)" if virtual else "")
            )
        )
    else:
        lines.append(Text("  no trace recorded", style="dim"))
    return lines


def _event_lines(event: Mapping[str, Any], max_chars: int) -> list[Text]:
    from rich.text import Text

    step = f"  #{as_text(event.get('step')) or '?'} "
    latency = f"{number(event.get('latency_ms')):.0f}ms"
    if event.get("kind") == "model_call":
        route = f"  route {as_text(event.get('route'))}" if event.get("route") else ""
        source = as_text(event.get("source"))
        notes = [Text(f"      retry: {as_text(r)}", style="yellow") for r in event.get("retries") or ()]
        if event.get("error"):
            notes.append(Text(f"      no answer: {as_text(event.get('error'))}", style="red"))
        return [
            Text.assemble(
                step,
                ("model ", "blue"),
                (as_text(event.get("model")) or "?", "bold"),
                f"  {integer(event.get('input_tokens'))} in / {integer(event.get('output_tokens'))} out tokens"
                f"  {fmt_cost(event.get('cost_usd'))}  {latency}{route}",
                (f"  ({source})" if source and source != "agent" else "", "dim"),
            ),
            *notes,
        ]
    status = as_text(event.get("status")) or "?"
    args = clip(as_text(event.get("args")), max_chars)
    lines = [
        Text.assemble(
            step,
            ("tool ", "blue"),
            (as_text(event.get("tool")) or "?", "bold"),
            f"({args})  ",
            (status, "green" if status == "ok" else "red"),
            f"  {latency}",
        )
    ]
    error = event.get("error")
    if isinstance(error, Mapping):
        code = f" (status {as_text(error.get('status'))})" if error.get("status") is not None else ""
        lines.append(
            Text(
                f"      ✗ {as_text(error.get('error_class')) or 'error'}: "
                f"{clip(as_text(error.get('message')), max_chars)}{code}",
                style="red",
            )
        )
    elif event.get("result") is not None or status == "ok":
        lines.append(Text(f"      → {clip(as_text(event.get('result')), max_chars)}"))
    if event.get("policy") is not None:
        lines.append(Text(f"      policy: {clip(_policy_text(event.get('policy')), max_chars)}", style="yellow"))
    if event.get("violation"):
        lines.append(Text(f"      violation: {one_line(event.get('violation'), max_chars)}", style="red"))
    drill = _drill_notes(event, error)
    if drill:
        lines.append(Text(f"      drill: {drill}", style="magenta"))
    return lines


def _drill_notes(event: Mapping[str, Any], error: Any) -> str:
    """Simulated faults, Retry-After, planted payloads and idempotent replays, on one line."""
    notes = []
    if event.get("fault"):
        notes.append(f"fault {as_text(event.get('fault'))}")
    if isinstance(error, Mapping) and error.get("retry_after") is not None:
        notes.append(f"Retry-After {as_text(error.get('retry_after'))}")
    if event.get("untrusted"):
        notes.append("untrusted result (planted payload)")
    if event.get("replay_of") is not None:
        notes.append(f"idempotent replay of step {as_text(event.get('replay_of'))}")
    return " · ".join(notes)
def _policy_text(record: Any) -> str:
    from agentcheck.policy.record import describe_decision

    return describe_decision(record) if isinstance(record, Mapping) else as_text(record)


def _check_text(check: Mapping[str, Any]) -> Text:
    from rich.text import Text

    if check.get("passed"):
        mark, style = "✓", "green"
    elif check.get("advisory"):
        mark, style = "!", "yellow"
    else:
        mark, style = "✗", "red"
    text = Text.assemble(("  " + mark + " ", style), check_header(check))
    if check.get("advisory"):
        text.append(" (advisory)", style="dim")
    details = "" if check.get("passed") else check_details(check)
    if details:
        text.append("\n" + indent(truncate_bytes(details, 16 * 1024), "      "))
    return text

