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
NAME_FOLDS_AT = 24
"""On a narrow console a release table's name column may fold down to this width before a column is
left out."""


def _console(console: Console | None) -> Console:
    if console is not None:
        return console
    import os

    from rich.console import Console

    made = Console(emoji=False)
    return made if made.is_terminal or "COLUMNS" in os.environ else Console(width=160, emoji=False)


def _print_table(console: Console, title: str, columns: tuple[str, ...], rows: list[list[str]],
                 optional: tuple[str, ...] = ()) -> None:
    """A release table in the gates table's style (no box, bold headers, figures right-aligned). On a
    console too narrow for it, the `optional` columns are left out, last first, and the table says
    which; the name column (first) folds rather than cut a figure."""
    from rich.table import Table
    from rich.text import Text

    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    widths[0] = min(widths[0], NAME_FOLDS_AT)  # (names fold)
    keep = list(range(len(columns)))
    dropped: list[str] = []
    for name in reversed(optional):
        if sum(widths[i] + 2 for i in keep) - 2 <= console.width:
            break
        index = columns.index(name)
        keep.remove(index)
        dropped.insert(0, name)
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, box=None,
                  header_style="bold", caption=f"(narrow terminal: left out {', '.join(dropped)}; the JSON and "
                  "Markdown reports have every column)" if dropped else None, caption_justify="left")
    for i in keep:
        if i == 0:
            table.add_column(columns[i], overflow="fold")
        else:
            table.add_column(columns[i], no_wrap=True, justify="right")
    for row in rows:  # (names as text: a `[drill: …]` in an id or a tag is not markup)
        table.add_row(Text(row[0]), *(row[i] for i in keep[1:]))
    console.print()
    console.print(table)


def print_trials(console: Console, release: ReleaseReport) -> None:
    rows = [s for s in release.scenarios if s.trials > 1]
    if not rows:
        return
    k = min(release.max_trials, 4)
    _print_table(console, "Trials", ("scenario", "verdict", "passed", "errors", "pass rate", "pass^1", f"pass^{k}",
                                     f"pass@{k}", "flaky"),
                 [[s.scenario_id, s.outcome.value, f"{s.passed}/{s.trials}", str(s.errors), fmt(s.pass_rate, "rate"),
                   fmt(s.pass_hat_k.get(1), "rate"), fmt(s.pass_hat_k.get(k), "rate"), fmt(s.pass_at_k.get(k), "rate"),
                   "flaky" if s.flaky else ""] for s in rows],
                 optional=(f"pass@{k}", "pass^1"))


SEGMENT_COLUMNS = ("segment", "scen.", "runs", "pass", "pass^k", "err", "flaky", "cost", "tokens", "p50 s", "p95 s",
                   "tool err", "policy", "handoff")
SEGMENT_OPTIONAL = ("policy", "flaky", "scen.", "handoff", "tool err", "tokens", "p50 s")
"""Left out on a narrow console, last first (p50 first, policy violations last); the runs, pass rate,
pass^k, errors, cost and p95 are always shown."""


def print_segments(console: Console, release: ReleaseReport) -> None:
    if not release.segments:
        return
    rows = [[f"{r.dimension}={r.value}", str(r.scenarios), str(r.runs), fmt(r.pass_rate, "rate"),
             f"{fmt(r.pass_hat_k, 'rate')} k={r.k}", str(r.errors), str(r.flaky), fmt(r.mean_cost_usd, "usd"),
             fmt(r.mean_tokens), fmt(r.p50_latency_s), fmt(r.p95_latency_s), fmt(r.tool_error_rate, "rate"),
             str(r.policy_violations), fmt(r.handoff_rate, "rate")] for r in release.segments]
    _print_table(console, "Segments", SEGMENT_COLUMNS, rows, SEGMENT_OPTIONAL)


def print_comparison(console: Console, comparison: Comparison, *, all_changes: bool = False,
                     more: str = "see the JSON or Markdown report") -> None:
    """The comparison with a baseline, a line per change (never wrapped: CI logs are grepped);
    past CHANGES_SHOWN, `more` says where the rest is."""
    from rich.text import Text

    console.print()
    style = "bold red" if comparison.regressions else "bold green"
    console.print(Text(f"against baseline {comparison.baseline} (run {comparison.baseline_run_id or '?'}): "
                       f"{comparison.regressions} regression{'s' if comparison.regressions != 1 else ''}, "
                       f"{len(comparison.changes) - comparison.regressions} other changes", style=style),
                  soft_wrap=True)
    shown = comparison.changes if all_changes else comparison.changes[:CHANGES_SHOWN]
    for change in shown:
        mark = "✗" if change.regression else "·"
        console.print(Text(f"  {mark} {change.kind:<18} {change.subject}: {change.message}",
                           style="red" if change.regression else "dim"), soft_wrap=True)
    if len(shown) < len(comparison.changes):
        console.print(Text(f"  … {len(comparison.changes) - len(shown)} more ({more})", style="dim"), soft_wrap=True)


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
