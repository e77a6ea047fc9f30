"""Where the JUnit report's rendered testcases wait for the document: a spool file, and per scenario
file its counts and the spool ranges of its cases (suite attributes need the counts before the cases,
so nothing is written into the document until every testcase is rendered)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from agentcheck.report.show import as_text, case_name, integer


@dataclass(slots=True)
class Suite:
    """One scenario file's counts and where its rendered testcases sit in the spool."""

    name: str
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    time_ms: float = 0.0
    cases: list[tuple[int, int]] = field(default_factory=list)
    props: list[tuple[int, int]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def unique_name(self, result: Mapping[str, Any]) -> str:
        """The testcase name, made unique in the suite (and taken)."""
        name = self.free_name(result)
        self.names.add(name)
        return name

    def free_name(self, result: Mapping[str, Any]) -> str:
        """The name `unique_name` would give, not taken yet: GitLab keeps only the first of duplicate
        names, and the same scenario run against two agents would otherwise collide."""
        name = case_name(result)
        if name in self.names:
            name = f"{name} [{as_text(result.get('agent')) or 'agent?'}]"
        if name in self.names:
            name = f"{name} #{integer(result.get('index'))}"
        return name


SPOOL_BUFFER = 1 << 18
"""Bytes buffered before the spool is written to: 20 000 testcases in ~3 000 writes, not 40 000."""


@dataclass(slots=True)
class EarlyCase:
    """A passing single-trial run's testcase, rendered when its result came: where it sits in the
    spool, and what placing it among the others at finish needs (its file's counts, its name)."""

    index: int
    rel: str
    scenario_id: str
    agent: str
    duration_ms: Any
    name: str
    """The name it was rendered with: the one it gets at finish unless another case of its file took it."""
    case: tuple[int, int]
    props: tuple[int, int] | None
    """Its strict-form properties (they name the testcase too)."""


class Spool:
    """Rendered testcases on their way into the document: a temporary file, and per scenario file its
    counts and where its cases sit in that file (suite attributes need the counts before the cases)."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(mode="w+b", buffering=SPOOL_BUFFER)  # noqa: SIM115  # closed by write
        self.end = 0  # bytes appended so far: the next case's offset, without asking the file
        self.suites: dict[str, Suite] = {}  # first-seen order

    def suite(self, rel: str) -> Suite:
        """The suite of the scenario file at `rel`, made on first sight."""
        suite = self.suites.get(rel)
        if suite is None:
            suite = self.suites[rel] = Suite(rel)
        return suite

    def append(self, data: bytes) -> tuple[int, int]:
        """Append `data`; its (offset, size) in the spool (only appended to until the document is built)."""
        offset = self.end
        self.end += self.file.write(data)
        return offset, len(data)


def extend_range(ranges: list[tuple[int, int]], span: tuple[int, int]) -> None:
    """Add a spool range, joined to the last one when it follows it: the testcases of a file are
    usually consecutive, and are then copied into the document in one read instead of 20 000."""
    if ranges and ranges[-1][0] + ranges[-1][1] == span[0]:
        ranges[-1] = (ranges[-1][0], ranges[-1][1] + span[1])
    else:
        ranges.append(span)


def copy_ranges(spool: IO[bytes], ranges: list[tuple[int, int]], out: IO[str], chunk: int = 1 << 20) -> None:
    """Copy spool ranges (UTF-8 already) into the document's bytes, in order, a chunk at a time: a
    file's 20 000 testcases are often one range, and read whole they would be 20 MB held three times
    over; testcases rendered in finishing order are many small ranges, copied after one flush."""
    if not ranges:
        return
    out.flush()
    binary = out.buffer  # type: ignore[attr-defined]
    for offset, size in ranges:
        spool.seek(offset)
        while size > 0:
            data = spool.read(min(chunk, size))
            if not data:
                raise OSError("the JUnit spool ended early")
            binary.write(data)
            size -= len(data)
