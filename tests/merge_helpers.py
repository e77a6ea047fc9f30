"""What the merge tests share: a project whose scenarios pass, fail, flake, crash and skip, merging
in this process on the fast or the full path, and the normalised texts of its reports (the shard
fixtures built from it are in conftest.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from release_helpers import BOT_CONFIG

from agentcheck import replay, saved_shards
from agentcheck.session import RunOptions

CONFIG = BOT_CONFIG + """gates:
  - {name: suite, min_pass_rate: 0.5, max_flaky: 5, min_pass_hat_k: 0.1, k: 2}
"""

# Fails every even trial of `flaky-*`, always fails `bad-*`, crashes on `crash-*`.
BOT = """
def run(task, tools, context):
    tools.lookup(id="1")
    if task.text.startswith("crash"):
        raise KeyError("order")
    if task.text.startswith("bad") or (task.text.startswith("flaky") and context.trial % 2 == 0):
        return "bad\\tanswer"
    return "fine"
"""

FIXTURES = "fixtures: {lookup: {default: {returns: {ok: true}}}}"


def scenarios(names: list[str]) -> str:
    lines = ["scenarios:"]
    for name in names:
        skip = ", skip: not today" if name.startswith("skipped") else ""
        lines.append(f"  - {{id: {name}, tags: [{name.split('-')[0]}], input: {name}, {FIXTURES}, "
                     f"expect: {{output: {{contains: fine}}}}{skip}}}")
    return "\n".join(lines) + "\n"


NAMES = [f"{kind}-{i}" for i in range(4) for kind in ("flaky", "steady", "bad", "crash", "skipped")]


def shard_paths(root: Path, names: tuple[str, ...] = ("shard1", "shard2", "shard3")) -> list[Path]:
    return [root / "reports" / f"{name}.json" for name in names]


def merged(root: Path, name: str, paths: list[Path], *, fast: bool, monkeypatch: pytest.MonkeyPatch,
           missing: list[str] | None = None) -> dict[str, str]:
    """Merge `paths` in process, on the fast path or forced onto the full one; the reports' texts."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(replay, "_fast_start", lambda options, paths: None)
        else:  # the fast path must really be taken
            original = replay._fast_start
            patch.setattr(replay, "_fast_start", lambda *a: taken(original(*a)))
        options = RunOptions(cwd=root, json_path=root / f"{name}.json", junit_path=root / f"{name}.xml",
                             md_path=root / f"{name}.md")
        summary = replay.merge(options, paths, (missing if missing is not None else []).extend)
    stream = Path(summary.results_file).read_text()
    return {ext: normal((root / f"{name}.{ext}").read_text(), name) for ext in ("json", "xml", "md")} | {
        "jsonl": normal(stream, name), "code": str(summary.exit_code)}


def taken(fast: object) -> object:
    assert fast is not None, "the fast path was not taken"
    return fast


def normal(text: str, name: str) -> str:
    """Without what differs between two merges: run ids and folders, start times, durations, file names."""
    text = re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{6}", "RUN", text).replace(f"{name}.", "NAME.")
    text = re.sub(r'"(started_at|duration_s|timestamp)": ?"?[^",}]*"?', r'"\1": "T"', text)
    text = re.sub(r'(timestamp|time)="[^"]*"', r'\1="T"', text)
    return re.sub(r"(Run `RUN` · .*) · [0-9.]+s", r"\1", text)


def interrupted_merge(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       interrupts: Callable[[int], bool]) -> tuple[int, list[dict], list[str]]:
    """Merge the shards with Ctrl-C raised where a shard is being read (`interrupts(n)`: before the
    n-th record a `_records` call yields, counted from 1); the runs the summary counts, the JSON
    report's results and the console's run lines."""
    import io

    from rich.console import Console

    from agentcheck.report.console import ConsoleReporter

    original = replay._records

    def interrupted(*args, **kwargs):
        for n, record in enumerate(original(*args, **kwargs), 1):
            if interrupts(n):
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(replay, "_records", interrupted)
    out = io.StringIO()
    options = RunOptions(cwd=root, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml", md_path=False,
                         reporters=[ConsoleReporter(Console(file=out, width=160, soft_wrap=True))])
    summary = replay.merge(options, shard_paths(root))
    assert summary.interrupted
    saved = json.loads((tmp_path / "m.json").read_text())["results"]
    lines = re.findall(r"^(?:PASSED|FAILED|ERROR|SKIPPED) .*\(\d+\.\d+s", out.getvalue(), re.M)  # run lines
    return sum(summary.counts.values()), saved, lines


def in_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the fast path read every shard in a worker process (agentcheck.forked), on any machine;
    the list returned grows by one per worker started to read a shard's results."""
    from agentcheck import forked

    started: list[int] = []

    class Counted(forked.Worker):
        def __init__(self, make):
            if getattr(make, "func", None) is replay._records:  # (not a header reader, nor a report writer)
                started.append(1)
            super().__init__(make)

    monkeypatch.setattr(forked, "Worker", Counted)
    monkeypatch.setattr(forked, "available", lambda: True)  # (one core: slower, never different)
    monkeypatch.setattr(saved_shards, "PARALLEL_MIN_RUNS", 0)
    monkeypatch.setattr(saved_shards, "PARALLEL_MIN_BYTES", 0)
    return started


def kept_workers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every agentcheck.forked.Worker started from now on, kept to be looked at after the merge (a
    closed worker's `pid` is None: it was stopped if need be, and waited for)."""
    from agentcheck import forked

    workers: list[Any] = []
    original = forked.Worker.__init__

    def kept(self: Any, make: Any) -> None:
        original(self, make)
        workers.append(self)

    monkeypatch.setattr(forked.Worker, "__init__", kept)
    return workers


def merged_console(root: Path, tmp_path: Path, console_class: type) -> str:
    """The console text of merging `root`'s shards in this process with a `console_class` reporter
    (the run id and the duration made the same for every merge)."""
    import io

    from rich.console import Console

    out = io.StringIO()
    options = RunOptions(cwd=root, json_path=tmp_path / "m.json", junit_path=False, md_path=False,
                         reporters=[console_class(Console(file=out, width=160, soft_wrap=True))])
    summary = replay.merge(options, shard_paths(root))
    return re.sub(r"in \d+\.\d\ds", "in Ns", out.getvalue().replace(summary.run_id, "RUN"))
