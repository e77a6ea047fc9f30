"""The console's gates table (agentcheck.report.console prints it after the failures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcheck.report.show import as_text, fmt_number, one_line
from agentcheck.verdict import GateResult

if TYPE_CHECKING:
    from rich.console import Console


def print_gates(console: Console, gates: list[GateResult]) -> None:
    """The gates table: a row per check (the gate's name on its first), then why each failed gate failed."""
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="gates", title_justify="left", show_edge=False, pad_edge=False, box=None, header_style="bold"
    )
    for column in ("gate", "runs", "metric", "measured", "threshold", "result"):
        table.add_column(
            column,
            justify="right" if column in ("runs", "measured") else "left",
            no_wrap=column != "gate",  # metric names and numbers must stay whole; gate names may wrap
            overflow="fold" if column == "gate" else "ellipsis",
        )
    for gate in gates:
        checks = list(gate.checks) or [None]
        for position, check in enumerate(checks):
            passed = gate.passed if check is None else check.passed
            table.add_row(
                Text(as_text(gate.name)) if position == 0 else "",
                str(gate.selected) if position == 0 else "",
                "—" if check is None else as_text(check.metric),
                "—" if check is None else fmt_number(check.measured),
                "—" if check is None else f"{check.op} {fmt_number(check.threshold)}",
                _gate_verdict(passed, gate.selected),
            )
    console.print()
    console.print(table)
    for gate in gates:
        if not gate.passed and gate.message:
            console.print(Text(f"gate {gate.name} failed: {one_line(gate.message)}", style="red"), soft_wrap=True)


def _gate_verdict(passed: bool, selected: int) -> Any:
    """A gate row's result: a pass over no runs at all (a narrowed run, say) says so, in yellow."""
    from rich.text import Text

    if not passed:
        return Text("FAIL", style="bold red")
    return Text("PASS (no runs)", style="yellow") if selected == 0 else Text("PASS", style="green")
