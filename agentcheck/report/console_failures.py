"""The console's failure blocks: each failed or errored run explained under a rule, its checks with
their expected and actual values, its stop reason and the end of its traceback (rich renders them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcheck.report.console_lines import strip_control_codes
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


def print_failures(console: Console, rows: list[Any], verbose: int, *, plain: bool = False) -> None:
    """The failed and errored runs explained, one block each (the first FAILURE_BLOCKS unless verbose).
    `plain`: the console adds nothing to text (a log or pipe: see ConsoleReporter._print_line), so the
    lines rich would print are written straight to its file (rich's layout took 1.3 ms a block)."""
    bad = [r for r in rows if r.outcome in ("failed", "error")]
    if not bad:
        return
    untold = 0
    if verbose < 1 and len(bad) > FAILURE_BLOCKS:
        untold, bad = len(bad) - FAILURE_BLOCKS, bad[:FAILURE_BLOCKS]
    out = _Out(console, plain)
    out.line([])
    out.rule([("failures", "bold red")], "=", "center")
    for row in bad:
        out.rule([(row.outcome.upper(), OUTCOME_STYLE.get(row.outcome, "bold")), (f" {row.name}  {row.location}", "")],
                 "_", "left")
        if row.message and not _repeated(row):
            out.line([(row.message, "")])
        if row.stop:
            _print_stop(out, row.stop, verbose)
        for check in row.checks:
            advisory = bool(check.get("advisory"))
            if advisory and verbose < 1:
                continue
            if check.get("passed"):
                out.line([("  ✓ ", "green"), (check_header(check), "")])
                continue
            mark, style = ("!", "yellow") if advisory else ("✗", "red")
            advised = [(" (advisory)", "dim")] if advisory else []
            out.line([(f"  {mark} ", style), (check_header(check), ""), *advised])
            details = check_details(check, verbose=verbose >= 2)
            if details:
                out.line([(indent(truncate_bytes(details, DETAIL_LIMIT), "      "), "")])
    if untold:
        out.line([(f"… {untold} more failed or errored runs not shown here (use -v, or see the JUnit/JSON report)",
                   "dim")])
    out.flush()


def _print_stop(out: _Out, stop: dict[str, Any], verbose: int) -> None:
    kind = as_text(stop.get("kind")) or "stopped"
    out.line([("  stop ", "magenta"), (f"{kind}: {one_line(stop.get('message'))}", "")])
    detail = as_text(stop.get("detail")).rstrip()
    if not detail:
        return
    lines = detail.splitlines()
    if verbose < 1 and len(lines) > TRACEBACK_LINES:
        skipped = len(lines) - TRACEBACK_LINES
        lines = [f"… {skipped} earlier lines (use -v to see all)", *lines[-TRACEBACK_LINES:]]
    out.line([(indent("\n".join(lines), "      "), "dim")])


Parts = list[tuple[str, str]]
"""A line as (text, rich style) pieces."""


class _Out:
    """Where the failure blocks go: through rich, or (plain output) as the text rich would print for
    them, collected and written straight to the console's file. A piece rich would change (a tab it
    expands; a rule whose title is not printable ASCII, or too wide to fit) goes through rich, after
    what was collected before it, so the lines keep their order."""

    def __init__(self, console: Console, plain: bool):
        self.console = console
        self.plain = plain and console.width > 0  # (a page of no columns: rich prints nothing at all)
        self.pending: list[str] = []

    def line(self, parts: Parts) -> None:
        """`console.print(Text.assemble(*parts))`."""
        if self.plain:
            text = strip_control_codes("".join(text for text, _ in parts))  # (as rich.text.Text does)
            if "\t" not in text:
                self.pending.append(text)
                return
        from rich.text import Text

        self.flush()
        self.console.print(Text.assemble(*parts))

    def rule(self, parts: Parts, characters: str, align: str) -> None:
        """`console.rule(Text.assemble(*parts), characters=characters, align=align)`."""
        title = "".join(text for text, _ in parts)
        text = plain_rule(title, characters, align, self.console.width) if self.plain else None
        if text is not None:
            self.pending.append(text)
            return
        from rich.text import Text

        self.flush()
        self.console.rule(Text.assemble(*parts), characters=characters, align=align)

    def flush(self) -> None:
        if self.pending:
            self.console.file.write("\n".join(self.pending) + "\n")
            self.console.file.flush()
            self.pending = []


def plain_rule(title: str, characters: str, align: str, width: int) -> str | None:
    """The line rich.rule.Rule renders for a title of printable ASCII that fits (one cell a character)
    and a rule of one ASCII character, centred or left-aligned; None for anything else (rich's own)."""
    if not (title and title.isascii() and title.isprintable() and len(characters) == 1 and characters.isascii()
            and characters.isprintable() and align in ("center", "left")):
        return None
    if len(title) > width - (4 if align == "center" else 2):
        return None  # (rich truncates it with an ellipsis)
    if align == "left":
        text = f"{title} " + characters * (width - len(title) - 1)
    else:
        side = (width - len(title)) // 2
        left = characters * max(side - 1, 0)
        right = characters * min(side + 1, width - len(left) - len(title))
        text = f"{left} {title} {right}"
    return text[:width].ljust(width)


def _repeated(row: Any) -> bool:
    """True when the run's message only restates its stop reason or a check's header line (the judge
    often words it that way), so the block need not say it twice."""
    said = {check_header(c) for c in row.checks} | {one_line(c.get("message")) for c in row.checks}
    if row.stop:
        said.add(f"{as_text(row.stop.get('kind'))}: {one_line(row.stop.get('message'))}")
        said.add(one_line(row.stop.get("message")))
    return row.message in said
