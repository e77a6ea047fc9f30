"""The terminal view of a run: live progress, then a table, the failures explained, the gates and a
one-line summary - the way pytest reports, so a CI log explains itself without opening artifacts.

On a terminal progress is a rich bar; elsewhere (CI logs) one plain line per finished run, since
redrawn bars turn into noise in a log file. rich is imported inside methods only: `agentcheck --help`
must not pay for it.

Memory stays small: per run a row of a few numbers, and check details only for runs that did not pass.
Past `LARGE_SUITE` runs the passing rows are dropped (the table then lists only non-passing runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcheck.calls import plural
from agentcheck.release.decode import result_from_data
from agentcheck.report.base import PreparedItem
from agentcheck.report.console_failures import DETAIL_LIMIT, print_failures
from agentcheck.report.console_gates import print_gates
from agentcheck.report.console_lines import line_rest, run_name, strip_control_codes, usual_passed_line
from agentcheck.report.show import (
    OUTCOME_STYLE,
    OUTCOMES,
    as_text,
    clip,
    fmt_cost,
    integer,
    number,
    one_line,
    safe_data,
    truncate_bytes,
)
from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.text import Text

    from agentcheck.reliability import ScenarioStats

BATCH_FLUSH_S = 0.2
"""How often lines of saved results (merge) reach the output: 20 000 lines in a few writes, not 20 000
(stdout may write through: PYTHONUNBUFFERED)."""
LARGE_SUITE = 50
"""Above this many runs the final table lists only non-passing runs (unless verbose)."""


@dataclass(slots=True)
class _Row:
    """What the final report needs of one run; details only for runs that did not pass."""

    index: int
    trial: int
    name: str
    location: str
    outcome: str
    message: str
    tool_calls: int
    cost_usd: float
    seconds: float
    checks: list[dict[str, Any]] = field(default_factory=list)
    stop: dict[str, Any] | None = None


class ConsoleReporter:
    """Progress while running, then the final report.

    `verbose` 1 (-v): list every row, every failed run (no cap), and in failure blocks the passing and
    advisory checks too and whole tracebacks; 2 (-vv): also expected/actual values next to an
    explanation; -1 (quiet): no per-run lines and no table.
    """

    def __init__(self, console: Console | None = None, *, verbose: int = 0, command: str = "run"):
        self._console = console
        self.command = command
        """The command reporting (`run`; `merge` and `rejudge` report saved results: no concurrency)."""
        self.verbose = verbose
        self._rows: list[_Row] = []
        self._counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self._seen = 0
        self._planned: int | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._plain_file: object = None
        self._plain = False
        self._batch: list[str] | None = None
        """Plain lines not written yet, once lines are written in batches (saved results); else None."""
        self._batch_since = 0.0
        self._advance = 0
        """Saved runs counted but not yet shown on the progress bar (it moves in steps: see _saved_run)."""
        self._unlisted_done = False

    @property
    def console(self) -> Console:
        if self._console is None:
            import os

            from rich.console import Console

            console = Console(emoji=False)  # agentcheck prints no :emoji: codes; user text keeps its colons
            if not console.is_terminal:
                # CI logs and pipes: never hard-wrap text (lines stay whole for grep and copy-paste);
                # tables get a wide page instead of rich's 80-column default.
                width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else 160
                console = Console(width=width, soft_wrap=True, emoji=False)
            self._console = console
        return self._console

    # -- live ---------------------------------------------------------------------------------------

    def start(self, plan: RunPlan) -> None:
        self._planned = sum(s.trials for s in plan.scenarios)  # runs: every trial of every scenario
        self._unlisted_done = False  # (a run interrupted while its reports were written left it set)
        if self.console.is_terminal and self.verbose >= 0:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=False,  # never swap sys.stdout under the agents being run
                redirect_stderr=False,
            )
            self._task = self._progress.add_task("running", total=self._planned, counts=self._counts_markup())
            self._progress.start()
        elif self.verbose >= 0:
            how = f"concurrency {plan.concurrency}" if self.command == "run" else "from saved results"
            self.console.print(
                f"agentcheck {self.command} {plan.run_id}: {plural(self._planned, 'scenario run')}, {how}",
                markup=False,
                highlight=False,
            )

    def result(self, result: ScenarioResult) -> None:
        if self._counted(as_text(result.outcome)):  # a passing run past the table's limit: its line is all
            totals = result.trace.totals if result.trace is not None else None
            if self._print_passed(result.scenario_id, result.trial, result.duration_ms,
                                  totals.tool_calls if totals else 0):
                return
        self._show(result)

    def saved_scenario(self, runs: list[dict[str, Any]], stats: ScenarioStats) -> None:
        """A scenario's saved results as JSON data, in trial order (`agentcheck merge`, instead of
        `result` calls): a passing run past the table's limit is printed from the data, so merge need
        not build 20 000 result objects for the console; any other run is shown as `result` shows it."""
        for data in runs:
            outcome = data.get("outcome")
            self._saved_run(outcome if type(outcome) is str else as_text(outcome), data, None, None)

    def prepare_saved(self, data: dict[str, Any]) -> tuple[str, str | None]:
        """A run's outcome and, if it passed, its plain line when it has the usual shape (pure: merge
        may call this in a worker process)."""
        outcome = data.get("outcome")
        outcome = outcome if type(outcome) is str else as_text(outcome)
        return outcome, usual_passed_line(data) if outcome == "passed" else None

    def saved_prepared(self, piece: tuple[str, str | None], load: Callable[[], dict[str, Any]],
                       stats: ScenarioStats) -> None:
        """`saved_scenario` for a scenario run once, from what `prepare_saved` made of it."""
        outcome, line = piece
        self._saved_run(outcome, None, load, line)

    def saved_prepared_batch(self, items: list[PreparedItem]) -> None:
        """`saved_prepared` for each item, in order: a passing run past the table's limit with its plain
        line is counted and its line queued here (what `_saved_run` does for it, without the calls)."""
        if self._batch is None:
            self._batch, self._batch_since = [], time.monotonic()
        file = self.console.file
        lines, counts = self._batch, self._counts
        listed = 0  # passing lines queued here, not counted yet (counted before any other call)

        def plain() -> bool:  # (what _counted and _saved_run ask of a passing run with its line)
            return (self.verbose == 0 and self._progress is None and self._seen > LARGE_SUITE and self._plain
                    and self._plain_file is file)

        fast = plain()
        for piece, load, stats in items:
            outcome, line = piece
            if fast and line is not None and outcome == "passed":
                lines.append(line)
                listed += 1
                continue
            counts["passed"] += listed
            self._seen += listed
            listed = 0
            self.saved_prepared(piece, load, stats)
            fast = plain()
        counts["passed"] += listed
        self._seen += listed
        if lines and time.monotonic() - self._batch_since > BATCH_FLUSH_S:
            self._drain()

    def _saved_run(self, outcome: str, data: dict[str, Any] | None, load: Callable[[], dict[str, Any]] | None,
                   line: str | None) -> None:
        """One saved run: its data, or `load` to read it when its prepared `line` does not do."""
        if self._batch is None:  # saved results come back to back: their lines are written in batches
            self._batch, self._batch_since = [], time.monotonic()
        if self._counted(outcome):
            plain = self._plain and self._plain_file is self._console.file  # type: ignore[union-attr]
            if plain and line is None and data is not None:
                line = usual_passed_line(data)
            if plain and line is not None:  # (what _print_passed writes, without the general checks)
                self._batch.append(line)
                if time.monotonic() - self._batch_since > BATCH_FLUSH_S:
                    self._drain()
                return
            data = data if data is not None else load()  # type: ignore[misc]
            trace = data.get("trace")
            totals = trace.get("totals") if isinstance(trace, dict) else None
            calls = totals.get("tool_calls") if isinstance(totals, dict) else 0
            if self._print_passed(data.get("scenario_id"), data.get("trial"), data.get("duration_ms"), calls):
                return
        elif outcome == "passed" and self._progress is not None and self.verbose == 0 and self._seen > LARGE_SUITE + 1:
            self._advance += 1  # a passing run no table keeps, under a progress bar: only the bar moves, in steps
            if time.monotonic() - self._batch_since > BATCH_FLUSH_S:
                self._advance_bar()
            return
        self._show(result_from_data(data if data is not None else load(), events=False))  # type: ignore[misc]

    def _advance_bar(self, also: int = 0) -> None:
        """Move the progress bar by the saved runs counted since it last moved (and `also` more)."""
        if self._progress is not None and self._task is not None and (self._advance or also):
            self._progress.update(self._task, advance=self._advance + also, counts=self._counts_markup())
        self._advance, self._batch_since = 0, time.monotonic()

    def _counted(self, outcome: str) -> bool:
        """Count a run's outcome; True when its line is all there is to show of it (a passing run past
        the table's limit, in a plain listing)."""
        self._counts[outcome] = self._counts.get(outcome, 0) + 1
        self._seen += 1
        return outcome == "passed" and self._seen > LARGE_SUITE + 1 and self.verbose == 0 and self._progress is None

    def _show(self, result: ScenarioResult) -> None:
        """Keep a run's row for the table and print its line (or advance the progress bar)."""
        outcome = as_text(result.outcome)
        row = self._row(result)
        self._keep(row)
        if self._progress is not None and self._task is not None:
            self._advance_bar(also=1)
            if outcome != "passed" or self.verbose > 0:  # failures scroll above the bar as they happen
                self._progress.console.print(self._line(row))
        elif self.verbose >= 0:
            self._print_line(row)

    def _print_line(self, row: _Row) -> None:
        """`console.print(self._line(row))`, written straight to the file when rich would add nothing
        to the text (see _write_plain): rich's rendering cost ~0.1 ms a line, most of `agentcheck
        merge`'s time for 20 000 results."""
        console = self.console
        if self._plain_file is not console.file:  # decided once per output file, not per line
            self._plain_file, self._plain = console.file, (
                not console.is_terminal and console.color_system is None and console.soft_wrap
                and not console.record and not console.quiet and not console.is_jupyter)
        label, rest = self._line_parts(row)
        if not self._write_plain(label + rest):
            console.print(self._line(row))

    def _print_passed(self, scenario_id: Any, trial: Any, duration_ms: Any, tool_calls: Any) -> bool:
        """The line of a passing run no table keeps, written without building its row when the output
        is plain (merge prints 20 000 of these). False: not done, print it the usual way."""
        if self._plain_file is not self.console.file:
            return False  # _print_line decides whether this output is plain, on its first line
        name = run_name(as_text(scenario_id), integer(trial) or 1)
        return self._write_plain("PASSED" + line_rest(name, "passed", number(duration_ms) / 1000, integer(tool_calls)))

    def _write_plain(self, text: str) -> bool:
        """Write a line as rich would print it, when rich would add nothing to the text: a log or pipe
        (no terminal, no colours, no wrapping) and no tab to expand. False: not written."""
        plain = strip_control_codes(text)  # as rich.text.Text does with every string it is given
        if not self._plain or "\t" in plain:
            self._drain()  # the caller prints through rich next: lines stay in order
            return False
        if self._batch is None:  # a run: each line shows as its run finishes
            file = self._plain_file
            file.write(plain + "\n")  # type: ignore[attr-defined]
            file.flush()  # type: ignore[attr-defined]
        else:
            self._batch.append(plain)
            if time.monotonic() - self._batch_since > BATCH_FLUSH_S:
                self._drain()
        return True

    def _drain(self) -> None:
        """Write the batched lines (saved results) in one piece."""
        if self._batch:
            self.console.file.write("\n".join(self._batch) + "\n")
            self.console.file.flush()
            self._batch.clear()
        self._batch_since = time.monotonic()

    def _row(self, result: ScenarioResult) -> _Row:
        totals = result.trace.totals if result.trace is not None else None
        outcome = as_text(result.outcome)
        name = as_text(result.scenario_id)
        trial = integer(result.trial) or 1
        where = as_text(result.file)
        if isinstance(result.line, int):
            where = f"{where}:{result.line}"
        row = _Row(
            index=integer(result.index),
            trial=trial,
            name=run_name(name, trial),
            location=where,
            outcome=outcome,
            message=one_line(result.message),
            tool_calls=integer(totals.tool_calls) if totals else 0,
            cost_usd=number(totals.cost_usd) if totals else 0.0,
            seconds=number(result.duration_ms) / 1000,
        )
        if outcome != "passed":
            wanted = [c for c in result.checks or () if self.verbose > 0 or not c.passed]  # -v: passing too
            row.checks = [_trimmed(safe_data(c)) for c in wanted]
            stop = result.trace.stop if result.trace is not None else None
            row.stop = _trimmed(safe_data(stop)) if stop is not None else None
        return row

    def _keep(self, row: _Row) -> None:
        if self.verbose > 0 or self._seen <= LARGE_SUITE:
            self._rows.append(row)
            return
        if self._seen == LARGE_SUITE + 1:  # from now on the table shows only non-passing runs
            self._rows = [r for r in self._rows if r.outcome != "passed"]
        if row.outcome != "passed":
            self._rows.append(row)

    def _line(self, row: _Row) -> Text:
        """`PASSED id (0.01s, 2 tool calls)`, `FAILED id (...) — message`, `SKIPPED id — reason`."""
        from rich.text import Text

        label, rest = self._line_parts(row)
        return Text.assemble((label, OUTCOME_STYLE.get(row.outcome, "bold")), rest)

    @staticmethod
    def _line_parts(row: _Row) -> tuple[str, str]:
        """The line's outcome label (styled) and the rest (plain)."""
        return row.outcome.upper(), line_rest(row.name, row.outcome, row.seconds, row.tool_calls, row.message)

    def _counts_markup(self) -> str:
        c = self._counts
        return (
            f"[green]{c.get('passed', 0)} passed[/] [red]{c.get('failed', 0)} failed[/] "
            f"[magenta]{c.get('error', 0)} error[/]"
        )

    # -- final report -------------------------------------------------------------------------------

    def finish_unlisted(self, summary: RunSummary) -> None:
        """Everything up to the summary lines, which list the reports written (ReportListingReporter):
        the table, the failures and the gates, shown while merge's workers still write their reports."""
        self._unlisted_done = True
        if self._batch is not None:
            self._drain()
            self._batch = None
        if self._progress is not None:
            self._advance_bar()
            self._progress.stop()
            self._progress = None
        rows = sorted(self._rows, key=lambda r: (r.index, r.trial))
        if self.verbose >= 0:
            self._print_table(rows)
        print_failures(self.console, rows, self.verbose,
                       plain=self._plain_file is self.console.file and self._plain)
        if summary.gates:
            print_gates(self.console, summary.gates)

    def finish(self, summary: RunSummary) -> None:
        if not self._unlisted_done:
            self.finish_unlisted(summary)
        self._print_summary(summary)

    def _print_table(self, rows: list[_Row]) -> None:
        from rich.table import Table
        from rich.text import Text

        hidden = self._seen - len(rows)
        if rows:
            table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
            table.add_column("scenario", overflow="fold")
            table.add_column("status")
            table.add_column("tool calls", justify="right")
            table.add_column("cost", justify="right")
            table.add_column("time", justify="right")
            cells = [(row.name, row.outcome.upper(), str(row.tool_calls), fmt_cost(row.cost_usd),
                      f"{row.seconds:.2f}s") for row in rows]
            for row, (name, status, *numbers) in zip(rows, cells, strict=True):
                table.add_row(Text(name), Text(status, style=OUTCOME_STYLE.get(row.outcome, "bold")), *numbers)
            self.console.print()
            lines = self._plain_table(["scenario", "status", "tool calls", "cost", "time"], cells, right=(2, 3, 4))
            if lines is None:
                self.console.print(table)
            else:  # what rich prints for this table, without its layout engine (0.5 ms a row)
                self.console.file.write("".join(line + "\n" for line in lines))
                self.console.file.flush()
        if hidden > 0:
            self.console.print(
                Text(f"{hidden} passing runs not listed (more than {LARGE_SUITE} runs; use -v to list all)",
                     style="dim")
            )

    def _plain_table(self, header: list[str], cells: list[tuple[str, ...]], right: tuple[int, ...]) -> list[str] | None:
        """The lines rich prints for a table without edges, box or padding at its edges (two spaces
        between columns; `right`: the right-justified columns) when that is all it does: plain output
        (see _print_line), every cell printable ASCII (one column per character) and the table no
        wider than the page (else rich folds cells). None: let rich lay it out."""
        if self._plain_file is not self.console.file or not self._plain or len(header) - 1 not in right:
            return None  # (a left-justified last column: whether rich pads it is not worth knowing)
        widths = [len(h) for h in header]
        for row in cells:
            for i, cell in enumerate(row):
                if not (cell.isascii() and cell.isprintable()):
                    return None
                widths[i] = max(widths[i], len(cell))
        if sum(widths) + 2 * (len(widths) - 1) > self.console.width:
            return None
        return ["  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row))
                for row in (header, *cells)]

    def _print_summary(self, summary: RunSummary) -> None:
        from rich.text import Text

        counts = summary.counts or {}
        parts = [f"{integer(counts.get(o, 0))} {o}" for o in OUTCOMES]
        bad = integer(counts.get("failed", 0)) + integer(counts.get("error", 0))
        style = "bold red" if bad or summary.exit_code else "bold green"
        if summary.reports:
            self.console.print()
        for kind, path in summary.reports.items():
            self.console.print(Text(f"{kind} report: {path}", style="dim"))
        gates = summary.gates or []
        failed_gates = sum(not gate.passed for gate in gates)
        verdict = f"; {failed_gates} of {plural(len(gates), 'gate')} failed" if failed_gates else ""
        self.console.print()
        self.console.print(Text(f"{', '.join(parts)} in {number(summary.duration_s):.2f}s{verdict}", style=style))
        not_run = integer(getattr(summary, "not_run", 0))
        if not_run and not summary.interrupted:  # (an interrupted run says how many finished, below)
            self.console.print(Text(f"{plural(not_run, 'scenario run')} not started (--fail-fast stopped the run)",
                                    style="yellow"))
        if summary.interrupted:
            planned = f" of {self._planned}" if self._planned is not None else ""
            self.console.print(
                Text(
                    f"interrupted: {self._seen}{planned} scenario runs finished; "
                    f"results so far are in {summary.results_file}",
                    style="bold yellow",
                )
            )


def _trimmed(data: Any) -> Any:
    """A check or stop record with its long text fields cut to DETAIL_LIMIT bytes."""
    if isinstance(data, dict):
        for key in ("explanation", "detail", "message"):
            if isinstance(data.get(key), str):
                data[key] = truncate_bytes(data[key], DETAIL_LIMIT)
        for key in ("expected", "actual"):
            if data.get(key) is not None:
                data[key] = clip(as_text(data[key]))
    return data
