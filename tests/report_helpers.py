"""Builders for report tests: real ScenarioResult/Trace objects, a plan, a summary and a filled ResultLog.

Defaults describe a small, realistic suite so each test states only what it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentcheck.report.stream import ResultLog
from agentcheck.trace import (
    ErrorInfo,
    ModelCallEvent,
    StopKind,
    StopReason,
    ToolCallEvent,
    ToolStatus,
    Totals,
    Trace,
)
from agentcheck.verdict import (
    CheckResult,
    GateCheck,
    GateResult,
    Outcome,
    PlannedScenario,
    RunPlan,
    RunSummary,
    ScenarioResult,
)

RUN_ID = "run-20260101-000000"
STARTED_AT = "2026-01-01T00:00:00Z"


def make_trace(
    scenario_id: str = "refund-damaged-order",
    *,
    trial: int = 1,
    output: Any = "Refund issued for order A1.",
    stop: StopReason | None = None,
    cost_usd: float = 0.0012,
    events: list[Any] | None = None,
) -> Trace:
    if events is None:
        events = [
            ModelCallEvent(step=1, model="gpt-4o-mini", input_tokens=120, output_tokens=40, cost_usd=cost_usd,
                           latency_ms=310.0),
            ToolCallEvent(step=2, call_id="c1", tool="lookup_order", args={"order_id": "A1"},
                          status=ToolStatus.OK, result={"status": "delivered"}, latency_ms=12.0),
            ToolCallEvent(step=3, call_id="c2", tool="refund_order", args={"order_id": "A1", "amount": 20},
                          status=ToolStatus.ERROR, error=ErrorInfo("RateLimited", "slow down", 429),
                          latency_ms=5.0, policy={"decision": "allow", "rule": "refunds-under-50"}),
        ]
    tool_calls = sum(isinstance(e, ToolCallEvent) for e in events)
    model_calls = sum(isinstance(e, ModelCallEvent) for e in events)
    return Trace(
        trace_id=f"tr-{scenario_id}-{trial}",
        scenario_id=scenario_id,
        trial=trial,
        agent="support-bot",
        agent_version="1.2.0",
        started_at=STARTED_AT,
        events=events,
        output=output,
        totals=Totals(steps=len(events), tool_calls=tool_calls, model_calls=model_calls, input_tokens=120,
                      output_tokens=40, cost_usd=cost_usd, wall_time_ms=327.0),
        stop=stop,
    )


def passed_check(name: str = "tools.called") -> CheckResult:
    return CheckResult(check=name, passed=True, message=f"{name} ok")


def failed_check(
    name: str = "tools.ordered",
    message: str = "refund_order was not called after lookup_order",
    explanation: str = "expected: lookup_order → refund_order\nactual:   lookup_order → send_email",
    *,
    advisory: bool = False,
    **extra: Any,
) -> CheckResult:
    return CheckResult(check=name, passed=False, message=message, explanation=explanation,
                       advisory=advisory, **extra)


def make_result(
    index: int = 0,
    scenario_id: str | None = None,
    outcome: Outcome = Outcome.PASSED,
    *,
    file: str = "scenarios/refunds.yaml",
    line: int | None = 3,
    message: str = "",
    checks: list[CheckResult] | None = None,
    trace: Trace | bool | None = True,
    trial: int = 1,
    duration_ms: float = 12.3456,
    stop: StopReason | None = None,
) -> ScenarioResult:
    scenario_id = scenario_id or f"scenario-{index}"
    if trace is True:
        trace = make_trace(scenario_id, trial=trial, stop=stop)
    elif trace is False:
        trace = None
    if checks is None:
        checks = [passed_check()]
    return ScenarioResult(
        index=index,
        scenario_id=scenario_id,
        file=file,
        line=line,
        agent="support-bot",
        tags=("refunds",),
        outcome=outcome,
        message=message,
        checks=checks,
        trace=trace,
        trial=trial,
        duration_ms=duration_ms,
    )


def sample_results() -> list[ScenarioResult]:
    """Two files; one of each outcome, one advisory failure, one repeated trial."""
    traceback = 'Traceback (most recent call last):\n  File "agent.py", line 9\nKeyError: \'order\''
    crash = StopReason(StopKind.CRASHED, "agent raised KeyError", traceback)
    return [
        make_result(0, "refund-damaged-order", Outcome.PASSED, line=3,
                    checks=[passed_check(), failed_check("output.tone", "too curt", "", advisory=True)]),
        make_result(1, "refund-twice", Outcome.FAILED, line=20,
                    message="refund_order was not called after lookup_order",
                    checks=[passed_check(), failed_check(step=3, tool="refund_order"),
                            failed_check("output.contains", "output lacks 'refund'", "", expected="refund",
                                         actual="Sorry, I cannot help.")]),
        make_result(2, "refund-twice", Outcome.PASSED, line=20, trial=2),
        make_result(3, "lookup-crash", Outcome.ERROR, file="scenarios/lookup.yaml", line=1,
                    message="agent raised KeyError", stop=crash, checks=[]),
        make_result(4, "lookup-later", Outcome.SKIPPED, file="scenarios/lookup.yaml", line=None,
                    message="tagged slow", trace=False, checks=[]),
    ]


def make_plan(results: list[ScenarioResult], root: Path) -> RunPlan:
    return RunPlan(
        run_id=RUN_ID,
        started_at=STARTED_AT,
        project_root=str(root),
        run_dir=str(root / "reports" / RUN_ID),
        scenarios=[PlannedScenario(r.index, r.scenario_id, r.file, r.line, r.agent, r.tags) for r in results],
        concurrency=4,
    )


def sample_gates() -> list[GateResult]:
    return [
        GateResult("release", selected=5, passed=False, message="pass rate 0.5 below 0.9", checks=[
            GateCheck("min_pass_rate", 0.9, 0.5, False),
            GateCheck("max_mean_cost_usd", 0.05, 0.0012, True),
        ]),
        GateResult("smoke", selected=0, passed=True, checks=[GateCheck("max_failures", 0, None, True)]),
    ]


def make_summary(
    results: list[ScenarioResult],
    *,
    gates: list[GateResult] | None = None,
    interrupted: bool = False,
    results_file: str = "reports/results.jsonl",
) -> RunSummary:
    counts = {o.value: 0 for o in Outcome}
    for result in results:
        counts[result.outcome.value] += 1
    return RunSummary(
        run_id=RUN_ID,
        started_at=STARTED_AT,
        duration_s=0.5234,
        counts=counts,
        gates=sample_gates() if gates is None else gates,
        exit_code=1,
        results_file=results_file,
        interrupted=interrupted,
    )


def fill_log(path: Path, results: list[ScenarioResult], *, order: list[int] | None = None) -> ResultLog:
    """A ResultLog at `path` holding `results`, written in `order` (positions) to mimic finishing order."""
    log = ResultLog(path)
    log.start(make_plan(results, path.parent))
    for position in order if order is not None else range(len(results)):
        log.result(results[position])
    return log


def run_reporter(reporter: Any, log: ResultLog, results: list[ScenarioResult], summary: RunSummary) -> None:
    """Drive a reporter through start/result/finish the way the runner does; closes the log last."""
    reporter.start(make_plan(results, log.path.parent))
    for result in results:
        reporter.result(result)
    reporter.finish(summary)
    log.finish(summary)
