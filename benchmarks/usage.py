"""`-h`/`--help` for the benchmark scripts: their docstring is their usage, so print it and stop
instead of reading the flag as a size."""

from __future__ import annotations

import sys


def answer_help(doc: str | None) -> None:
    """Print `doc` and exit 0 when the command line asks for help; return otherwise."""
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print((doc or "").strip())
        raise SystemExit(0)
