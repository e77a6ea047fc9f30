"""The pull-request summary: gate verdicts first, then regressions against the baseline, then
failures with their explanations folded in <details>, then the trial and segment tables.

Written to `--md PATH` and, when `$GITHUB_STEP_SUMMARY` is set, appended there too (GitHub's job
summary). GitHub drops a step summary over 1 MiB without a word, so the document is built under
SIZE_LIMIT: failure blocks stop being added when the budget runs out, and the document says how many
were left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agentcheck.project import GATE_METRICS, Project
from agentcheck.reliability import Comparison, ReleaseReport
from agentcheck.report.annotations import AnnotationReporter
from agentcheck.report.base import Reporter
from agentcheck.report.json_report import atomic_writer, logged_results
from agentcheck.report.show import as_text, blocking_checks, check_details, check_header, one_line, stop_of
from agentcheck.report.stream import ResultLog
from agentcheck.verdict import GateResult, RunPlan, RunSummary, ScenarioResult

SIZE_LIMIT = 900 * 1024
"""Bytes; GitHub's step-summary limit is 1 MiB, and other steps may append too."""
DETAIL_LIMIT = 4000
"""Bytes of explanation shown per failure."""
CHANGES_SHOWN = 50


def md_escape(text: Any) -> str:
    """Text safe inside a Markdown table cell or summary line."""
    return one_line(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def code(text: Any, *, in_table: bool = True) -> str:
    """`text` as a code span: fenced with more backticks than it holds (a backtick in a tag or an id
    cannot end it early), its pipes escaped in a table cell (GFM splits cells first, code spans too),
    and nothing else escaped (entities are not decoded in code spans: `&lt;` would show as such)."""
    body = one_line(text)
    if in_table:
        body = body.replace("|", "\\|")
    runs = re.findall("`+", body)
    if not runs:
        return f"`{body}`"
    fence = "`" * (max(map(len, runs)) + 1)
    return f"{fence} {body} {fence}"


def html_text(text: Any) -> str:
    """Text inside raw HTML (`<summary>`, `<code>`), where Markdown's backslash escapes do not apply."""
    import html

    return html.escape(one_line(text), quote=False)


def fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"
    if kind == "usd":
        return f"${value:.4f}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def gates_section(gates: list[GateResult]) -> str:
    rows = []
    for gate in gates:
        mark = "✅" if gate.passed else "❌"
        for position, check in enumerate(gate.checks):
            kind = "rate" if check.metric.endswith(("rate", "_k")) else ""
            named = f"{mark} {md_escape(gate.name)}" if position == 0 else ""  # (its verdict once, on its first row)
            rows.append([named, f"`{check.metric}`", GATE_METRICS.get(check.metric, ""),
                         fmt(check.measured, kind), f"{check.op} {fmt(check.threshold, kind)}",
                         "pass" if check.passed else "**FAIL**"])
    notes = "".join(f"\n- {md_escape(g.name)}: {md_escape(g.message)}" for g in gates if g.message)
    table = _table(["gate", "threshold", "measures", "measured", "limit", "result"], rows)
    return "### Gates\n\n" + table + (notes + "\n" if notes else "")  # a blank line before the next heading


def comparison_section(comparison: Comparison) -> str:
    regressions = [c for c in comparison.changes if c.regression]
    others = [c for c in comparison.changes if not c.regression]
    head = (f"### Regressions against the baseline\n\nBaseline {code(comparison.baseline, in_table=False)} "
            f"(run {md_escape(comparison.baseline_run_id) or '?'}): **{comparison.regressions} regression"
            f"{'s' if comparison.regressions != 1 else ''}**, {len(others)} other change"
            f"{'s' if len(others) != 1 else ''}.\n\n")

    def rows(changes: list[Any]) -> list[list[str]]:
        return [[c.kind, c.scope, code(c.subject), md_escape(c.message)] for c in changes[:CHANGES_SHOWN]]

    text = head
    if regressions:
        text += _table(["kind", "scope", "subject", "change"], rows(regressions))
        if len(regressions) > CHANGES_SHOWN:
            text += f"\n…and {len(regressions) - CHANGES_SHOWN} more regressions (see the JSON report).\n"
    if others:
        text += ("\n<details><summary>Other changes</summary>\n\n"
                 + _table(["kind", "scope", "subject", "change"], rows(others)) + "\n</details>\n")
    return text


def failure_block(result: Mapping[str, Any], trials_note: str = "") -> str:
    title = (f"❌ <code>{html_text(result.get('scenario_id'))}</code> ({as_text(result.get('outcome'))}"
             f"{trials_note}) — {html_text(result.get('message'))}")
    parts = []
    stop = stop_of(result)
    if stop:
        parts.append(f"{as_text(stop.get('kind'))}: {one_line(stop.get('message'))}")
    for check in blocking_checks(result):
        parts.append(check_header(check))
        details = check_details(check)
        if details:
            parts.append(details)
    body = "\n".join(parts).encode("utf-8")[:DETAIL_LIMIT].decode("utf-8", "ignore").replace("```", "ʼʼʼ")
    where = f"{as_text(result.get('file'))}:{as_text(result.get('line'))}"
    trace_id = (result.get("trace") or {}).get("trace_id")
    return (f"<details><summary>{title}</summary>\n\n{code(where, in_table=False)} · trial "
            f"{as_text(result.get('trial'))} · trace {code(trace_id, in_table=False)}\n\n```diff\n{body}\n```\n"
            "</details>\n")


def trials_section(release: ReleaseReport) -> str:
    k = min(release.max_trials, 4)
    rows = [[code(s.scenario_id), s.outcome.value, f"{s.passed}/{s.trials}", str(s.errors),
             fmt(s.pass_rate, "rate"), fmt(s.pass_hat_k.get(k), "rate"), "⚠️ flaky" if s.flaky else ""]
            for s in release.scenarios if s.trials > 1]
    if not rows:
        return ""
    header = ["scenario", "verdict", "passed", "errors", "pass rate", f"pass^{k}", "flaky"]
    return "### Trials\n\n" + _table(header, rows)


def segments_section(release: ReleaseReport) -> str:
    if not release.segments:
        return ""
    rows = [[r.dimension, code(r.value), str(r.scenarios), str(r.runs), fmt(r.pass_rate, "rate"),
             f"{fmt(r.pass_hat_k, 'rate')} (k={r.k})", str(r.errors), str(r.flaky), fmt(r.mean_cost_usd, "usd"),
             fmt(r.mean_tokens), fmt(r.p50_latency_s), fmt(r.p95_latency_s), fmt(r.tool_error_rate, "rate"),
             str(r.policy_violations), fmt(r.handoff_rate, "rate")] for r in release.segments]
    header = ["dimension", "value", "scenarios", "runs", "pass rate", "pass^k", "errors", "flaky", "mean cost",
              "mean tokens", "p50 s", "p95 s", "tool errors", "policy violations", "hand-offs"]
    return "### Segments\n\n" + _table(header, rows)


def render(summary: RunSummary, results: Iterable[Mapping[str, Any]], limit: int = SIZE_LIMIT) -> str:
    """The whole Markdown document; `results` are read once, failures only."""
    release = summary.release or ReleaseReport()
    passed = all(g.passed for g in summary.gates)
    counts = ", ".join(f"{n} {o}" for o, n in summary.counts.items() if n)
    parts = [f"## agentcheck: {'✅ release gates passed' if passed else '❌ release gates failed'}\n\n"
             f"Run `{summary.run_id}` · {counts or 'no runs'} · {summary.duration_s:.1f}s\n",
             gates_section(summary.gates)]
    if release.comparison is not None:
        parts.append(comparison_section(release.comparison))
    tail = [trials_section(release), segments_section(release)]
    used = sum(len(p.encode("utf-8")) for p in parts + tail) + 200
    stats = release.stats_by_index()
    failures: list[str] = []
    left_out, seen = 0, set()
    for result in results:
        index = result.get("index")
        scenario = stats.get(index) if isinstance(index, int) else None
        if scenario is not None and (scenario.outcome.value == "passed" or index in seen):
            continue  # a scenario passing its criterion, or one already shown: one block per scenario
        if result.get("outcome") not in ("failed", "error"):
            continue
        seen.add(index)
        note = f", {scenario.passed}/{scenario.trials} trials passed" if scenario and scenario.trials > 1 else ""
        block = failure_block(result, note)
        if used + len(block.encode("utf-8")) > limit:
            left_out += 1
            continue
        used += len(block.encode("utf-8"))
        failures.append(block)
    if failures or left_out:
        more = f"\n{left_out} more failures left out to stay under GitHub's size limit.\n" if left_out else ""
        parts.append("### Failures\n\n" + "\n".join(failures) + more)
    parts += [t for t in tail if t]
    return "\n".join(parts)


class MarkdownReporter:
    """Writes the summary to `path` (replacing it) and/or appends it to the GitHub step summary."""

    kind = "markdown"

    def __init__(self, path: Path | None, log: ResultLog, *, step_summary: Path | None = None):
        self.path = Path(path) if path is not None else None
        self.step_summary = step_summary
        self.log = log

    def start(self, plan: RunPlan) -> None:
        """Nothing to do: everything comes with the summary and the result stream."""

    def result(self, result: ScenarioResult) -> None:
        """Nothing to do: failures are read back from the stream at finish."""

    def finish(self, summary: RunSummary) -> None:
        text = render(summary, logged_results(self.log, failing_only=True))  # render shows no other
        if self.path is not None:
            with atomic_writer(self.path) as out:
                out.write(text)
            summary.reports["markdown"] = str(self.path)
        if self.step_summary is not None:
            with self.step_summary.open("a", encoding="utf-8") as out:
                out.write(text + "\n")


def write_comparison(comparison: Comparison, path: Path | None) -> None:
    """`agentcheck compare --md PATH`: the regressions section alone; also to $GITHUB_STEP_SUMMARY."""
    text = "## agentcheck compare\n\n" + comparison_section(comparison)
    if path is not None:
        with atomic_writer(path) as out:
            out.write(text)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a", encoding="utf-8") as out:
            out.write(text + "\n")


def release_reporters(project: Project, log: ResultLog, md_path: Path | bool | None) -> list[Reporter]:
    """The Markdown summary (when asked for, or on GitHub) and workflow annotations (on GitHub)."""
    reporters: list[Reporter] = []
    step = os.environ.get("GITHUB_STEP_SUMMARY") if md_path is not False else None
    path = md_path if isinstance(md_path, Path) else None
    if path is not None or step:
        reporters.append(MarkdownReporter(path, log, step_summary=Path(step) if step else None))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        reporters.append(AnnotationReporter(project.root))
    return reporters
