"""The console report: per-run lines in CI, the final table, failures explained, gates and the summary."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from report_helpers import failed_check, make_plan, make_result, make_summary, passed_check, sample_results
from rich.console import Console

from agentcheck.report.console import ConsoleReporter
from agentcheck.trace import StopKind, StopReason
from agentcheck.verdict import Outcome


def render(results, *, verbose: int = 0, terminal: bool = False, **summary_kw) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=terminal, color_system=None)
    reporter = ConsoleReporter(console, verbose=verbose)
    reporter.start(make_plan(results, Path("/project")))
    for result in results:
        reporter.result(result)
    summary = make_summary(results, **summary_kw)
    summary.reports.update({"json": "reports/results.json", "junit": "reports/junit.xml"})
    reporter.finish(summary)
    return buffer.getvalue()


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_one_plain_line_per_finished_run_when_not_a_terminal():
    lines = lines_of(render(sample_results()))
    assert lines[0] == "agentcheck run run-20260101-000000: 5 scenario runs, concurrency 4"
    assert lines[1:6] == [
        "PASSED refund-damaged-order (0.01s, 2 tool calls)",
        "FAILED refund-twice (0.01s, 2 tool calls) — refund_order was not called after lookup_order",
        "PASSED refund-twice [trial 2] (0.01s, 2 tool calls)",
        "ERROR lookup-crash (0.01s, 2 tool calls) — agent raised KeyError",
        "SKIPPED lookup-later — tagged slow",
    ]


def test_single_tool_call_is_singular():
    result = make_result(0, "one-call", trace=True)
    result.trace.totals.tool_calls = 1
    assert "PASSED one-call (0.01s, 1 tool call)" in lines_of(render([result]))


def test_final_table_lists_every_run_in_index_order():
    results = sample_results()
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=120, force_terminal=False))
    reporter.start(make_plan(results, Path("/p")))
    for position in (4, 2, 0, 3, 1):
        reporter.result(results[position])
    reporter.finish(make_summary(results))
    lines = lines_of(buffer.getvalue())
    header = lines.index(next(line for line in lines if line.startswith("scenario")))
    assert lines[header].split() == ["scenario", "status", "tool", "calls", "cost", "time"]
    rows = [line.split() for line in lines[header + 1: header + 6]]
    assert rows[0] == ["refund-damaged-order", "PASSED", "2", "$0.0012", "0.01s"]
    assert [row[0] for row in rows] == ["refund-damaged-order", "refund-twice", "refund-twice", "lookup-crash",
                                        "lookup-later"]
    assert rows[4][:2] == ["lookup-later", "SKIPPED"]


def test_failures_are_explained_with_location_and_indented_explanations():
    text = render(sample_results())
    lines = lines_of(text)
    assert any(line.startswith("FAILED refund-twice  scenarios/refunds.yaml:20 ___") for line in lines)
    block = text.split("FAILED refund-twice  scenarios/refunds.yaml:20", 1)[1]
    assert "\nrefund_order was not called after lookup_order\n" not in block  # said once, by its check
    assert "  ✗ tools.ordered: refund_order was not called after lookup_order (step 3, tool refund_order)" in block
    assert "      expected: lookup_order → refund_order\n      actual:   lookup_order → send_email" in block
    assert "  ✗ output.contains: output lacks 'refund'\n      expected: refund\n      actual: Sorry" in block
    error_block = text.split("ERROR lookup-crash  scenarios/lookup.yaml:1", 1)[1]
    assert "  stop crashed: agent raised KeyError" in error_block
    assert "      KeyError: 'order'" in error_block
    assert "output.tone" not in text  # advisory: hidden at the default verbosity


def test_verbose_shows_passing_and_advisory_checks_of_failed_runs():
    result = make_result(0, "both", Outcome.FAILED, message="no",
                         checks=[failed_check(), failed_check("output.tone", "too curt", "", advisory=True)])
    result.checks.insert(0, passed_check("tools.called"))
    verbose = render([result], verbose=1)
    assert "  ! output.tone: too curt (advisory)" in verbose
    assert "  ✓ tools.called: tools.called ok" in verbose
    quiet = render([result], verbose=0)
    assert "output.tone" not in quiet and "✓" not in quiet


def test_long_tracebacks_are_cut_unless_verbose():
    detail = "\n".join(f"frame {i}" for i in range(40))
    result = make_result(0, "crash", Outcome.ERROR, message="boom",
                         stop=StopReason(StopKind.CRASHED, "boom", detail), checks=[])
    short = render([result])
    assert "… 25 earlier lines (use -v to see all)" in short
    assert "frame 39" in short and "frame 24\n" not in short
    assert "frame 0\n" in render([result], verbose=1)


def test_gates_table_and_summary_line():
    lines = lines_of(render(sample_results()))
    header = next(i for i, line in enumerate(lines) if line.startswith("gate "))
    assert lines[header].split() == ["gate", "runs", "metric", "measured", "threshold", "result"]
    assert lines[header + 1].split() == ["release", "5", "min_pass_rate", "0.5", ">=", "0.9", "FAIL"]
    assert lines[header + 2].split() == ["max_mean_cost_usd", "0.0012", "<=", "0.05", "PASS"]
    assert lines[header + 3].split() == ["smoke", "0", "max_failures", "n/a", "<=", "0", "PASS", "(no", "runs)"]
    assert "gate release failed: pass rate 0.5 below 0.9" in lines
    assert lines[-4:] == ["json report: reports/results.json", "junit report: reports/junit.xml", "",
                          "2 passed, 1 failed, 1 error, 1 skipped in 0.52s; 1 of 2 gates failed"]


def test_interrupted_run_says_where_the_results_are():
    results = sample_results()[:2]
    text = render(results, interrupted=True, results_file="reports/run-1/results.jsonl")
    assert "interrupted: 2 of 2 scenario runs finished; results so far are in reports/run-1/results.jsonl" in text


def test_large_suites_list_only_non_passing_rows():
    results = [make_result(i, f"s-{i:03d}") for i in range(60)]
    results[10] = make_result(10, "s-010", Outcome.FAILED, message="wrong", checks=[failed_check()])
    lines = lines_of(render(results))
    header = next(i for i, line in enumerate(lines) if line.startswith("scenario "))
    assert lines[header + 1].split()[:2] == ["s-010", "FAILED"]
    assert lines[header + 2] == "59 passing runs not listed (more than 50 runs; use -v to list all)"
    every = lines_of(render(results, verbose=1))
    assert sum(1 for line in every if line.startswith("s-0") and "PASSED" in line) == 59


def test_scenario_ids_are_printed_literally_not_as_markup():
    result = make_result(0, "[bold]tricky[/bold]", Outcome.FAILED, message="[red]x[/red]", checks=[])
    text = render([result])
    assert "FAILED [bold]tricky[/bold] (0.01s, 2 tool calls) — [red]x[/red]" in text


def test_odd_values_do_not_crash():
    result = make_result(0, "odd", Outcome.FAILED, message=None, trace=False,
                         checks=[failed_check("c", None, None, expected=object(), actual=float("inf"))])
    text = render([result], verbose=2)
    assert "FAILED odd (0.01s, 0 tool calls) — failed" in text
    assert "  ✗ c: " in text and "expected: <object object at" in text


def test_terminal_mode_shows_a_progress_bar_and_the_same_final_report():
    text = render(sample_results(), terminal=True)
    assert "FAILED refund-twice (0.01s, 2 tool calls)" in text  # failures scroll above the bar
    assert "2 passed, 1 failed, 1 error, 1 skipped in 0.52s" in text
    assert "PASSED refund-damaged-order (0.01s" not in text  # passing runs only advance the bar


def test_importing_the_console_reporter_does_not_import_rich():
    code = "import sys, agentcheck.report.console; print('rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_runs_left_out_by_fail_fast_are_counted():
    results = sample_results()[:2]
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=120, force_terminal=False))
    reporter.start(make_plan(results, Path("/p")))
    summary = make_summary(results)
    summary.not_run = 7
    reporter.finish(summary)
    assert "7 scenario runs not started (--fail-fast stopped the run)" in buffer.getvalue()


def test_a_message_that_restates_the_check_or_stop_is_not_repeated():
    check = failed_check("output.contains", "output lacks 'x'", "")
    failed = make_result(0, "f", Outcome.FAILED, message="output.contains: output lacks 'x'", checks=[check])
    errored = make_result(1, "e", Outcome.ERROR, message="crashed: boom", checks=[],
                          stop=StopReason(StopKind.CRASHED, "boom", ""))
    own = make_result(2, "o", Outcome.FAILED, message="two checks failed", checks=[check])
    block = render([failed, errored, own]).split("= failures =")[1]
    lines = [line.rstrip() for line in block.splitlines()]
    assert "output.contains: output lacks 'x'" not in lines  # only as the indented check line
    assert "  ✗ output.contains: output lacks 'x'" in lines
    assert "crashed: boom" not in lines and "  stop crashed: boom" in lines
    assert "two checks failed" in lines


def test_a_progress_bar_over_saved_runs_moves_in_steps_and_ends_full(monkeypatch):
    """Under a progress bar (a terminal), merge's passing runs past the table's limit only move the bar,
    in steps; by the end it has counted every run, and failures still print above it as they come."""
    import io

    import orjson
    from report_helpers import make_result
    from rich.console import Console
    from rich.progress import Progress

    from agentcheck.report.console import LARGE_SUITE, ConsoleReporter
    from agentcheck.serialize import dumps_bytes
    from agentcheck.verdict import Outcome, PlannedScenario, RunPlan

    total = LARGE_SUITE + 400
    results = [make_result(i, f"s{i}", Outcome.FAILED if i % 97 == 5 else Outcome.PASSED, message="why")
               for i in range(total)]
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, force_terminal=True, width=120), command="merge")
    updates: list[int] = []
    update = Progress.update

    def counted(self, task, *, advance=None, **kwargs):
        updates.append(advance or 0)
        update(self, task, advance=advance, **kwargs)

    monkeypatch.setattr(Progress, "update", counted)
    ended: list[float] = []
    stop = Progress.stop
    monkeypatch.setattr(Progress, "stop", lambda self: ended.append(self.tasks[0].completed) or stop(self))
    planned = [PlannedScenario(i, f"s{i}", "s.yaml", i + 2, "bot", ()) for i in range(total)]
    reporter.start(RunPlan("r", "t", "/", "/", planned, 1))
    for result in results:
        reporter.saved_scenario([orjson.loads(dumps_bytes(result))], None)  # type: ignore[arg-type]
    from report_helpers import make_summary

    reporter.finish(make_summary(results))
    assert ended == [total] and sum(updates) == total
    assert len(updates) < LARGE_SUITE + 50  # not one redraw per run
    assert all(f"s{i}" in out.getvalue() for i in range(total) if i % 97 == 5)


def _failure_rows():
    from agentcheck.report.console import _Row

    check = {"check": "trajectory", "passed": False, "message": "refund_order was not called", "step": 3,
             "tool": "refund_order", "explanation": "expected calls:\n  lookup_order\n  refund_order\n",
             "expected": "x", "actual": "y", "advisory": False}
    advisory = {**check, "check": "output.contains", "advisory": True, "explanation": ""}
    passed = {**check, "check": "budget", "passed": True}
    stop = {"kind": "crash", "message": "boom", "detail": "\n".join(f"  line {i}" for i in range(30))}
    names = ["refund-twice", "naïve café", "中文 scenario", "tab\tbed", "ctrl\x1b[31mred\x07", "x" * 200,
             "trailing  ", "[bold]not markup[/bold]"]
    messages = ["", "one line", "two\nlines", "ends with a newline\n", "a\ttab", "\u200bzero width",
                "  spaced  ", "emoji :smile: stays"]
    return [_Row(i, 1, name, f"scenarios/s.yaml:{i + 2}", "error" if i % 3 == 2 else "failed", message, 2, 0.001,
                 0.5, [check, advisory, passed][: 1 + i % 3], stop if i % 2 else None)
            for i, (name, message) in enumerate(zip(names, messages, strict=True))]


@pytest.mark.parametrize("width", [0, 1, 40, 80, 160, 241])
@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_plain_failure_blocks_are_byte_for_byte_what_rich_prints(width: int, verbose: int):
    """In a log or pipe the failure blocks are written without rich's layout engine; the text is the
    same, byte for byte, for odd names and messages too (wide characters, tabs, control codes,
    titles wider than the page, trailing newlines), each piece rich would change going through rich."""
    from agentcheck.report.console_failures import FAILURE_BLOCKS, print_failures

    rows = _failure_rows()
    outputs = []
    for plain in (False, True):
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, soft_wrap=True, emoji=False, color_system=None)
        assert not console.is_terminal
        print_failures(console, rows, verbose, plain=plain)
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    if width >= 40:  # (narrower, rich leaves the rules' titles out; at 0 columns it prints nothing at all)
        assert "FAILED refund-twice" in outputs[0] and " failures " in outputs[0]
    assert len(rows) <= FAILURE_BLOCKS


def test_the_plain_lane_writes_the_usual_blocks_without_rich(monkeypatch):
    """The usual failure (ASCII names, no tabs) takes the plain lane: rich renders nothing."""
    from rich.console import Console as RichConsole

    from agentcheck.report.console import _Row
    from agentcheck.report.console_failures import print_failures

    check = {"check": "output.contains", "passed": False, "message": "no", "explanation": "", "expected": "x",
             "actual": "y"}
    rows = [_Row(i, 1, f"s{i}", f"s.yaml:{i}", "failed", "output.contains: no", 2, 0.0, 0.1, [check]) for i in range(5)]
    buffer = io.StringIO()
    console = Console(file=buffer, width=160, soft_wrap=True, emoji=False, color_system=None)

    def refuse(*args, **kwargs):
        raise AssertionError("rendered through rich")

    monkeypatch.setattr(RichConsole, "print", refuse)
    monkeypatch.setattr(RichConsole, "rule", refuse)
    print_failures(console, rows, 0, plain=True)
    text = buffer.getvalue()
    assert text.count("FAILED s") == 5 and "      expected: x" in text
