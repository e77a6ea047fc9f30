"""The pull-request Markdown summary: a snapshot of its order (gates, regressions, failures, trials,
segments) and the GitHub size budget."""

from __future__ import annotations

from pathlib import Path

from release_helpers import F, P, runs

from agentcheck.release.compare import compare, side_of_metrics
from agentcheck.release.report import build_release
from agentcheck.reliability import RegressionRules
from agentcheck.report.markdown import render
from agentcheck.verdict import GateCheck, GateResult, RunSummary

SNAPSHOT = Path(__file__).parent / "data" / "release_summary.md"


def failing_result(index: int, scenario_id: str, trial: int = 2) -> dict:
    return {
        "index": index, "scenario_id": scenario_id, "file": "scenarios/s.yaml", "line": 3 + index,
        "outcome": "failed", "trial": trial, "message": "tools.ordered: expected call 2 issue_refund not found",
        "trace": {"trace_id": "abc123", "stop": None},
        "checks": [{"check": "tools.ordered", "passed": False, "advisory": False, "step": 2, "tool": "issue_refund",
                    "message": "expected call 2 issue_refund not found",
                    "explanation": "- issue_refund(amount<=40)\n+ issue_refund(amount=42) | with a pipe"}],
    }


def summary_and_results() -> tuple[RunSummary, list[dict]]:
    metrics = runs("refund-ok", P, P, index=0) + runs("refund-flaky", P, F, index=1)
    base = side_of_metrics("reports/baseline.json", "base-run", runs("refund-ok", P, index=0)
                           + runs("refund-flaky", P, index=1), {})
    release = build_release(metrics, {}, run_id="r1")
    release.comparison = compare(base, side_of_metrics("new", "r1", metrics, {}), RegressionRules())
    gates = [GateResult("refund suite", 4, False, [GateCheck("min_pass_rate", 0.95, 0.75, False),
                                                   GateCheck("max_regressions", 0, 2, False)],
                        message="1 scenario of the selection was not run"),
             GateResult("reliability", 4, True, [GateCheck("min_pass_hat_k", 0.5, 0.5, True)])]
    summary = RunSummary("r1", "2026-01-01T00:00:00Z", 1.25, {"passed": 3, "failed": 1, "error": 0, "skipped": 0},
                         gates, 1, "", release=release)
    ok = {**failing_result(0, "refund-ok", 1), "outcome": "passed", "checks": []}
    return summary, [ok, {**ok, "trial": 2}, {**failing_result(1, "refund-flaky", 1), "outcome": "passed"},
                     failing_result(1, "refund-flaky", 2)]


def test_markdown_summary_snapshot():
    summary, results = summary_and_results()
    text = render(summary, results)
    if not SNAPSHOT.exists():  # first run writes it; review the file, then commit it
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8")
    order = [text.index(h) for h in ("### Gates", "### Regressions", "### Failures", "### Trials", "### Segments")]
    assert order == sorted(order)
    assert text.count("<details><summary>❌") == 1  # one block per failing scenario, not per trial
    lines = text.split("\n")
    assert all(lines[i - 1] == "" for i, line in enumerate(lines) if line.startswith("### "))  # headings render


def test_failures_stop_at_the_size_budget_and_say_so():
    summary, _ = summary_and_results()
    many = [failing_result(1, "refund-flaky", t) for t in range(1, 3)]
    many += [failing_result(i, f"other-{i}") for i in range(2, 400)]
    text = render(summary, many, limit=20_000)
    assert len(text.encode()) < 20_000
    assert "more failures left out to stay under GitHub's size limit" in text
    assert "### Segments" in text  # the tables after the failures are kept


def test_text_is_escaped_for_where_it_lands():
    """Table cells escape pipes; code spans fence backticks and escape nothing else (entities are not
    decoded there); raw HTML (<summary>) gets HTML escaping, not Markdown's backslashes."""
    from agentcheck.report.markdown import code, failure_block

    assert code("c`d") == "`` c`d ``" and code("a|b") == "`a\\|b`" and code("<x>") == "`<x>`"
    assert code("a|b", in_table=False) == "`a|b`"
    block = failure_block({"scenario_id": "s", "outcome": "failed", "message": 'output lacks "z | w" <b>',
                           "file": "scenarios/a.yaml", "line": 3, "trial": 1, "trace": {"trace_id": "t1"}})
    summary = block.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert summary == '❌ <code>s</code> (failed) — output lacks "z | w" &lt;b&gt;'
    assert "`scenarios/a.yaml:3` · trial 1 · trace `t1`" in block
