"""JUnit XML for CI: one <testsuite> per scenario file, one <testcase> per scenario run, one suite for
the release gates.

Two forms, because the consumers disagree (see docs/reports.md):

* default (rich): testcase ``file``/``line`` attributes and per-testcase ``<properties>`` - read by
  GitLab, the Jenkins junit plugin, mikepenz/action-junit-report, EnricoMi's publish action, CircleCI;
* strict (``strict=True``, ``--junit-strict``): valid against ``junit-10.xsd`` (Jenkins xUnit, Maven
  tooling), which forbids those; the per-run properties move to the suite's ``<properties>`` (named
  ``<testcase name>.<key>``) and the location goes into ``<system-out>``.

Every failure/error body starts with ``path:line: message`` so tools that look for locations in the
failure text (dorny/test-reporter) find the scenario.

Writing is streaming and atomic: each testcase is rendered at once to a spool file, then the
document is assembled from the spool into a temp file and moved into place. A run's passing
single-trial results (nearly all of them) are rendered as they come, from the result object; the
rest (failures, errors, repeated trials: they need the scenario's whole story) are read back from the
JSON Lines stream at finish, and every testcase is placed in collection order then, when the per-file
counts that suite attributes need are known. `agentcheck merge` hands each scenario's saved results
over as they arrive, in order (`saved_scenario`). Memory holds counts and offsets (and, per testcase
rendered early, its name and place in the spool), never the results.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Iterator, Mapping
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import IO, Any

from agentcheck.reliability import ScenarioStats
from agentcheck.report.base import PreparedItem
from agentcheck.report.json_report import atomic_writer, logged_results
from agentcheck.report.junit_gates import gates_suite
from agentcheck.report.junit_spool import EarlyCase, Spool, Suite, copy_ranges, extend_range
from agentcheck.report.junit_trials import extra_failures, fold, grouped, trial_lines
from agentcheck.report.junit_xml import (
    CASE_PROPERTIES,
    case_properties,
    element,
    open_tag,
    passing_case,
    property_lines,
    quoted,
    seconds,
    xml_attr,
    xml_text,
)
from agentcheck.report.show import (
    BODY_LIMIT,
    advisory_failures,
    as_text,
    blocking_checks,
    case_name,
    explain_check,
    integer,
    location,
    number,
    one_line,
    stop_of,
    truncate_bytes,
)
from agentcheck.report.stream import ResultLog
from agentcheck.verdict import Outcome, RunPlan, RunSummary, ScenarioResult


class JUnitReporter:
    """Writes the JUnit XML report to `path` at finish: passing single-trial runs rendered as they
    come, the others read back from `log` (or every scenario rendered as it comes, from a session
    that delivers them in collection order: `saved_scenario`)."""

    kind = "junit"
    """The key this reporter's path is listed under in `RunSummary.reports`."""

    def __init__(self, path: Path, log: ResultLog, *, strict: bool = False, project_root: Path):
        self.path = Path(path)
        self.log = log
        self.strict = strict
        self.project_root = Path(project_root)
        self._spool: Spool | None = None
        self._saved = False  # every scenario came with `saved_scenario`: nothing to read back
        self._early: dict[int, EarlyCase] = {}
        self._repeated: set[int] | None = None  # indexes of scenarios run more than once; None before start
        self._places: dict[str, str] = {}  # scenario file -> its relative path (one per file, not per result)

    def start(self, plan: RunPlan) -> None:
        """Start afresh (a run that never finished leaves nothing behind), noting the scenarios planned
        to run more than once: their testcase folds every trial, so it waits."""
        if self._spool is not None:
            self._spool.file.close()
        self._spool, self._saved, self._early = None, False, {}
        self._repeated = {p.index for p in plan.scenarios if p.trials != 1}

    def result(self, result: ScenarioResult) -> None:
        """Render a passing single-trial run's testcase now, from the result object (already redacted,
        so it says what the stream says): finish then need not read it back and parse its whole trace
        again. Anything else is read back at finish, and so is a run whose testcase fields are not
        plain JSON values (their JSON round trip could change them) or that cannot be rendered now:
        this is a shortcut, and must never fail a run."""
        if (result.outcome is not Outcome.PASSED or result.trial != 1 or self._repeated is None
                or result.index in self._repeated or result.index in self._early
                or any(not c.passed and c.advisory for c in result.checks)):
            return
        view = _case_view(result)
        if view is None:
            return
        try:
            if self._spool is None:
                self._spool = Spool()
            spool = self._spool
            rel = self._relative(view["file"])
            name = case_name(view)
            self._early[result.index] = EarlyCase(
                result.index, rel, view["scenario_id"], view["agent"], view["duration_ms"], name,
                spool.append(self._testcase(view, rel, name)),
                spool.append(self._strict_case_properties(view, name)) if self.strict else None,
            )
        except Exception:  # (no temp folder for the spool, say): finish reads it back, and reports any error
            self._early.pop(result.index, None)

    def finish(self, summary: RunSummary) -> None:
        summary.reports["junit"] = str(self.path)
        try:
            self.write(summary)
        except BaseException:
            summary.reports.pop("junit", None)
            raise

    # -- paths and names ---------------------------------------------------------------------------

    def relative_file(self, file: Any) -> str:
        """The scenario file relative to the project root (as given when already relative)."""
        text = as_text(file)
        if not text:
            return "<unknown>"
        path = Path(text)
        if path.is_absolute():
            for root in (self.project_root, self.project_root.resolve()):
                try:
                    return path.relative_to(root).as_posix()
                except ValueError:
                    continue
        return path.as_posix()

    @staticmethod
    @functools.lru_cache(maxsize=1024)  # a handful of scenario files, 20 000 testcases
    def classname(relative_file: str) -> str:
        """`scenarios/refunds.yaml` -> `scenarios.refunds`."""
        posix = PurePosixPath(relative_file)
        if posix.suffix in (".yaml", ".yml"):
            posix = posix.with_suffix("")
        return posix.as_posix().replace("/", ".")

    # -- writing -----------------------------------------------------------------------------------

    def write(self, summary: RunSummary) -> None:
        spool, self._spool = self._spool or Spool(), None
        saved, self._saved = self._saved, False
        early, self._early = self._early, {}
        self._repeated = None
        if not saved:
            stats = summary.release.stats_by_index() if summary.release else {}
            for index in self.log.repeated_indexes().intersection(early):  # more runs than planned
                del early[index]  # (a rejudged stream holds no trial counts): read back with the rest
            try:
                for item in self._in_order(early, grouped(logged_results(self.log, skip=early), stats)):
                    if type(item) is EarlyCase:
                        self._add_early(spool, item)
                    else:
                        self._add(spool, item)
            except BaseException:
                spool.file.close()
                raise
        try:
            gates = gates_suite(summary.gates) if summary.gates else ""
            with atomic_writer(self.path) as out:
                self._write_document(out, spool.file, spool.suites, gates, summary)
        finally:
            spool.file.close()

    def saved_scenario(self, runs: list[dict[str, Any]], stats: ScenarioStats) -> None:
        """One scenario's saved results (JSON data, in trial order), from a session that delivers
        results in collection order (merge): its testcase is rendered now, so finish need not read
        20 000 results back from the stream and parse them again."""
        if self._spool is None:
            self._spool = Spool()
        self._saved = True
        self._add(self._spool, runs[0] if len(runs) == 1 and runs[0].get("trial", 1) == 1 else fold(runs, stats))

    def prepare_saved(self, data: dict[str, Any]) -> tuple[Any, ...] | None:
        """A scenario run once, as its testcase (rendered) and what placing it needs; None for a later
        trial alone (folded at its place). Pure, so merge may call it in a worker process; anything
        that cannot be rendered here is rendered at its place (`saved_prepared`), which says why."""
        if data.get("trial", 1) != 1:
            return None
        try:
            rel = self._relative(data.get("file"))
            name = case_name(data)
            case = self._testcase(data, rel, name)
            props = self._strict_case_properties(data, name) if self.strict else None
        except Exception:
            return None
        return (rel, name, data.get("duration_ms"), data.get("outcome"), case, props)

    def saved_prepared(self, piece: tuple[Any, ...] | None, load: Callable[[], dict[str, Any]],
                       stats: ScenarioStats) -> None:
        """`saved_scenario` for a scenario run once, from its prepared testcase: placed as `_add` places
        it, unless another testcase of its file has its name (then rendered again under the name it gets)."""
        if piece is None:
            self.saved_scenario([load()], stats)
            return
        if self._spool is None:
            self._spool = Spool()
        self._saved = True
        spool = self._spool
        rel, name, duration_ms, outcome, case, props = piece
        suite = spool.suite(rel)
        if name in suite.names:
            self._add(spool, load())
            return
        suite.names.add(name)
        self._count(suite, duration_ms, outcome)
        extend_range(suite.cases, spool.append(case))
        if props is not None:
            extend_range(suite.props, spool.append(props))

    def saved_prepared_batch(self, items: list[PreparedItem]) -> None:
        """`saved_prepared` for each item, in order: the usual testcase (rendered, its name free, no
        strict-form properties) is counted here and its text joined to its neighbours', so a batch of
        one file's testcases goes into the spool in one write."""
        if self._spool is None:
            self._spool = Spool()
        self._saved = True
        spool = self._spool
        cases: list[bytes] = []
        suite: Suite | None = None
        for piece, load, stats in items:
            if piece is not None and piece[5] is None:
                rel, name, duration_ms, outcome, case, _ = piece
                if suite is None or suite.name != rel:
                    self._spooled(spool, suite, cases)
                    suite = spool.suite(rel)
                if name not in suite.names:
                    suite.names.add(name)
                    self._count(suite, duration_ms, outcome)
                    cases.append(case)
                    continue
            self._spooled(spool, suite, cases)  # (in order: what saved_prepared adds goes after them)
            self.saved_prepared(piece, load, stats)
        self._spooled(spool, suite, cases)

    @staticmethod
    def _spooled(spool: Spool, suite: Suite | None, cases: list[bytes]) -> None:
        """Append a batch's gathered testcases of `suite` to the spool in one piece (and empty `cases`)."""
        if cases and suite is not None:
            extend_range(suite.cases, spool.append(b"".join(cases)))
            cases.clear()

    @staticmethod
    def _in_order(early: dict[int, EarlyCase], rest: Iterator[dict[str, Any]]) -> Iterator[EarlyCase | dict[str, Any]]:
        """The testcases rendered early and the results read back, together in collection order."""
        return map(itemgetter(1), heapq.merge(
            ((index, early[index]) for index in sorted(early)),
            ((integer(result.get("index")), result) for result in rest),
            key=itemgetter(0),
        ))

    def _relative(self, file: Any) -> str:
        """`relative_file`, remembered per scenario file (not worked out again for each result)."""
        rel = self._places.get(file) if isinstance(file, str) else None
        if rel is None:
            rel = self.relative_file(file)
            if isinstance(file, str):
                self._places[file] = rel
        return rel

    def _add(self, spool: Spool, result: dict[str, Any]) -> None:
        """Render one scenario's testcase into the spool and count it in its file's suite."""
        rel = self._relative(result.get("file"))
        suite = spool.suite(rel)
        self._count(suite, result.get("duration_ms"), result.get("outcome"))
        name = suite.unique_name(result)
        extend_range(suite.cases, spool.append(self._testcase(result, rel, name)))
        if self.strict:
            extend_range(suite.props, spool.append(self._strict_case_properties(result, name)))

    def _add_early(self, spool: Spool, early: EarlyCase) -> None:
        """Count and place a testcase rendered early. Should another case of its file have taken its
        name (the same scenario id against two agents, say), it is read back and rendered again under
        the name it gets, as every other testcase is."""
        suite = spool.suite(early.rel)
        key = {"scenario_id": early.scenario_id, "agent": early.agent, "index": early.index, "trial": 1}
        if suite.free_name(key) != early.name:
            self._add(spool, self.log.read_result(early.index))
            return
        suite.names.add(early.name)
        self._count(suite, early.duration_ms, "passed")
        extend_range(suite.cases, early.case)
        if early.props is not None:
            extend_range(suite.props, early.props)

    @staticmethod
    def _count(suite: Suite, duration_ms: Any, outcome: Any) -> None:
        suite.tests += 1
        suite.time_ms += max(number(duration_ms), 0.0)
        if outcome == "failed":
            suite.failures += 1
        elif outcome == "skipped":
            suite.skipped += 1
        elif outcome != "passed":
            suite.errors += 1  # `error`, and anything unknown: never report an odd outcome as passed

    def _write_document(
        self, out: IO[str], spool: IO[bytes], suites: dict[str, Suite], gates: str, summary: RunSummary
    ) -> None:
        gate_counts = (len(summary.gates), sum(not g.passed for g in summary.gates))
        total_tests = sum(s.tests for s in suites.values()) + gate_counts[0]
        root: list[tuple[str, Any]] = [
            ("name", "agentcheck"),
            ("tests", total_tests),
            ("failures", sum(s.failures for s in suites.values()) + gate_counts[1]),
            ("errors", sum(s.errors for s in suites.values())),
            ("time", seconds(number(summary.duration_s) * 1000)),
        ]
        if not self.strict:  # junit-10.xsd has no testsuites@skipped/@timestamp; others read them
            root += [("skipped", sum(s.skipped for s in suites.values())), ("timestamp", summary.started_at)]
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(open_tag("testsuites", root) + "\n")
        suite_props = self._suite_properties(summary)
        for suite in suites.values():
            attrs = [
                ("name", suite.name),
                ("tests", suite.tests),
                ("failures", suite.failures),
                ("errors", suite.errors),
                ("skipped", suite.skipped),
                ("time", seconds(suite.time_ms)),
                ("timestamp", summary.started_at),
                ("file", suite.name),
            ]
            out.write(f"  {open_tag('testsuite', attrs)}\n    <properties>\n")
            out.write(property_lines(suite_props, "      "))
            copy_ranges(spool, suite.props, out)
            out.write("    </properties>\n")
            copy_ranges(spool, suite.cases, out)
            out.write("  </testsuite>\n")
        out.write(gates)
        out.write("</testsuites>\n")

    @staticmethod
    def _suite_properties(summary: RunSummary) -> list[tuple[str, Any]]:
        """Run-level facts repeated on every suite (junit-10.xsd has no properties on <testsuites>)."""
        props: list[tuple[str, Any]] = [("agentcheck.run_id", summary.run_id)]
        if summary.interrupted:
            props.append(("agentcheck.interrupted", "true"))
        return props

    # -- one testcase ------------------------------------------------------------------------------

    @staticmethod
    def _case_values(result: Mapping[str, Any]) -> list[Any]:
        """The values of CASE_PROPERTIES for a run, in that order."""
        trace = result.get("trace")
        if type(trace) is not dict:
            trace = trace if isinstance(trace, Mapping) else {}
        totals = trace.get("totals")
        if type(totals) is not dict:
            totals = totals if isinstance(totals, Mapping) else {}
        cost = totals.get("cost_usd")
        return [
            as_text(trace.get("trace_id")),
            as_text(result.get("agent") or trace.get("agent")),
            f"{cost if type(cost) is float and math.isfinite(cost) else number(cost):.6f}",
            integer(totals.get("input_tokens")),
            integer(totals.get("output_tokens")),
            integer(totals.get("tool_calls")),
            as_text(result.get("outcome")),
        ]

    def _strict_case_properties(self, result: Mapping[str, Any], name: str) -> bytes:
        values = self._case_values(result)
        pairs = [(f"{name}.{key}", value) for key, value in zip(CASE_PROPERTIES, values, strict=True)]
        return property_lines(pairs, "      ").encode("utf-8", "backslashreplace")

    def _testcase(self, result: Mapping[str, Any], rel: str, name: str) -> bytes:
        if not self.strict:  # the usual testcase, in one format call (None: anything else, rendered below)
            usual = passing_case(result, name, quoted(self.classname(rel)), quoted(rel))
            if usual is not None:
                return usual.encode("utf-8", "backslashreplace")
        # the <testcase> tag's attributes, as open_tag would write them (seconds() needs no escaping)
        head = (f"<testcase name={xml_attr(name)} classname={quoted(self.classname(rel))}"
                f' time="{seconds(result.get("duration_ms"))}"')
        line = result.get("line")
        parts: list[str] = []
        if not self.strict:
            head += f" file={quoted(rel)}"
            if isinstance(line, int) and not isinstance(line, bool):
                head += f' line="{line}"'
            parts.append(case_properties(self._case_values(result), "      "))
        outcome_element = self._outcome_element(result, rel)
        if outcome_element:
            parts.append(f"      {outcome_element}\n")
        if not self.strict:
            parts += [f"      {element(tag, [('message', one_line(m)), ('type', t)])}\n"
                      for tag, m, t in extra_failures(result)]
        system_out = self._system_out(result, rel)
        if system_out:
            parts.append(f"      <system-out>{xml_text(truncate_bytes(system_out, BODY_LIMIT))}</system-out>\n")
        text = f"    {head}>\n{''.join(parts)}    </testcase>\n" if parts else f"    {head}/>\n"
        return text.encode("utf-8", "backslashreplace")

    def _outcome_element(self, result: Mapping[str, Any], rel: str) -> str:
        outcome = result.get("outcome")
        if outcome == "passed":
            return ""
        where = location(result, rel)
        if outcome == "skipped":
            return element("skipped", [("message", one_line(result.get("message")) or "skipped")])
        blocking = blocking_checks(result)
        message = one_line(result.get("message"))
        if outcome == "failed":
            if not message:
                message = one_line(blocking[0].get("message")) if blocking else "failed"
            kind = as_text(blocking[0].get("check")) if blocking else "agentcheck.failed"
            body = [f"{where}: {message}"]
            body += [explain_check(check) for check in blocking]
            tag = "failure"
        else:
            stop = stop_of(result)
            kind = as_text(stop.get("kind")) if stop else ""
            if not kind:
                kind = _error_class(result) or ("error" if outcome == "error" else f"outcome:{outcome}")
            if not message and stop:
                message = one_line(stop.get("message"))
            message = message or "error"
            body = [f"{where}: {message}"]
            if stop:
                body.append(f"stop: {kind}: {as_text(stop.get('message'))}")
                detail = as_text(stop.get("detail")).rstrip()
                if detail:
                    body.append(detail)
            body += [explain_check(check) for check in blocking]
            tag = "error"
        text = truncate_bytes("\n".join(body), BODY_LIMIT)
        return element(tag, [("message", message), ("type", kind)], xml_text(text))

    def _system_out(self, result: Mapping[str, Any], rel: str) -> str:
        lines: list[str] = trial_lines(result)
        if self.strict:  # junit-10.xsd has no testcase file/line: say where, and which trace to open
            lines.append(f"location: {location(result, rel)}")
            trace_id = self._case_values(result)[CASE_PROPERTIES.index("trace_id")]
            if trace_id:
                lines.append(f"trace_id: {trace_id}")
        advisory = advisory_failures(result)
        if advisory:
            lines.append("advisory checks failed (not blocking):")
            lines += [explain_check(check, mark="!") for check in advisory]
        return "\n".join(lines)


def _case_view(result: ScenarioResult) -> dict[str, Any] | None:
    """What a passing single-trial run's testcase reads of its result, as the JSON data read back from
    the stream holds it — or None when a value is not a plain JSON value whose round trip leaves it as
    it is (a str, an int within 64 bits, a float; a non-finite float reads back as null, and the
    testcase shows 0 for both), so that a testcase rendered early is the one read back would give."""
    trace = result.trace
    view: dict[str, Any] = {
        "index": result.index, "scenario_id": result.scenario_id, "file": result.file, "line": result.line,
        "agent": result.agent, "outcome": "passed", "trial": result.trial, "duration_ms": result.duration_ms,
        "trace": None,
    }
    numbers: tuple[Any, ...] = (result.duration_ms,)
    texts: tuple[Any, ...] = (result.scenario_id, result.file, result.agent)
    if trace is not None:
        totals = trace.totals
        view["trace"] = {"trace_id": trace.trace_id, "agent": trace.agent, "totals": {
            "cost_usd": totals.cost_usd, "input_tokens": totals.input_tokens,
            "output_tokens": totals.output_tokens, "tool_calls": totals.tool_calls}}
        numbers += (totals.cost_usd, totals.input_tokens, totals.output_tokens, totals.tool_calls)
        texts += (trace.trace_id, trace.agent)
    if not all(type(t) is str for t in texts) or not all(map(_plain_number, numbers)):
        return None
    line = result.line
    return view if line is None or (type(line) is int and _plain_number(line)) else None


def _plain_number(value: Any) -> bool:
    """A float, or an int that JSON reads back as the same int (orjson: within 64 bits)."""
    kind = type(value)
    return kind is float or (kind is int and -(2**63) <= value < 2**64)


def _error_class(result: Mapping[str, Any]) -> str:
    """The error class of the last failing tool call, for errors without a stop reason."""
    events = (result.get("trace") or {}).get("events") if isinstance(result.get("trace"), Mapping) else None
    for event in reversed(events if isinstance(events, list) else []):
        error = event.get("error") if isinstance(event, Mapping) else None
        if isinstance(error, Mapping) and error.get("error_class"):
            return as_text(error.get("error_class"))
    return ""
