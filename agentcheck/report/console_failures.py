"""The console's failure blocks: each failed or errored run explained under a rule, its checks with
their expected and actual values, its stop reason and the end of its traceback (rich renders them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcheck.report.show import (
    OUTCOME_STYLE,
    as_text,
    check_details,
    check_header,
    indent,
    one_line,
    truncate_bytes,
)

if TYPE_CHECKING:
    from rich.console import Console

TRACEBACK_LINES = 15
"""Lines of a crash traceback shown per error (all of them with -v)."""
FAILURE_BLOCKS = 100
"""Failed/errored runs explained at the end (all of them with -v); the JUnit report has every one."""
DETAIL_LIMIT = 16 * 1024
"""Bytes kept of one check explanation or traceback, so a pathological diff cannot bloat memory."""


def print_failures(console: Console, rows: list[Any], verbose: int) -> None:
    """The failed and errored runs explained, one block each (the first FAILURE_BLOCKS unless verbose)."""
    from rich.text import Text

    bad = [r for r in rows if r.outcome in ("failed", "error")]
    if not bad:
        return
    untold = 0
    if verbose < 1 and len(bad) > FAILURE_BLOCKS:
        untold, bad = len(bad) - FAILURE_BLOCKS, bad[:FAILURE_BLOCKS]
    console.print()
    console.rule(Text("failures", style="bold red"), characters="=")
    for row in bad:
        title = Text.assemble(
            (row.outcome.upper(), OUTCOME_STYLE.get(row.outcome, "bold")), f" {row.name}  {row.location}"
        )
        console.rule(title, characters="_", align="left")
        if row.message and not _repeated(row):
            console.print(Text(row.message))
        if row.stop:
            _print_stop(console, row.stop, verbose)
        for check in row.checks:
            advisory = bool(check.get("advisory"))
            if advisory and verbose < 1:
                continue
            if check.get("passed"):
                console.print(Text.assemble(("  ✓ ", "green"), check_header(check)))
                continue
            mark, style = ("!", "yellow") if advisory else ("✗", "red")
            line = Text.assemble((f"  {mark} ", style), check_header(check))
            if advisory:
                line.append(" (advisory)", style="dim")
            console.print(line)
            details = check_details(check, verbose=verbose >= 2)
            if details:
                console.print(Text(indent(truncate_bytes(details, DETAIL_LIMIT), "      ")))
    if untold:
        console.print(
            Text(f"… {untold} more failed or errored runs not shown here (use -v, or see the JUnit/JSON report)",
                 style="dim")
        )

def _print_stop(console: Console, stop: dict[str, Any], verbose: int) -> None:
    from rich.text import Text

    kind = as_text(stop.get("kind")) or "stopped"
    console.print(Text.assemble(("  stop ", "magenta"), f"{kind}: {one_line(stop.get('message'))}"))
    detail = as_text(stop.get("detail")).rstrip()
    if not detail:
        return
    lines = detail.splitlines()
    if verbose < 1 and len(lines) > TRACEBACK_LINES:
        skipped = len(lines) - TRACEBACK_LINES
        lines = [f"… {skipped} earlier lines (use -v to see all)", *lines[-TRACEBACK_LINES:]]
    console.print(Text(indent("\n".join(lines), "      "), style="dim"))


def _repeated(row: Any) -> bool:
    """True when the run's message only restates its stop reason or a check's header line (the judge
    often words it that way), so the block need not say it twice."""
    said = {check_header(c) for c in row.checks} | {one_line(c.get("message")) for c in row.checks}
    if row.stop:
        said.add(f"{as_text(row.stop.get('kind'))}: {one_line(row.stop.get('message'))}")
        said.add(one_line(row.stop.get("message")))
    return row.message in said
