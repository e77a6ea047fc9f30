"""Merge's console and reporters while the report files are written in workers: what lists no report
is shown meanwhile, the rest after the files are written, as in one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from merge_helpers import (
    NAMES,
    in_workers,
    merged_console,
    shard_paths,
)

from agentcheck import replay
from agentcheck.session import RunOptions


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_reporters_after_the_report_files_see_them_written(single_shards: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    """The JSON report written in a worker is there, whole, for the reporters that finish after the
    report files (the console, an API user's own), as in one process; one that failed is not listed."""
    from agentcheck.report.json_report import JsonReporter

    in_workers(monkeypatch)
    seen: list[object] = []

    class Reader:
        def start(self, plan): ...

        def result(self, result): ...

        def finish(self, summary):
            path = summary.reports.get("json")
            seen.append(len(json.loads(Path(path).read_text())["results"]) if path else None)

    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml",
                         md_path=False, reporters=[Reader()])
    replay.merge(options, shard_paths(single_shards))
    assert seen == [len(NAMES)]

    def failing(self, summary):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(JsonReporter, "write", failing)
    (tmp_path / "m.json").unlink()
    with pytest.raises(OSError, match="No space left"):
        replay.merge(options, shard_paths(single_shards))
    assert seen == [len(NAMES), None]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_the_console_shows_what_lists_no_report_while_the_json_report_is_written(
        single_shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The console's table, failures and gates are written while the JSON report is still being
    written in a worker (ReportListingReporter); the lines listing the reports come once it is, and
    the console reads as in one process."""
    import time

    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.json_report import JsonReporter

    shown = tmp_path / "console-shown"
    write = JsonReporter.write

    def after_the_console(self, summary):  # (in the worker: waits for the console's first part)
        deadline = time.monotonic() + 20
        while not shown.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the console waited for the JSON report before showing anything")
            time.sleep(0.01)
        write(self, summary)

    unlisted = ConsoleReporter.finish_unlisted

    def marking(self, summary):
        unlisted(self, summary)
        shown.touch()

    monkeypatch.setenv("AGENTCHECK_WORKERS", "0")
    in_one_process = merged_console(single_shards, tmp_path, ConsoleReporter)
    monkeypatch.delenv("AGENTCHECK_WORKERS")
    in_workers(monkeypatch)
    monkeypatch.setattr(JsonReporter, "write", after_the_console)
    monkeypatch.setattr(ConsoleReporter, "finish_unlisted", marking)
    with_workers = merged_console(single_shards, tmp_path, ConsoleReporter)
    shown.unlink(missing_ok=True)
    assert with_workers == in_one_process
    assert f"json report: {tmp_path / 'm.json'}" in with_workers
    assert len(json.loads((tmp_path / "m.json").read_text())["results"]) == len(NAMES)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_console_subclass_that_overrides_finish_prints_as_in_one_process(
        single_shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A user's console whose own `finish` prints around the inherited one is finished whole, as in
    one process: its table is not shown early (that part is only for the class that splits `finish`)."""


    from agentcheck.report.console import ConsoleReporter

    class Headed(ConsoleReporter):
        def finish(self, summary):
            self.console.print("== the end ==")
            super().finish(summary)

    monkeypatch.setenv("AGENTCHECK_WORKERS", "0")
    in_one_process = merged_console(single_shards, tmp_path, Headed)
    monkeypatch.delenv("AGENTCHECK_WORKERS")
    in_workers(monkeypatch)
    with_workers = merged_console(single_shards, tmp_path, Headed)
    assert with_workers == in_one_process
    assert with_workers.index("== the end ==") < with_workers.index("suite")  # (before the gates, as it wrote)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_console_interrupted_while_reports_are_written_shows_its_next_run_whole(
        single_shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import io

    from rich.console import Console

    from agentcheck import forked
    from agentcheck.report.console import ConsoleReporter

    out = io.StringIO()
    console = ConsoleReporter(Console(file=out, width=160, soft_wrap=True))
    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=False, md_path=False,
                         reporters=[console])
    with monkeypatch.context() as patch:
        in_workers(patch)

        def interrupted(worker):
            raise KeyboardInterrupt

        patch.setattr(forked, "wait", interrupted)
        with pytest.raises(KeyboardInterrupt):
            replay.merge(options, shard_paths(single_shards))
    monkeypatch.setenv("AGENTCHECK_WORKERS", "0")
    out.seek(0)
    out.truncate()
    replay.merge(options, shard_paths(single_shards))
    assert "gates" in out.getvalue().lower() and "FAILED" in out.getvalue()
