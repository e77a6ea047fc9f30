"""`agentcheck merge`'s fast path (shards stamped with the current suite, docs/release-decisions.md)
gives exactly the reports of the full path, which collects the suite again; and every shard it
cannot vouch for (no stamp, a suite edited since, a missing shard) takes the full path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest
from e2e_helpers import cli, write
from merge_helpers import (
    BOT,
    CONFIG,
    NAMES,
    interrupted_merge,
    merged,
    scenarios,
    shard_paths,
)

from agentcheck import replay
from agentcheck.collect import load_project
from agentcheck.release.suite import fingerprint
from agentcheck.session import RunOptions


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


def test_an_interrupted_fast_merge_reports_every_result_it_delivered(shards: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    """Ctrl-C during a merge: the console, JUnit and JSON all show the results delivered so far, the
    scenario still being gathered included."""
    from junitparser import JUnitXml

    calls = {"n": 0}

    def sixth(_: int) -> bool:  # (the sixth record read, whichever shard it is from)
        calls["n"] += 1
        return calls["n"] == 6

    delivered, saved, lines = interrupted_merge(shards, tmp_path, monkeypatch, sixth)
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
    with pytest.raises(BadInput, match="scenario 'ghost', which its run's plan") as raised:
        replay.merge(options, [edited, *rest])
    assert raised.value.problems[0].file == str(edited)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "m.xml").exists()  # no report of a bad merge


@pytest.mark.parametrize("workers", ["0", ""])
def test_a_shard_cut_off_at_a_line_end_is_refused(shards: Path, tmp_path: Path, workers: str,
                                                     monkeypatch: pytest.MonkeyPatch):
    """A stamped shard whose header is whole but whose last results are gone (cut at a line's end and
    closed again, or deleted by hand) still parses; its run planned runs it does not hold.
    It is bad input naming the file, in one process and with shard workers: never a merge that passes
    over the missing runs as if they had not been planned."""
    from agentcheck.problems import BadInput
    from agentcheck.saved_shards import PARALLEL_MIN_RUNS

    monkeypatch.setenv("AGENTCHECK_WORKERS", workers)
    monkeypatch.setattr("agentcheck.saved_shards.PARALLEL_MIN_RUNS", 1)  # (workers for this small merge too)
    assert PARALLEL_MIN_RUNS > 1
    first, *rest = shard_paths(shards)
    lines = first.read_bytes().rstrip(b"\n").split(b"\n")
    assert lines[-1] == b"]}" and lines[-2].startswith(b'{"index"')
    assert lines[-3].startswith(b'{"index"'), "the shard needs two results or more"
    cut = [*lines[:-3], lines[-3].rstrip(b","), b"]}"]  # the last result gone, the list closed again
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(cut) + b"\n")
    assert len(json.loads(edited.read_bytes())["results"]) == len(json.loads(first.read_bytes())["results"]) - 1
    options = RunOptions(cwd=shards, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml", md_path=False)
    assert replay._fast_start(options, [edited, *rest]) is not None  # the header still vouches for it
    with pytest.raises(BadInput, match=r"holds \d+ results, but its run planned \d+ ") as raised:
        replay.merge(options, [edited, *rest])
    assert raised.value.problems[0].file == str(edited)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "m.xml").exists()


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
    """The fast path places results by the shards' own rows and stamps (here the `scenarios` rows of a
    file without plan rows, as an earlier agentcheck wrote it); rows or stamps no run writes send merge
    down the full path (which reports what is wrong), never to a wrong place."""
    first, *rest = shard_paths(shards)
    lines = [line for line in first.read_bytes().split(b"\n") if not line.startswith(b'"plan": ')]
    unplanned = tmp_path / "unplanned" / first.name
    unplanned.parent.mkdir()
    unplanned.write_bytes(b"\n".join(lines))
    first = unplanned
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


@pytest.mark.parametrize("edit", ["trials not a number", "no trial", "a row too short", "tags not a list",
                                  "drilled copy", "rows missing", "fields of another version", "not JSON"])
def test_plan_rows_a_run_would_not_write_are_not_used(shards: Path, tmp_path: Path, edit: str):
    """A shard's plan rows (agentcheck.release.plan_rows) that no run writes are not used: the fast path
    then reads the `scenarios` rows, as for a file from before the plan rows — or, where the plan rows
    would have placed a result elsewhere, it gives the very same merge."""
    first, *rest = shard_paths(shards)
    lines = first.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b'"plan": '))
    plan = orjson.loads(lines[at][len(b'"plan": '):].rstrip(b","))
    assert plan["fields"] == ["scenario_id", "file", "line", "agent", "tags", "trials", "required_pass_rate"]
    rows = plan["rows"]
    if edit == "trials not a number":
        rows[1][5] = "two"
    elif edit == "no trial":
        rows[1][5] = 0
    elif edit == "a row too short":
        rows[0] = rows[0][:-1]
    elif edit == "tags not a list":
        rows[0][4] = "flaky"
    elif edit == "drilled copy":
        rows[0][4] = [*rows[0][4], "drill:timeout"]
    elif edit == "rows missing":
        plan["rows"] = rows[:-1]
    elif edit == "fields of another version":
        plan["fields"] = [*plan["fields"], "owner"]
    lines[at] = b'"plan": ' + (b"{oops" if edit == "not JSON" else orjson.dumps(plan)) + b","
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    options = RunOptions(cwd=shards, json_path=False, junit_path=False, md_path=False)
    fast = replay._fast_start(options, [first, *rest])
    fallback = replay._fast_start(options, [edited, *rest])
    assert fast is not None and fallback is not None  # (the `scenarios` rows stand in for the plan rows)
    if edit == "drilled copy":
        assert fallback[2].planned[0].tags == fast[2].planned[0].tags  # (not the plan rows' drilled tags)
    assert (fallback[2].planned, fallback[2].required, fallback[2].index) == (fast[2].planned, fast[2].required,
                                                                               fast[2].index)
    assert list(fallback[2].shard_runs.values()) == list(fast[2].shard_runs.values())


def test_the_fast_path_reads_plan_rows_not_the_scenario_statistics(shards: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch):
    """A shard of a finished run is placed by its plan rows: its `scenarios` statistics (most of the
    header's bytes) are never parsed, and the merge equals the full path's. A shard of an interrupted
    run is not (it planned scenarios it never ran): its `scenarios` rows decide, and merge takes the
    full path."""
    from agentcheck.release.results_file import ResultsFile

    def unread(self: ResultsFile) -> None:
        raise AssertionError(f"parsed the `scenarios` rows of {self.path.name}")

    options = RunOptions(cwd=shards, json_path=False, junit_path=False, md_path=False)
    with monkeypatch.context() as patched:
        patched.setattr(ResultsFile, "scenario_rows", unread)
        fast = replay._fast_start(options, shard_paths(shards))
    assert fast is not None
    planned = fast[2].planned
    assert [p.index for p in planned] == list(range(len(planned)))
    assert {p.required_pass_rate for p in planned} <= {1.0, 0.5} and any(p.trials > 1 for p in planned) is not None

    first, *rest = shard_paths(shards)
    lines = first.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b'"summary": '))
    summary = orjson.loads(lines[at][len(b'"summary": '):].rstrip(b","))
    summary["interrupted"] = True
    lines[at] = b'"summary": ' + orjson.dumps(summary) + b","
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    read: list[str] = []
    original = ResultsFile.scenario_rows

    def noted(self: ResultsFile) -> object:
        read.append(self.path.name)
        return original(self)

    monkeypatch.setattr(ResultsFile, "scenario_rows", noted)
    assert replay._fast_start(options, [edited, *rest]) is not None  # (its rows are all there: still placed)
    assert read == [first.name]  # by its `scenarios` rows, the others by their plan rows


def test_a_shard_stopped_by_fail_fast_takes_the_full_path(single_shards: Path, tmp_path: Path):
    """A shard run with --fail-fast finishes (not interrupted) with scenarios it never started: its plan
    rows list them, but its results do not. Merge does not place it by its plan (which would refuse it
    as cut off): the full path reports each scenario it never ran as an `error` result, exit 1, with
    every report written, as for a shard job that was interrupted."""
    root = single_shards
    done = cli("run", "-x", "-j", "1", "--shard", "1/3", "--json", "reports/failfast1.json", cwd=root)
    assert done.code == 1, done.out + done.err
    saved = json.loads((root / "reports" / "failfast1.json").read_text())
    assert saved["summary"]["interrupted"] is False and saved["summary"]["not_run"] > 0
    assert len(saved["plan"]["rows"]) > len(saved["results"])
    paths = [root / "reports" / "failfast1.json", *shard_paths(root)[1:]]
    options = RunOptions(cwd=root, json_path=tmp_path / "m.json", junit_path=tmp_path / "m.xml", md_path=False)
    assert replay._fast_start(options, paths) is None
    missing: list[str] = []
    summary = replay.merge(options, paths, missing.extend)
    assert summary.exit_code == 1 and missing
    results = json.loads((tmp_path / "m.json").read_text())["results"]
    assert sum(1 for r in results if r["message"].startswith("no result")) == len(missing)


def test_plan_rows_out_of_order_are_refused_not_placed_elsewhere(single_shards: Path, tmp_path: Path):
    """Plan rows carry no index: two rows swapped by hand would place each scenario's results at the
    other's place. The shard's results then come out of the order its plan gives them, and merge
    refuses the file (exit 2, naming it) rather than writing a merge out of collection order."""
    from agentcheck.problems import BadInput

    first, *rest = shard_paths(single_shards)
    lines = first.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b'"plan": '))
    plan = orjson.loads(lines[at][len(b'"plan": '):].rstrip(b","))
    plan["rows"][1], plan["rows"][2] = plan["rows"][2], plan["rows"][1]
    lines[at] = b'"plan": ' + orjson.dumps(plan) + b","
    edited = tmp_path / first.name
    edited.write_bytes(b"\n".join(lines))
    options = RunOptions(cwd=single_shards, json_path=tmp_path / "m.json", junit_path=False, md_path=False)
    assert replay._fast_start(options, [edited, *rest]) is not None  # (the rows are well formed)
    with pytest.raises(BadInput, match="not in the order its run planned them") as raised:
        replay.merge(options, [edited, *rest])
    assert raised.value.problems[0].file == str(edited)
    assert not (tmp_path / "m.json").exists()


def test_criteria_read_from_plan_rows_equal_those_of_the_scenarios_rows(shards: Path, tmp_path: Path):
    """`compare` and baselines read each scenario's criterion from the plan rows (small) where a file
    has them, else from its `scenarios` statistics: the same figures either way."""
    from agentcheck.release.results_file import ResultsFile

    for path in shard_paths(shards):
        lines = path.read_bytes().split(b"\n")
        unplanned = tmp_path / path.name
        unplanned.write_bytes(b"\n".join(line for line in lines if not line.startswith(b'"plan": ')))
        planned, older = ResultsFile(path), ResultsFile(unplanned)
        assert planned.plan_rows() is not None and older.plan_rows() is None
        assert planned.required_rates() == older.required_rates() and planned.required_rates()
        assert "scenarios" not in planned.header  # (read from the plan rows: the statistics left unparsed)
