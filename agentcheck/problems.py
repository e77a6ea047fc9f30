"""Bad input, described well enough to fix without reading our source.

Every loader collects :class:`Problem` objects instead of raising on the first one, so a user sees
everything wrong with a suite at once, before any money is spent on a model. :class:`BadInput` carries
them to the one place (the CLI) that prints them and exits 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input file."""

    file: str | None
    line: int | None
    key_path: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        """`file:line at key.path: message (hint)`; a problem of no file (a flag, the selection) starts
        at what it is about."""
        where = self.file or ""
        if self.file and self.line is not None:
            where = f"{where}:{self.line}"
        if self.key_path:
            where = f"{where} at {self.key_path}" if where else self.key_path
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class BadInput(Exception):
    """Raised with every problem found; the CLI maps it to exit code 2."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))

    def __reduce__(self) -> tuple[type[BadInput], tuple[list[Problem]]]:
        """Pickled with its problems (a merge worker process raises it in the parent)."""
        return type(self), (self.problems,)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint for a misspelt key or name, or None when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def display_path(path: Path | str, root: Path | None = None) -> str:
    """A path as users want to read it: relative to the project root when inside it."""
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()
