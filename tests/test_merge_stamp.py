"""`agentcheck merge`'s fast path (shards stamped with the current suite, docs/release-decisions.md)
gives exactly the reports of the full path, which collects the suite again; and every shard it
cannot vouch for (no stamp, a suite edited since, a missing shard) takes the full path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from e2e_helpers import cli, write
from release_helpers import BOT_CONFIG

from agentcheck import replay, saved_shards
from agentcheck.collect import load_project
from agentcheck.release.suite import fingerprint
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


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project run as one job and as three shards (two trials each), through the real CLI."""
    root = write(tmp_path_factory.mktemp("stamp"), {"agentcheck.yaml": CONFIG, "bot.py": BOT,
                                                    "scenarios/s.yaml": scenarios(NAMES)})
    assert cli("run", "--trials", "2", "--json", "reports/single.json", cwd=root).code in (0, 1)
    for i in (1, 2, 3):
        done = cli("run", "--trials", "2", "--shard", f"{i}/3", "--json", f"reports/shard{i}.json", cwd=root)
        assert done.code in (0, 1), done.err
    return root


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
            patch.setattr(replay, "_fast_start", lambda *a: _taken(original(*a)))
        options = RunOptions(cwd=root, json_path=root / f"{name}.json", junit_path=root / f"{name}.xml",
                             md_path=root / f"{name}.md")
        summary = replay.merge(options, paths, (missing if missing is not None else []).extend)
    stream = Path(summary.results_file).read_text()
    return {ext: _normal((root / f"{name}.{ext}").read_text(), name) for ext in ("json", "xml", "md")} | {
        "jsonl": _normal(stream, name), "code": str(summary.exit_code)}


def _taken(fast: object) -> object:
    assert fast is not None, "the fast path was not taken"
    return fast


def _normal(text: str, name: str) -> str:
    """Without what differs between two merges: run ids and folders, start times, durations, file names."""
    text = re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{6}", "RUN", text).replace(f"{name}.", "NAME.")
    text = re.sub(r'"(started_at|duration_s|timestamp)": ?"?[^",}]*"?', r'"\1": "T"', text)
    text = re.sub(r'(timestamp|time)="[^"]*"', r'\1="T"', text)
    return re.sub(r"(Run `RUN` · .*) · [0-9.]+s", r"\1", text)


def test_a_shard_run_stamps_the_suite_it_came_from(shards: Path):
    total = len(NAMES)
    seen: list[int] = []
    for path in shard_paths(shards):
        document = json.loads(path.read_text())
        stamp = document["run"]["suite"]
        assert stamp["fingerprint"] == fingerprint(load_project(shards / "agentcheck.yaml", cwd=shards))
        assert stamp["selected"] == total
        rows = document["scenarios"]
        assert [NAMES[p] for p in stamp["positions"]] == [r["scenario_id"] for r in rows]
        seen += stamp["positions"]
    assert sorted(seen) == list(range(total))


def test_fast_merge_equals_the_full_merge(shards: Path, monkeypatch: pytest.MonkeyPatch):
    fast = merged(shards, "fast", shard_paths(shards), fast=True, monkeypatch=monkeypatch)
    full = merged(shards, "full", shard_paths(shards), fast=False, monkeypatch=monkeypatch)
    assert fast == full
    document = json.loads((shards / "fast.json").read_text())
    assert [r["index"] for r in document["results"]] == sorted(r["index"] for r in document["results"])
    assert document["summary"]["counts"] == json.loads((shards / "reports/single.json").read_text())["summary"][
        "counts"]
    assert "bad\\tanswer" in (shards / "fast.json").read_text()  # the console's tab case was in the data


def test_shards_without_a_stamp_take_the_full_path(shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    old = []
    for path in shard_paths(shards):  # as a results file from before the stamp
        text = re.sub(rb',"suite":\{[^}]*\}', b"", path.read_bytes())
        assert b'"fingerprint"' not in text
        old.append(tmp_path / path.name)
        old[-1].write_bytes(text)
    assert replay._fast_start(RunOptions(cwd=shards), old) is None
    assert merged(shards, "old", old, fast=False, monkeypatch=monkeypatch) == merged(
        shards, "new", shard_paths(shards), fast=True, monkeypatch=monkeypatch)


def test_an_edited_suite_or_a_missing_shard_takes_the_full_path(shards: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    project = write(tmp_path, {"agentcheck.yaml": CONFIG, "bot.py": BOT,
                               "scenarios/s.yaml": "# moved down a line\n" + scenarios(NAMES)})
    for path in shard_paths(shards):
        (project / "reports").mkdir(exist_ok=True)
        (project / "reports" / path.name).write_bytes(path.read_bytes())
    assert replay._fast_start(RunOptions(cwd=project), shard_paths(project)) is None
    edited = json.loads(json.dumps(merged(project, "edited", shard_paths(project), fast=False,
                                          monkeypatch=monkeypatch)))
    lines = {r["scenario_id"]: r["line"] for r in json.loads((project / "edited.json").read_text())["results"]}
    assert lines["flaky-0"] == 3  # placed at the scenario's line in the suite as it is now
    assert edited["code"] in ("0", "1")
    missing: list[str] = []
    two = shard_paths(shards, ("shard1", "shard2"))
    assert replay._fast_start(RunOptions(cwd=shards), two) is None
    merged(shards, "partial", two, fast=False, monkeypatch=monkeypatch, missing=missing)
    third = {r["scenario_id"] for r in json.loads(shard_paths(shards)[2].read_text())["scenarios"]}
    assert set(missing) == third


def test_overlapping_stamped_shards_are_refused(shards: Path):
    from agentcheck.problems import BadInput

    first = shard_paths(shards)[0]
    with pytest.raises(BadInput, match="also in an earlier shard file"):
        replay.merge(RunOptions(cwd=shards, json_path=False, junit_path=False, md_path=False), [first, first])


def test_saved_result_lines_round_trip_exactly(shards: Path):
    """The fast path copies result lines as saved: that is what the decoder and encoder make of them."""
    from agentcheck.release.decode import result_from_data
    from agentcheck.serialize import dumps_bytes

    for path in shard_paths(shards):
        lines = path.read_bytes().split(b"\n")
        start = lines.index(b'"results": [') + 1
        for line in lines[start:]:
            text = line.rstrip(b",")
            if text.startswith(b"{"):
                assert dumps_bytes(result_from_data(orjson.loads(text))) == text


def test_reformatted_stamped_shards_and_event_reading_reporters(shards: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    """A stamped file some tool re-indented is read whole (no line texts to copy): its results are
    encoded again, to the same document. A reporter merge does not know gets whole traces."""
    pretty = []
    for path in shard_paths(shards):
        pretty.append(tmp_path / path.name)
        pretty[-1].write_text(json.dumps(json.loads(path.read_text()), indent=2))
    assert merged(shards, "pretty", pretty, fast=True, monkeypatch=monkeypatch) == merged(
        shards, "lines", shard_paths(shards), fast=True, monkeypatch=monkeypatch)

    class Counting:
        def __init__(self) -> None:
            self.events = 0

        def start(self, plan: object) -> None: ...
        def finish(self, summary: object) -> None: ...

        def result(self, result) -> None:  # type: ignore[no-untyped-def]
            self.events += len(result.trace.events) if result.trace is not None else 0

    counting = Counting()
    options = RunOptions(cwd=shards, json_path=False, junit_path=False, md_path=False, reporters=[counting])
    assert replay._fast_start(options, shard_paths(shards)) is not None
    replay.merge(options, shard_paths(shards))
    saved = sum(len(r["trace"]["events"]) for p in shard_paths(shards)
                for r in json.loads(p.read_text())["results"] if r.get("trace"))
    assert counting.events == saved > 0


def test_fast_merge_gives_a_reporter_of_its_own_every_result(shards: Path, tmp_path: Path):
    """Merge builds result objects only for reporters that take them: an API user's reporter gets every
    saved result, in collection order, with its numbers (the built-in reporters take saved data)."""
    from agentcheck.verdict import RunPlan, RunSummary, ScenarioResult

    class Recorder:
        def __init__(self) -> None:
            self.seen: list[tuple[int, int, str, int]] = []

        def start(self, plan: RunPlan) -> None: ...

        def result(self, result: ScenarioResult) -> None:
            calls = result.trace.totals.tool_calls if result.trace is not None else -1
            self.seen.append((result.index, result.trial, result.outcome.value, calls))

        def finish(self, summary: RunSummary) -> None: ...

    from agentcheck.report.release_console import ReleaseConsoleReporter

    class ReleaseTables(ReleaseConsoleReporter):  # a subclass of a reporter whose `result` does nothing
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[int] = []

        def result(self, result: ScenarioResult) -> None:
            self.seen.append(result.index)

    recorder, tables = Recorder(), ReleaseTables()
    options = RunOptions(cwd=shards, json_path=tmp_path / "merged.json", junit_path=False, md_path=False,
                         reporters=[recorder, tables])
    assert replay._fast_start(options, shard_paths(shards)) is not None
    replay.merge(options, shard_paths(shards))
    saved = json.loads((tmp_path / "merged.json").read_text())["results"]
    assert recorder.seen == [(r["index"], r["trial"], r["outcome"],
                              r["trace"]["totals"]["tool_calls"] if r["trace"] else -1) for r in saved]
    assert len(recorder.seen) == len(saved) > len(NAMES)  # every trial
    assert tables.seen == [r["index"] for r in saved]  # a subclass that reads results gets them too


def _interrupted_merge(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
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


def test_an_interrupted_fast_merge_reports_every_result_it_delivered(shards: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    """Ctrl-C during a merge: the console, JUnit and JSON all show the results delivered so far, the
    scenario still being gathered included."""
    from junitparser import JUnitXml

    calls = {"n": 0}

    def sixth(_: int) -> bool:  # (the sixth record read, whichever shard it is from)
        calls["n"] += 1
        return calls["n"] == 6

    delivered, saved, lines = _interrupted_merge(shards, tmp_path, monkeypatch, sixth)
    assert 0 < delivered < 5
    assert len(saved) == len(lines) == delivered
    cases = [case for suite in JUnitXml.fromfile(str(tmp_path / "m.xml")) for case in suite
             if case.classname != "agentcheck.gates"]
    assert len(cases) == len({r["index"] for r in saved})  # one testcase per scenario delivered


def test_fast_merge_renders_junit_as_results_arrive(shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """On the fast path each scenario's testcase is rendered as its saved results come (one parse per
    result), not read back from the stream and parsed again at the end; the report is the same."""
    from agentcheck.report.stream import ResultLog

    full = merged(shards, "full", shard_paths(shards), fast=False, monkeypatch=monkeypatch)
    reads: list[bool] = []
    original = ResultLog.iter_results

    def counted(self: ResultLog, *, failing_only: bool = False, skip=()):
        reads.append(failing_only)
        return original(self, failing_only=failing_only, skip=skip)

    monkeypatch.setattr(ResultLog, "iter_results", counted)
    fast = merged(shards, "fast", shard_paths(shards), fast=True, monkeypatch=monkeypatch)
    assert fast["xml"] == full["xml"]
    assert reads == [True]  # only the Markdown summary's failures are read back


def test_a_result_its_shard_does_not_list_is_refused(shards: Path, tmp_path: Path):
    """A stamped shard whose results hold a scenario its own `scenarios` list does not (an edited or
    damaged file) is bad input, with the file named, not merged at some guessed place."""
    from agentcheck.problems import BadInput

    first, *rest = shard_paths(shards)
    lines = first.read_bytes().split(b"\n")
    at = lines.index(b'"results": [') + 1
    ghost = orjson.loads(lines[at].rstrip(b","))
    ghost["scenario_id"] = "ghost"
    lines.insert(at, orjson.dumps(ghost) + b",")
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    options = RunOptions(cwd=shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml", md_path=False)
    assert replay._fast_start(options, [edited, *rest]) is not None  # the stamp and the rows still agree
    with pytest.raises(BadInput, match="scenario 'ghost', which its `scenarios` list does not have") as raised:
        replay.merge(options, [edited, *rest])
    assert raised.value.problems[0].file == str(edited)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "m.xml").exists()  # no report of a bad merge


def test_fast_merge_does_not_check_tool_schemas_but_the_full_path_does(shards: Path, tmp_path: Path):
    """The fast path loads the project file without checking its tool schemas (nor importing
    jsonschema, a tenth of a second): its bytes are those the shard runs checked, by this same
    agentcheck (the stamp's fingerprint holds both). A project that no longer matches its shards takes
    the full path, which checks them: an invalid schema there is bad input, as for a run."""
    import subprocess
    import sys

    probe = ("import sys; from pathlib import Path; from agentcheck import replay; "
             "from agentcheck.session import RunOptions; "
             "o = RunOptions(cwd=Path.cwd(), json_path=False, junit_path=False, md_path=False); "
             "s = replay.merge(o, [Path(p) for p in sys.argv[1:]]); "
             "print(sum(s.counts.values()), 'jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, *map(str, shard_paths(shards))], cwd=shards,
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(len(NAMES) * 2 - 4), "False"]  # (skipped scenarios run once)

    root = write(tmp_path / "p", {"agentcheck.yaml": (shards / "agentcheck.yaml").read_text().replace(
        "{type: object, properties: {id: {type: string}}, required: [id]}", "{type: objekt}"),
        "bot.py": BOT, "scenarios/s.yaml": scenarios(NAMES)})
    merge_run = cli("merge", *map(str, shard_paths(shards)), cwd=root)
    assert merge_run.code == 2, merge_run.out + merge_run.err
    assert "tools.lookup.parameters" in merge_run.err and "invalid JSON Schema" in merge_run.err


@pytest.mark.parametrize("edit", ["trials not a number", "row out of place", "tags not a list", "drilled copy",
                                  "position twice", "position outside", "other selection", "rows missing"])
def test_shard_rows_a_run_would_not_write_take_the_full_path(shards: Path, tmp_path: Path, edit: str):
    """The fast path places results by the shards' own `scenarios` rows and stamps; rows or stamps no
    run writes send merge down the full path (which reports what is wrong), never to a wrong place."""
    first, *rest = shard_paths(shards)
    lines = first.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b'"scenarios": '))
    rows = orjson.loads(lines[at][len(b'"scenarios": '):].rstrip(b","))
    run_at = next(i for i, line in enumerate(lines) if line.startswith(b'"run": '))
    run = orjson.loads(lines[run_at][len(b'"run": '):].rstrip(b","))
    if edit == "trials not a number":
        rows[1]["trials"] = "two"
    elif edit == "row out of place":
        rows[0]["index"] = 5
    elif edit == "tags not a list":
        rows[0]["tags"] = "flaky"
    elif edit == "drilled copy":
        rows[0]["tags"] = [*rows[0]["tags"], "drill:timeout"]
    elif edit == "position twice":
        run["suite"]["positions"][1] = run["suite"]["positions"][0]
    elif edit == "position outside":
        run["suite"]["positions"][0] = run["suite"]["selected"]
    elif edit == "other selection":
        run["suite"]["selected"] += 1
    else:
        rows = rows[:-1]
    lines[at] = b'"scenarios": ' + orjson.dumps(rows) + b","
    lines[run_at] = b'"run": ' + orjson.dumps(run) + b","
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    options = RunOptions(cwd=shards, json_path=False, junit_path=False, md_path=False)
    assert replay._fast_start(options, [first, *rest]) is not None
    assert replay._fast_start(options, [edited, *rest]) is None


def _in_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
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


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_fast_merge_in_worker_processes_equals_the_full_merge(shards: Path, monkeypatch: pytest.MonkeyPatch):
    """Each shard read in a worker of its own (as a large merge on a machine with cores to spare does)
    gives the reports of the full path, byte for byte (run ids and times aside)."""
    full = merged(shards, "full", shard_paths(shards), fast=False, monkeypatch=monkeypatch)
    started = _in_workers(monkeypatch)
    fast = merged(shards, "workers", shard_paths(shards), fast=True, monkeypatch=monkeypatch)
    assert len(started) == 3
    assert fast == full


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_a_worker_refusing_its_shard_refuses_the_merge(shards: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    """A bad result found in a worker process is the same bad input, naming the same file, as in this
    one: nothing is reported, no worker is left running."""
    from agentcheck.problems import BadInput

    started = _in_workers(monkeypatch)
    first, *rest = shard_paths(shards)
    lines = first.read_bytes().split(b"\n")
    at = lines.index(b'"results": [') + 3
    ghost = orjson.loads(lines[at].rstrip(b","))
    ghost["scenario_id"] = "ghost"
    lines[at] = orjson.dumps(ghost) + b","
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    options = RunOptions(cwd=shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml", md_path=False)
    with pytest.raises(BadInput, match="scenario 'ghost', which its `scenarios` list does not have") as raised:
        replay.merge(options, [edited, *rest])
    assert started and raised.value.problems[0].file == str(edited)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "m.xml").exists()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers are forked (POSIX)")
def test_an_interrupted_merge_in_workers_reports_what_it_delivered(shards: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    """Ctrl-C reaches the workers too: the merge stops, and what was delivered is reported the same
    everywhere (the stream, JSON, console lines), as in one process."""
    _in_workers(monkeypatch)
    # (in each worker: its shard's third result is the interrupt)
    delivered, saved, lines = _interrupted_merge(shards, tmp_path, monkeypatch, lambda n: n == 3)
    assert 0 < delivered < 7
    assert len(saved) == len(lines) == delivered


@pytest.fixture(scope="module")
def single_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project run once per scenario (no repeated trials), as three shards: every scenario's
    reporters' shares are prepared from its one run (PreparedScenarioReader)."""
    root = write(tmp_path_factory.mktemp("single"), {"agentcheck.yaml": CONFIG, "bot.py": BOT,
                                                     "scenarios/s.yaml": scenarios(NAMES)})
    for i in (1, 2, 3):
        done = cli("run", "--shard", f"{i}/3", "--json", f"reports/shard{i}.json", cwd=root)
        assert done.code in (0, 1), done.err
    return root


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
                patch.setattr(replay, "_fast_start", lambda *a: _taken(start(*a)))
            if fast and workers:
                _in_workers(patch)
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
                texts = [_normal((single_shards / f"{name}.{ext}").read_text(), name) for ext in ("json", "xml", "md")]
                outputs.append((texts, _normal(re.sub(r"in [0-9.]+s", "in Xs", out.getvalue()), name)))
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

    _in_workers(monkeypatch)
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
    _in_workers(monkeypatch)
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
    import os
    import signal

    from junitparser import JUnitXml
    from rich.console import Console

    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.junit import JUnitReporter

    if workers:
        _in_workers(monkeypatch)
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
def test_reporters_after_the_report_files_see_them_written(single_shards: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    """The JSON report written in a worker is there, whole, for the reporters that finish after the
    report files (the console, an API user's own), as in one process; one that failed is not listed."""
    from agentcheck.report.json_report import JsonReporter

    _in_workers(monkeypatch)
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
def test_a_worker_that_dies_mid_shard_writes_no_reports(single_shards: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    """A shard's worker killed (by the OOM killer, say) is an internal error, and no report claims the
    part of the merge it had delivered to be the whole."""
    import os
    import signal

    from agentcheck.forked import WorkerDied

    _in_workers(monkeypatch)
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
    _in_workers(monkeypatch)

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
    """A progress bar's refresh thread (a terminal) starts after the merge decided to use workers:
    whether forking is safe is asked again at each fork, and the merge reads in this process."""
    import threading

    from agentcheck import forked

    started = _in_workers(monkeypatch)
    monkeypatch.setattr(forked, "available", lambda: threading.active_count() == 1)
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
    assert started == [] and sum(summary.counts.values()) == len(NAMES)
    assert len(json.loads((tmp_path / "m.json").read_text())["results"]) == len(NAMES)


def _merged_console(root: Path, tmp_path: Path, console_class: type) -> str:
    """The console text of merging `root`'s shards in this process with a `console_class` reporter
    (the run id and the duration made the same for every merge)."""
    import io

    from rich.console import Console

    out = io.StringIO()
    options = RunOptions(cwd=root, json_path=tmp_path / "m.json", junit_path=False, md_path=False,
                         reporters=[console_class(Console(file=out, width=160, soft_wrap=True))])
    summary = replay.merge(options, shard_paths(root))
    return re.sub(r"in \d+\.\d\ds", "in Ns", out.getvalue().replace(summary.run_id, "RUN"))


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
    in_one_process = _merged_console(single_shards, tmp_path, ConsoleReporter)
    monkeypatch.delenv("AGENTCHECK_WORKERS")
    _in_workers(monkeypatch)
    monkeypatch.setattr(JsonReporter, "write", after_the_console)
    monkeypatch.setattr(ConsoleReporter, "finish_unlisted", marking)
    in_workers = _merged_console(single_shards, tmp_path, ConsoleReporter)
    shown.unlink(missing_ok=True)
    assert in_workers == in_one_process
    assert f"json report: {tmp_path / 'm.json'}" in in_workers
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
    in_one_process = _merged_console(single_shards, tmp_path, Headed)
    monkeypatch.delenv("AGENTCHECK_WORKERS")
    _in_workers(monkeypatch)
    in_workers = _merged_console(single_shards, tmp_path, Headed)
    assert in_workers == in_one_process
    assert in_workers.index("== the end ==") < in_workers.index("suite")  # (before the gates, as it wrote)


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
        _in_workers(patch)

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
