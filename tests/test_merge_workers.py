"""Merge's fast path with shards read in worker processes (agentcheck.forked) and scenarios run once
(their reporters' shares prepared as the shard is read): the same reports as the full path, and
Ctrl-C, a failing report, a broken shard or a dying worker handled as in one process."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import orjson
import pytest
from merge_helpers import (
    NAMES,
    in_workers,
    interrupted_merge,
    kept_workers,
    merged,
    normal,
    shard_paths,
    taken,
)

from agentcheck import replay, saved_shards
from agentcheck.session import RunOptions


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_fast_merge_in_worker_processes_equals_the_full_merge(shards: Path, monkeypatch: pytest.MonkeyPatch):
    """Each shard read in a worker of its own (as a large merge on a machine with cores to spare does)
    gives the reports of the full path, byte for byte (run ids and times aside)."""
    full = merged(shards, "full", shard_paths(shards), fast=False, monkeypatch=monkeypatch)
    started = in_workers(monkeypatch)
    fast = merged(shards, "workers", shard_paths(shards), fast=True, monkeypatch=monkeypatch)
    assert len(started) == 3
    assert fast == full


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_worker_refusing_its_shard_refuses_the_merge(shards: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    """A bad result found in a worker process is the same bad input, naming the same file, as in this
    one: nothing is reported, no worker is left running."""
    from agentcheck.problems import BadInput

    started = in_workers(monkeypatch)
    first, *rest = shard_paths(shards)
    lines = first.read_bytes().split(b"\n")
    at = lines.index(b'"results": [') + 3
    ghost = orjson.loads(lines[at].rstrip(b","))
    ghost["scenario_id"] = "ghost"
    lines[at] = orjson.dumps(ghost) + b","
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    options = RunOptions(cwd=shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml", md_path=False)
    with pytest.raises(BadInput, match="scenario 'ghost', which its run's plan") as raised:
        replay.merge(options, [edited, *rest])
    assert started and raised.value.problems[0].file == str(edited)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "m.xml").exists()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_an_interrupted_merge_in_workers_reports_what_it_delivered(shards: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    """Ctrl-C reaches the workers too: the merge stops, and what was delivered is reported the same
    everywhere (the stream, JSON, console lines), as in one process."""
    in_workers(monkeypatch)
    # (in each worker: its shard's third result is the interrupt)
    delivered, saved, lines = interrupted_merge(shards, tmp_path, monkeypatch, lambda n: n == 3)
    assert 0 < delivered < 7
    assert len(saved) == len(lines) == delivered


@pytest.mark.parametrize("workers", [False, True] if hasattr(__import__("os"), "fork") else [False])
def test_fast_merge_of_single_runs_equals_the_full_merge(single_shards: Path, monkeypatch: pytest.MonkeyPatch,
                                                         workers: bool):
    """Scenarios run once take the prepared road (their testcase and console line made from the shard
    as it is read, in a worker or here): the reports are the full path's, passing, failing, erroring
    and skipped runs alike, with the rich console (a recording console prints through rich)."""
    import io

    from rich.console import Console

    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.junit import JUnitReporter

    placed: list[bool] = []
    place, start = JUnitReporter.saved_prepared_batch, replay._fast_start

    def counted(self, items):
        placed.extend(piece is not None for piece, _, _ in items)
        place(self, items)

    monkeypatch.setattr(JUnitReporter, "saved_prepared_batch", counted)
    monkeypatch.setattr(saved_shards, "PREPARED_BATCH", 3)  # (several batches, and a last one at the end)
    outputs = []
    for fast in (False, True):
        with monkeypatch.context() as patch:
            if fast:
                patch.setattr(replay, "_fast_start", lambda *a: taken(start(*a)))
            if fast and workers:
                in_workers(patch)
            for record in (False, True):
                out = io.StringIO()
                console = ConsoleReporter(Console(file=out, width=160, soft_wrap=True, record=record),
                                          command="merge")
                name = f"{'fast' if fast else 'full'}{int(record)}"
                with patch.context() as inner:
                    if not fast:
                        inner.setattr(replay, "_fast_start", lambda options, paths: None)
                    options = RunOptions(cwd=single_shards, json_path=single_shards / f"{name}.json",
                                         junit_path=single_shards / f"{name}.xml",
                                         md_path=single_shards / f"{name}.md", reporters=[console])
                    replay.merge(options, shard_paths(single_shards))
                texts = [normal((single_shards / f"{name}.{ext}").read_text(), name) for ext in ("json", "xml", "md")]
                outputs.append((texts, normal(re.sub(r"in [0-9.]+s", "in Xs", out.getvalue()), name)))
    full_plain, full_rich, fast_plain, fast_rich = outputs
    assert fast_plain == full_plain and fast_rich == full_rich
    assert placed.count(True) == 2 * len(NAMES)  # every scenario's testcase prepared, in both merges
    assert "FAILED bad-0" in fast_plain[1] and "ERROR crash-0" in fast_plain[1] and "SKIPPED skipped-0" in fast_plain[1]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_json_report_written_in_a_worker_that_fails_fails_the_merge_not_the_other_reports(
        single_shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A large merge writes its JSON report in a worker process while it writes the others: a failure
    there is raised here, as writing it here would raise it, after every other report is written."""
    from agentcheck.report.json_report import JsonReporter

    in_workers(monkeypatch)
    writers: list[int] = []

    def failing(self, summary):
        writers.append(__import__("os").getpid())
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(JsonReporter, "write", failing)
    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml",
                         md_path=tmp_path / "m.md")
    with pytest.raises(OSError, match="No space left on device"):
        replay.merge(options, shard_paths(single_shards))
    assert writers == []  # it was not written in this process
    assert (tmp_path / "m.xml").exists() and (tmp_path / "m.md").exists() and not (tmp_path / "m.json").exists()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
@pytest.mark.parametrize("broken", ["not JSON", "missing"])
def test_a_broken_shard_read_in_a_worker_is_reported_as_here(shards: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch, broken: str):
    """Large shards' headers are read in workers while the project loads; a shard that cannot be read
    sends merge down the full path, which says what is wrong with it, and no worker is left behind."""
    from test_forked import _children

    from agentcheck.problems import BadInput

    before = _children()
    in_workers(monkeypatch)
    first, _, third = shard_paths(shards)
    bad = tmp_path / "shard2.json"
    if broken == "not JSON":
        bad.write_text("{not json")
    options = RunOptions(cwd=shards, json_path=tmp_path / "m.json", junit_path=False, md_path=False)
    assert replay._fast_start(options, [first, bad, third]) is None
    with pytest.raises(BadInput, match="not JSON" if broken == "not JSON" else "cannot read it") as raised:
        replay.merge(options, [first, bad, third])
    assert raised.value.problems[0].file == str(bad)
    assert _children() - before == set()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
@pytest.mark.parametrize("workers", [False, True])
def test_a_real_ctrl_c_during_a_merge_leaves_reports_that_agree(single_shards: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, workers: bool):
    """SIGINT while a reporter is being handed a scenario: each saved run is delivered whole (to the
    stream, the numbers and every reporter) before the merge stops, so every report holds the same runs."""
    import io
    import signal

    from junitparser import JUnitXml
    from rich.console import Console

    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.junit import JUnitReporter

    if workers:
        in_workers(monkeypatch)
    calls = {"n": 0}
    place = JUnitReporter.saved_prepared_batch

    def interrupting(self, items):
        calls["n"] += len(items)
        if calls["n"] >= 4:  # (in the middle of a batch: the runs are handed over two at a time)
            os.kill(os.getpid(), signal.SIGINT)  # (as a terminal's Ctrl-C reaches this process)
        place(self, items[:1])
        place(self, items[1:])

    monkeypatch.setattr(JUnitReporter, "saved_prepared_batch", interrupting)
    monkeypatch.setattr(saved_shards, "PREPARED_BATCH", 2)
    monkeypatch.setattr(signal, "getsignal", lambda signum: signal.default_int_handler)  # (pytest's own aside)
    out = io.StringIO()
    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml",
                         md_path=False, reporters=[ConsoleReporter(Console(file=out, width=160, soft_wrap=True))])
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        summary = replay.merge(options, shard_paths(single_shards))
    finally:
        signal.signal(signal.SIGINT, previous)
    delivered = sum(summary.counts.values())
    assert summary.interrupted and 5 <= delivered < len(NAMES)
    document = json.loads((tmp_path / "m.json").read_text())
    ids = [r["scenario_id"] for r in document["results"]]
    assert sorted(row["scenario_id"] for row in document["scenarios"]) == sorted(ids)  # each once, all there
    cases = [case.name for suite in JUnitXml.fromfile(str(tmp_path / "m.xml")) for case in suite
             if case.classname != "agentcheck.gates"]
    lines = re.findall(r"^(?:PASSED|FAILED|ERROR|SKIPPED) (\S+)(?: \(| —)", out.getvalue(), re.M)  # run lines
    assert sorted(cases) == sorted(lines) == sorted(ids) and len(ids) == delivered, out.getvalue()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_worker_that_dies_mid_shard_writes_no_reports(single_shards: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    """A shard's worker killed (by the OOM killer, say) is an internal error, and no report claims the
    part of the merge it had delivered to be the whole."""
    import signal

    from agentcheck.forked import WorkerDied

    in_workers(monkeypatch)
    original = replay._records

    def dying(*args, **kwargs):
        for n, record in enumerate(original(*args, **kwargs)):
            if n == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            yield record

    monkeypatch.setattr(replay, "_records", dying)
    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml",
                         md_path=tmp_path / "m.md")
    with pytest.raises(WorkerDied):
        replay.merge(options, shard_paths(single_shards))
    assert not any((tmp_path / f"m.{ext}").exists() for ext in ("json", "xml", "md"))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_ctrl_c_while_the_project_loads_leaves_no_shard_reader_behind(shards: Path, monkeypatch: pytest.MonkeyPatch):
    from test_forked import _children

    import agentcheck.collect as collect_package

    before = _children()
    in_workers(monkeypatch)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(collect_package, "load_project", interrupted)
    with pytest.raises(KeyboardInterrupt):
        saved_shards.fast_start(RunOptions(cwd=shards), shard_paths(shards))
    assert _children() - before == set()


def test_a_subclass_overriding_saved_scenario_still_gets_it():
    """A reporter that prepares shares is handed them only when its class does not override
    `saved_scenario` below the class that prepares (that override is what the user wrote)."""
    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.junit import JUnitReporter

    class Own(ConsoleReporter):
        def saved_scenario(self, runs, stats):
            super().saved_scenario(runs, stats)

    class Plain(ConsoleReporter):
        pass

    assert saved_shards.prepares(ConsoleReporter()) and saved_shards.prepares(Plain())
    assert not saved_shards.prepares(Own())
    assert saved_shards.prepares(JUnitReporter(Path("j.xml"), None, project_root=Path(".")))  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_no_worker_is_forked_while_a_thread_runs(single_shards: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch):
    """A progress bar's refresh thread (a terminal) starts with the reporters, after the merge decided
    to use workers: whether forking is safe is asked again at each fork. The shards' workers are
    forked before the reporters start (no thread yet); the JSON report's, at the end, is not forked
    while the thread runs: that report is written in this process."""
    import threading

    from agentcheck import forked

    started = in_workers(monkeypatch)
    before = threading.active_count()  # (threads earlier tests left running in this process)
    monkeypatch.setattr(forked, "available", lambda: threading.active_count() == before)
    forks: list[tuple[str, int]] = []
    original = forked.Worker.__init__

    def noted(self, make):
        forks.append((getattr(getattr(make, "func", None), "__name__", repr(make)), threading.active_count()))
        original(self, make)

    monkeypatch.setattr(forked.Worker, "__init__", noted)
    stop = threading.Event()

    class Threaded:
        def start(self, plan):
            self.thread = threading.Thread(target=stop.wait)
            self.thread.start()

        def result(self, result): ...

        def finish(self, summary):
            stop.set()
            self.thread.join()

    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=False, md_path=False,
                         reporters=[Threaded()])
    summary = replay.merge(options, shard_paths(single_shards))
    assert sum(summary.counts.values()) == len(NAMES)
    assert forks and all(threads == before for _, threads in forks), forks  # never while the thread ran
    assert len(started) == len(shard_paths(single_shards))  # (the shards' workers: before it started)
    assert len(json.loads((tmp_path / "m.json").read_text())["results"]) == len(NAMES)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_shard_workers_started_before_a_reporter_fails_to_start_are_stopped(single_shards: Path, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch):
    """The shards' workers start reading before the reporters start; a reporter whose start fails (a
    folder it cannot create, say) stops them: each is waited for, none is left running."""
    started = in_workers(monkeypatch)
    workers = kept_workers(monkeypatch)

    class Failing:
        def start(self, plan):
            raise OSError(28, "No space left on device")

        def result(self, result): ...

        def finish(self, summary): ...

    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=False, md_path=False,
                         reporters=[Failing()])
    with pytest.raises(OSError, match="No space left"):
        replay.merge(options, shard_paths(single_shards))
    assert len(started) == len(shard_paths(single_shards)) and workers
    assert all(worker.pid is None for worker in workers)  # closed: stopped if need be, and waited for
    assert not (tmp_path / "m.json").exists()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_ctrl_c_while_the_reporters_start_ends_the_merge_with_its_reports(single_shards: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    """The reporters start whole (the shards' workers already reading): a Ctrl-C meanwhile is held
    until they have, then ends the merge as an interrupted one, with every report written and saying
    so (exit 130), and the workers stopped — not with no report at all."""
    import os
    import signal

    in_workers(monkeypatch)
    workers = kept_workers(monkeypatch)

    class Interrupting:
        def start(self, plan):
            os.kill(os.getpid(), signal.SIGINT)  # (as a Ctrl-C would, in the middle of the reporters' start)
            self.started = True

        def result(self, result): ...

        def finish(self, summary):
            self.finished = summary

    reporter = Interrupting()
    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml",
                         md_path=False, reporters=[reporter])
    summary = replay.merge(options, shard_paths(single_shards))
    assert summary.interrupted and summary.exit_code == 130 and reporter.started
    assert reporter.finished is summary or reporter.finished.interrupted
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["summary"]["interrupted"] is True and saved["results"] == []
    assert (tmp_path / "m.xml").exists()
    assert workers and all(worker.pid is None for worker in workers)
