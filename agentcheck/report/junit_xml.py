"""XML text for the JUnit report: escaping, tags and the per-run <properties>.

Written by hand (not through an XML library) because a merge renders 20 000 testcases with 7
properties each: the usual value needs no escaping, and one regex search proves it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from agentcheck.report.show import as_text, number

CASE_PROPERTIES = ("trace_id", "agent", "cost_usd", "input_tokens", "output_tokens", "tool_calls", "outcome")
"""Per-run properties, in this order (testcase <properties> in the rich form)."""

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
ATTR_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
# Text with none of these needs no escaping or cleaning at all: the usual case (names, numbers, ids),
# so one regex search replaces the escape/clean calls per value (400 000 attributes for 20 000 runs).
_TEXT_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')


def escape(data: str, entities: dict[str, str] | None = None) -> str:
    """`xml.sax.saxutils.escape`, spelled out: importing that module imports urllib.request, and with it
    http, ssl and email (20 ms of every command that writes JUnit)."""
    data = data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for key, value in (entities or {}).items():
        data = data.replace(key, value)
    return data


def xml_clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold at all (even as references)."""
    return _ILLEGAL_XML.sub("", text)


def xml_text(value: Any) -> str:
    text = as_text(value)
    return escape(xml_clean(text)) if _TEXT_SPECIAL.search(text) else text


def xml_attr(value: Any) -> str:
    """A double-quoted attribute value; newlines and tabs kept as character references."""
    kind = type(value)
    if kind is int:  # counts and line numbers: digits, nothing to escape (as_text gives their repr)
        return f'"{value}"'
    text = value if kind is str else as_text(value)
    if _ATTR_SPECIAL.search(text):
        text = escape(xml_clean(text), ATTR_ENTITIES)
    return '"' + text + '"'


def seconds(ms: Any) -> str:
    """Milliseconds as JUnit seconds: at most 3 decimals, never negative (junit-10.xsd SUREFIRE_TIME)."""
    value = number(ms)
    return f"{(value if value > 0.0 else 0.0) / 1000:.3f}"  # (max(-0.0, 0.0) is -0.0: "-0.000")


def open_tag(tag: str, attrs: list[tuple[str, Any]]) -> str:
    return f"<{tag}" + "".join(f" {name}={xml_attr(value)}" for name, value in attrs if value is not None) + ">"


def element(tag: str, attrs: list[tuple[str, Any]], body: str | None = None) -> str:
    start = open_tag(tag, attrs)
    return start[:-1] + "/>" if body is None else f"{start}{body}</{tag}>"


def property_lines(pairs: list[tuple[str, Any]], pad: str) -> str:
    """`<property name=".." value=".."/>` lines (`element` spelled out: 140 000 of them for 20 000 runs)."""
    return "".join(f"{pad}<property name={xml_attr(k)} value={xml_attr(v)}/>\n" if v is not None
                   else f"{pad}<property name={xml_attr(k)}/>\n" for k, v in pairs)


@functools.lru_cache(maxsize=1024)
def quoted(text: str) -> str:
    """`xml_attr` of the few strings every testcase of a file repeats (its path and class name)."""
    return xml_attr(text)


@functools.lru_cache(maxsize=4096)
def property_line(pad: str, name: str, value: str | int) -> str:
    """One property line, remembered: most testcase values repeat (agent, outcome, token counts)."""
    return f"{pad}<property name={xml_attr(name)} value={xml_attr(value)}/>\n"


def case_properties(values: list[Any], pad: str) -> str:
    """The testcase's <properties> for the CASE_PROPERTIES `values` (20 000 of these per merge): one
    format call when no value needs escaping (the usual case: ids, names and numbers), else each
    property line escaped as property_line does."""
    texts = [v if type(v) is str else str(v) if type(v) is int else None for v in values]
    if None not in texts and not _ATTR_SPECIAL.search("".join(texts)):  # type: ignore[arg-type]
        return _case_template(pad) % tuple(texts)  # (%-formatting: a third of str.format's cost here)
    inner = pad + "  "
    lines = "".join(property_line(inner, k, v) if type(v) in (str, int) else property_lines([(k, v)], inner)
                    for k, v in zip(CASE_PROPERTIES, values, strict=True))
    return f"{pad}<properties>\n{lines}{pad}</properties>\n"


@functools.lru_cache(maxsize=8)
def _case_template(pad: str) -> str:
    """<properties> with one `%s` per CASE_PROPERTIES value (their names need no escaping; a `%` in
    the padding would be doubled)."""
    inner = pad.replace("%", "%%") + "  "
    lines = "".join(f'{inner}<property name="{name}" value="%s"/>\n' for name in CASE_PROPERTIES)
    return f"{pad.replace('%', '%%')}<properties>\n{lines}{pad.replace('%', '%%')}</properties>\n"


def passing_case(result: Mapping[str, Any], name: str, classname: str, rel: str) -> str | None:
    """The rich-form <testcase> of a plain passing single-trial run, in one format call — or None
    when it is anything else (a failure, trials, an advisory failure, a value that is not the usual
    str/int/finite float, or text that needs escaping), for the general renderer. The general one
    gives the same text (tested): this is merge's 20 000-testcase lane, not a second format.
    `classname` and `rel` come quoted (`quoted`)."""
    if result.get("outcome") != "passed" or "trials" in result:
        return None
    checks = result.get("checks")
    if checks is not None:
        if type(checks) is not list:
            return None
        for check in checks:
            if type(check) is not dict or (check.get("advisory") and not check.get("passed")):
                return None
    trace = result.get("trace")
    if type(trace) is not dict:
        return None
    totals = trace.get("totals")
    if type(totals) is not dict:
        return None
    trace_id, agent = trace.get("trace_id"), result.get("agent") or trace.get("agent")
    cost, duration, line = totals.get("cost_usd"), result.get("duration_ms"), result.get("line")
    counts = (totals.get("input_tokens"), totals.get("output_tokens"), totals.get("tool_calls"))
    if (type(trace_id) is not str or type(agent) is not str or type(cost) is not float or type(duration) is not float
            or not math.isfinite(cost) or not math.isfinite(duration) or (line is not None and type(line) is not int)
            or type(counts[0]) is not int or type(counts[1]) is not int or type(counts[2]) is not int
            or _ATTR_SPECIAL.search(trace_id) or _ATTR_SPECIAL.search(agent)):
        return None
    where = "" if line is None else f' line="{line}"'
    time = (duration if duration > 0.0 else 0.0) / 1000  # (as `seconds`)
    return (f'    <testcase name={xml_attr(name)} classname={classname} time="{time:.3f}"'
            f" file={rel}{where}>\n"
            + _case_template("      ") % (trace_id, agent, f"{cost:.6f}", *counts, "passed")
            + "    </testcase>\n")
