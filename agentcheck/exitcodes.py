"""Process exit codes, chosen in one place (see docs/exit-codes.md).

The numbers agree with typer/click, which already exit 2 on a bad flag, so a usage error and a
bad scenario file look the same to a CI script.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Every release gate passed (without gates: every selected scenario passed)."""
    GATES_FAILED = 1
    """At least one gate failed, or (without gates) a scenario failed or errored."""
    BAD_INPUT = 2
    """Bad usage, or a project/scenario/fixture file that does not load. Nothing ran."""
    INTERNAL_ERROR = 3
    """agentcheck itself broke. Results finished so far are still on disk."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C / SIGINT. Results finished so far are on disk."""
