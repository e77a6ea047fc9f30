"""The console's release-decision tables: trials per scenario (when any ran more than once), the
segment table, the injection drills' numbers and the comparison with a baseline. Printed after the
run's table, failures and gates, before the console's verdict line (agentcheck.reporting)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcheck.reliability import Comparison, ReleaseReport
from agentcheck.report.markdown import fmt
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult

if TYPE_CHECKING:
    from rich.console import Console

CHANGES_SHOWN = 30


def _console(console: Console | None) -> Console:
    if console is not None:
        return console
    import os

    from rich.console import Console

    made = Console(emoji=False)
    return made if made.is_terminal or "COLUMNS" in os.environ else Console(width=160, emoji=False)


def print_trials(console: Console, release: ReleaseReport) -> None:
    from rich.table import Table
    from rich.text import Text  # (ids and tags as text: a `[drill: …]` in them is not markup)

    rows = [s for s in release.scenarios if s.trials > 1]
    if not rows:
        return
    k = min(release.max_trials, 4)
    table = Table(title="Trials", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("scenario", "verdict", "passed", "errors", "pass rate", "pass^1", f"pass^{k}", f"pass@{k}", ""):
        table.add_column(column)
    for s in rows:
        table.add_row(Text(s.scenario_id), s.outcome.value, f"{s.passed}/{s.trials}", str(s.errors),
                      fmt(s.pass_rate, "rate"), fmt(s.pass_hat_k.get(1), "rate"), fmt(s.pass_hat_k.get(k), "rate"),
                      fmt(s.pass_at_k.get(k), "rate"), "flaky" if s.flaky else "")
    console.print()
    console.print(table)


def print_segments(console: Console, release: ReleaseReport) -> None:
    from rich.table import Table
    from rich.text import Text

    if not release.segments:
        return
    table = Table(title="Segments", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("segment", "scen.", "runs", "pass", "pass^k", "err", "flaky", "cost", "tokens", "p50 s", "p95 s",
                   "tool err", "policy", "handoff"):
        table.add_column(column)
    for r in release.segments:
        table.add_row(Text(f"{r.dimension}={r.value}"), str(r.scenarios), str(r.runs), fmt(r.pass_rate, "rate"),
                      f"{fmt(r.pass_hat_k, 'rate')} k={r.k}", str(r.errors), str(r.flaky), fmt(r.mean_cost_usd, "usd"),
                      fmt(r.mean_tokens), fmt(r.p50_latency_s), fmt(r.p95_latency_s), fmt(r.tool_error_rate, "rate"),
                      str(r.policy_violations), fmt(r.handoff_rate, "rate"))
    console.print()
    console.print(table)


def print_comparison(console: Console, comparison: Comparison, *, all_changes: bool = False) -> None:
    from rich.text import Text

    console.print()
    style = "bold red" if comparison.regressions else "bold green"
    console.print(Text(f"against baseline {comparison.baseline} (run {comparison.baseline_run_id or '?'}): "
                       f"{comparison.regressions} regression{'s' if comparison.regressions != 1 else ''}, "
                       f"{len(comparison.changes) - comparison.regressions} other changes", style=style))
    shown = comparison.changes if all_changes else comparison.changes[:CHANGES_SHOWN]
    for change in shown:
        mark = "✗" if change.regression else "·"
        console.print(Text(f"  {mark} {change.kind:<18} {change.subject}: {change.message}",
                           style="red" if change.regression else "dim"))
    if len(shown) < len(comparison.changes):
        console.print(Text(f"  … {len(comparison.changes) - len(shown)} more (see the JSON or Markdown report)",
                           style="dim"))


def print_security(console: Console, security: dict[str, Any]) -> None:
    """The injection drills' three numbers (agentcheck.drills.metrics), on one line."""
    from rich.text import Text

    from agentcheck.drills.metrics import security_line

    console.print()
    console.print(Text(security_line(security)), soft_wrap=True)


class ReleaseConsoleReporter:
    """Prints the release tables at finish; a quiet console (`verbose < 0`, from the library API)
    gets only the injection drills' numbers and the comparison."""

    def __init__(self, console: Console | None = None, *, verbose: int = 0, segments: bool = True):
        self._console = console
        self.verbose = verbose
        self.segments = segments

    def start(self, plan: RunPlan) -> None:
        """Nothing to do until the end."""

    def result(self, result: ScenarioResult) -> None:
        """Nothing to do: the tables are over all trials."""

    def finish(self, summary: RunSummary) -> None:
        release = summary.release
        if release is None and not summary.security:
            return
        console = _console(self._console)
        if release is not None and self.verbose >= 0:
            print_trials(console, release)
            if self.segments:
                print_segments(console, release)
        if summary.security:
            print_security(console, summary.security)
        if release is not None and release.comparison is not None:
            print_comparison(console, release.comparison)
