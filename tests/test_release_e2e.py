"""The release commands end to end, through the real `agentcheck` CLI on temporary projects:
trials, JUnit per scenario, baselines and compare, rejudge, shard + merge, GitHub outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from e2e_helpers import agentcheck_exe, cli, write
from release_helpers import BOT_CONFIG

from agentcheck.report.json_report import SCHEMA, SCHEMA_PATH

XSD = Path(__file__).parent / "data" / "junit-10.xsd"

CONFIG = BOT_CONFIG

# Fails every even trial of `flaky-*` scenarios; MODE=worse makes `steady-b` fail too.
BOT = """
import os

def run(task, tools, context):
    tools.lookup(id="1")
    if task.text.startswith("flaky") and context.trial % 2 == 0:
        return "bad"
    if task.text == "steady-b" and os.environ.get("MODE") == "worse":
        return "bad"
    return "fine"
"""

FIXTURES = "fixtures: {lookup: {default: {returns: {ok: true}}}}"


def scenarios(count: int = 6, extra: str = "") -> str:
    lines = ["scenarios:"]
    for i in range(count):
        name = f"flaky-{chr(97 + i)}" if i < 2 else f"steady-{chr(97 + i - 2)}"
        lines.append(f"  - {{id: {name}, tags: [{'flaky' if i < 2 else 'steady'}], input: {name}, {FIXTURES}, "
                     f"expect: {{output: {{contains: fine}}}}{extra}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(tmp_path, {"agentcheck.yaml": CONFIG, "bot.py": BOT, "scenarios/s.yaml": scenarios()})


def results(path: Path) -> dict:
    data = json.loads(path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["schema"] == SCHEMA
    return data


def test_trials_give_pass_k_flaky_flags_and_one_junit_testcase_per_scenario(project: Path):
    done = cli("run", "--trials", "4", "--junit-strict", cwd=project)
    assert done.code == 1, done.out + done.err  # implicit gate: the flaky scenarios fail their criterion
    data = results(project / "reports" / "results.json")
    assert len(data["results"]) == 24 and data["run"]["planned"] == 24
    assert [(r["scenario_id"], r["trial"]) for r in data["results"][:4]] == [("flaky-a", t) for t in (1, 2, 3, 4)]
    rows = {s["scenario_id"]: s for s in data["scenarios"]}
    flaky = rows["flaky-a"]
    assert (flaky["passed"], flaky["failed"], flaky["trials"], flaky["flaky"], flaky["outcome"]) == (
        2, 2, 4, True, "failed")
    assert flaky["pass_hat_k"]["2"] == pytest.approx(1 / 6) and flaky["pass_at_k"]["2"] == pytest.approx(5 / 6)
    assert rows["steady-a"]["flaky"] is False and rows["steady-a"]["pass_hat_k"]["4"] == 1
    assert {(s["dimension"], s["value"]) for s in data["segments"]} >= {("tag", "flaky"), ("agent_version", "bot@2.1")}
    assert len({r["trace"]["trace_id"] for r in data["results"]}) == 24
    assert "Trials" in done.out and "Segments" in done.out and "flaky" in done.out
    junit = project / "reports" / "junit.xml"
    xmlschema.XMLSchema10(str(XSD)).validate(str(junit))
    text = junit.read_text()
    assert text.count("<testcase ") == 6 + 1  # one per scenario, plus the implicit gate
    assert "trials: 2/4 passed" in text and "trial 2: failed" in text


def test_scenario_criterion_and_configured_trials_with_flaky_failure_in_rich_junit(project: Path):
    write(project, {
        "agentcheck.yaml": CONFIG.replace("defaults: {timeout_s: 5}", "defaults: {timeout_s: 5, trials: 2}")
        + "gates:\n  - {name: reliable, min_pass_hat_k: 0.5, k: 2}\n  - {name: steady, max_flaky: 0}\n",
        "scenarios/s.yaml": scenarios(3, extra=", min_pass_rate: 0.5"),
    })
    done = cli("run", cwd=project)
    data = results(project / "reports" / "results.json")
    assert len(data["results"]) == 6
    assert {s["scenario_id"]: s["outcome"] for s in data["scenarios"]}["flaky-a"] == "passed"
    gates = {g["name"]: g for g in data["gates"]}
    assert gates["reliable"]["checks"][0]["measured"] == pytest.approx(1 / 3) and not gates["reliable"]["passed"]
    assert gates["steady"]["checks"][0]["measured"] == 2
    assert done.code == 1
    text = (project / "reports" / "junit.xml").read_text()
    assert "<flakyFailure " in text and "<failure" not in text.split('name="agentcheck gates"')[0]
    names = re.findall(r'<testcase name="([^"]*)" classname="scenarios', text)
    assert sorted(names) == sorted(s["scenario_id"] for s in data["scenarios"])  # whichever trial stands for it


def test_baseline_save_then_run_against_it_and_compare(project: Path):
    write(project, {"agentcheck.yaml": CONFIG + "gates:\n  - {name: no regressions, max_regressions: 0}\n"})
    assert cli("run", "-k", "steady-*", cwd=project).code == 0
    saved = cli("baseline", "save", cwd=project)
    assert saved.code == 0 and "baseline saved: reports/baseline.json" in saved.out
    worse = cli("run", "-k", "steady-*", "--baseline", "reports/baseline.json", "--json", "reports/new.json",
                cwd=project, env={"MODE": "worse"})
    assert worse.code == 1
    out = " ".join(worse.out.split())
    assert "1 regression," in out and "✗ newly_failing steady-b: passed → failed" in out
    data = results(project / "reports" / "new.json")
    assert data["comparison"]["regressions"] == 1
    assert data["gates"][0]["checks"][0]["measured"] == 1
    done = cli("compare", "reports/baseline.json", "reports/new.json", "--md", "reports/compare.md", cwd=project,
               env={"COLUMNS": "40"})  # a narrow log: every change stays on its line, to grep
    assert done.code == 1 and "newly_failing" in done.out
    changes = done.out.strip().splitlines()[1:]
    assert changes and all(line.startswith(("  ✗ ", "  · ", "  … ")) for line in changes), done.out
    assert "| newly_failing | scenario | `steady-b` |" in (project / "reports" / "compare.md").read_text()
    assert cli("compare", "reports/baseline.json", "reports/baseline.json", cwd=project).code == 0
    elsewhere = project.parent / "no-project-here"  # outside any project: the default regression rules
    elsewhere.mkdir()
    outside = cli("compare", str(project / "reports/baseline.json"), str(project / "reports/new.json"), cwd=elsewhere)
    assert outside.code == 1 and "newly_failing" in outside.out, outside.err


def test_bad_baselines_exit_2_before_anything_runs(project: Path):
    (project / "old.json").write_text('{"schema": "agentcheck.results/0", "results": []}\n')
    done = cli("run", "--baseline", "old.json", cwd=project)
    assert done.code == 2 and "Traceback" not in done.err
    assert "the document is 'agentcheck.results/0'; this agentcheck reads" in done.err
    assert not (project / "reports" / "results.json").exists()
    other = {"schema": SCHEMA, "run": {"run_id": "x"}, "summary": {}, "gates": [],
             "results": [{"index": 0, "scenario_id": "elsewhere", "outcome": "passed", "trial": 1, "trace": None}]}
    (project / "other.json").write_text(json.dumps(other))
    done = cli("run", "--baseline", "other.json", cwd=project)
    assert done.code == 2 and "from another suite" in done.err and "among the 6 selected here" in done.err
    assert not (project / "reports" / "runs").exists()  # refused before any agent ran
    compared = cli("compare", "other.json", "missing.json", cwd=project)
    assert compared.code == 2 and compared.err.rstrip().endswith("1 problem found; nothing was compared.")
    assert done.err.rstrip().endswith("found; nothing was run.")
    before = (project / "reports" / "results.json").read_bytes() if (project / "reports/results.json").exists() else b""
    for command in ("rejudge", "merge"):  # a file of another suite is not a run of nothing whose gates pass
        refused = cli(command, "other.json", cwd=project)
        assert refused.code == 2 and "none of its 1 scenarios is among the 6 selected here" in refused.err, refused.err
    assert ((project / "reports" / "results.json").read_bytes() if before else b"") == before
    cli("run", "-k", "steady-a", cwd=project)
    for args in (("baseline", "save", "--out", "reports"), ("run", "-k", "steady-a", "--md", "/proc/agentcheck.md"),
                 ("compare", "reports/results.json", "reports/results.json", "--md", "/proc/agentcheck.md")):
        unwritable = cli(*args, cwd=project)  # a folder; a folder nobody can write in (Linux's /proc)
        assert unwritable.code == 2 and "internal error" not in unwritable.err, unwritable.err
        assert ("reports: Is a directory" in unwritable.err or "/proc/agentcheck.md" in unwritable.err) \
            and ".tmp" not in unwritable.err
    unsaved = cli("baseline", "save", "missing.json", cwd=project)
    assert unsaved.code == 2 and unsaved.err.rstrip().endswith("found; no baseline was written.")
    assert "`agentcheck run` writes reports/results.json" in unsaved.err
    no_shard = cli("merge", "missing.json", cwd=project)
    assert no_shard.code == 2 and "`agentcheck run --shard i/n --json PATH`" in no_shard.err
    bad_shard = cli("run", "--shard", "3/2", cwd=project)
    assert bad_shard.code == 2 and bad_shard.err.startswith("error: --shard: bad shard '3/2'")  # no file to name


def test_rejudge_applies_current_expectations_without_running_the_agent(project: Path):
    assert cli("run", "-k", "steady-*", cwd=project).code == 0
    stream = Path(results(project / "reports" / "results.json")["summary"]["results_file"])
    (project / "bot.py").write_text("raise SystemExit('the agent must not be imported by rejudge')\n")
    stricter = scenarios().replace("contains: fine", "contains: excellent")
    write(project, {"scenarios/s.yaml": stricter})
    done = cli("rejudge", "reports/results.json", "--json", "reports/rejudged.json", cwd=project)
    assert done.code == 1, done.err
    data = results(project / "reports" / "rejudged.json")
    assert {r["outcome"] for r in data["results"]} == {"failed"} and len(data["results"]) == 4
    assert "excellent" in data["results"][0]["message"]
    from_stream = cli("rejudge", str(stream), "--json", "reports/from-stream.json", cwd=project)
    assert from_stream.code == 1 and len(results(project / "reports" / "from-stream.json")["results"]) == 4
    write(project, {"scenarios/s.yaml": scenarios()})
    assert cli("rejudge", "reports/results.json", cwd=project).code == 0
    narrowed = cli("rejudge", "reports/results.json", "-k", "steady-a", cwd=project)
    assert narrowed.code == 0 and "3 saved results left out" in narrowed.err
    assert narrowed.out.startswith("agentcheck rejudge ") and "from saved results" in narrowed.out.splitlines()[0]
    missing = cli("rejudge", "reports/nope.json", cwd=project)
    assert missing.code == 2 and missing.err.rstrip().endswith("found; nothing was judged.")
    kept = {name: (project / "reports" / name).read_bytes() for name in ("results.json", "junit.xml")}
    quiet = cli("rejudge", "reports/results.json", "--no-json", "--no-junit", "--no-md", cwd=project)
    assert quiet.code == 0 and "json report:" not in quiet.out and "junit report:" not in quiet.out
    assert kept == {name: (project / "reports" / name).read_bytes() for name in kept}  # the last run's, kept


def comparable(data: dict) -> dict:
    """What must not depend on sharding: outcomes, checks, counts, gate verdicts, scenario rows."""
    return {
        "results": [(r["index"], r["scenario_id"], r["trial"], r["outcome"], r["message"],
                     [(c["check"], c["passed"]) for c in r["checks"]]) for r in data["results"]],
        "counts": data["summary"]["counts"],
        "gates": [(g["name"], g["passed"], [(c["metric"], c["measured"]) for c in g["checks"]]) for g in data["gates"]],
        "scenarios": [(s["scenario_id"], s["passed"], s["trials"], s["outcome"], s["flaky"])
                      for s in data["scenarios"]],
    }


def test_shards_partition_the_suite_and_merge_equals_a_single_run(project: Path):
    write(project, {
        "agentcheck.yaml": CONFIG + "gates:\n  - {name: suite, min_pass_rate: 0.5, max_flaky: 5}\n",
        "scenarios/s.yaml": scenarios(12),
    })
    single = cli("run", "--trials", "2", "--json", "reports/single.json", cwd=project)
    seen: list[str] = []
    for i in (1, 2, 3):
        done = cli("run", "--trials", "2", "--shard", f"{i}/3", "--json", f"reports/shard{i}.json", cwd=project)
        assert done.code in (0, 1)
        seen += [s["scenario_id"] for s in results(project / "reports" / f"shard{i}.json")["scenarios"]]
    assert sorted(seen) == sorted(s["scenario_id"] for s in results(project / "reports" / "single.json")["scenarios"])
    merged = cli("merge", "reports/shard1.json", "reports/shard2.json", "reports/shard3.json",
                 "--json", "reports/merged.json", "--junit", "reports/merged.xml", "--md", "reports/merged.md",
                 cwd=project)
    assert merged.code == single.code
    assert merged.out.splitlines()[0].endswith(": 24 scenario runs, from saved results")
    assert merged.out.startswith("agentcheck merge ") and "concurrency" not in merged.out.splitlines()[0]
    merged_data = results(project / "reports" / "merged.json")
    assert comparable(merged_data) == comparable(results(project / "reports" / "single.json"))
    assert merged_data["run"]["planned"] == 24
    assert "### Gates" in (project / "reports" / "merged.md").read_text()
    names = re.findall(r'<testcase name="([^"]*)" classname="scenarios', (project / "reports/merged.xml").read_text())
    assert sorted(names) == sorted(s["scenario_id"] for s in merged_data["scenarios"])  # failed on trial 2 too
    partial = cli("merge", "reports/shard1.json", "reports/shard2.json", "--json", "reports/partial.json",
                  cwd=project)
    assert "in no shard file" in partial.err and "was a shard job missing?" in partial.err
    # a missing shard is never a pass: its scenarios are `error` results, and the merge exits 1
    shard3 = {s["scenario_id"] for s in results(project / "reports" / "shard3.json")["scenarios"]}
    partial_data = results(project / "reports" / "partial.json")
    unjudged = {r["scenario_id"]: r for r in partial_data["results"] if r["scenario_id"] in shard3}
    assert set(unjudged) == shard3 and partial.code == 1
    assert all(r["outcome"] == "error" and r["message"].startswith("no result: in no shard file")
               for r in unjudged.values())
    assert partial.out.splitlines()[0].endswith(f": {24 - len(shard3)} scenario runs, from saved results")
    assert f"{len(shard3)} error" in partial.out.splitlines()[-1]
    assert "in no shard file" not in merged.err
    overlap = cli("merge", "reports/shard1.json", "reports/shard1.json", cwd=project)
    assert overlap.code == 2 and "also in an earlier shard file" in overlap.err
    assert overlap.err.rstrip().endswith("1 problem found; nothing was merged.")


def test_github_step_summary_and_annotations(project: Path):
    summary = project / "step-summary.md"
    summary.write_text("earlier step\n")
    outputs = project / "outputs.txt"
    github = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(project),
              "GITHUB_OUTPUT": str(outputs)}
    done = github_cli(project, github, "run", "-k", "flaky-a", "--trials", "2")
    assert done.returncode == 1
    assert outputs.read_text() == "gate=fail\nflaky=1\nregressions=\nexit_code=1\n"
    text = summary.read_text()
    assert text.startswith("earlier step\n## agentcheck: ❌ release gates failed")
    assert "### Failures" in text and "<details>" in text
    assert "::error file=scenarios/s.yaml,line=2,title=agentcheck failed%3A flaky-a::" in done.stdout
    assert "::error title=agentcheck gate failed%3A all scenarios pass::" in done.stdout
    quiet = github_cli(project, {"GITHUB_STEP_SUMMARY": str(summary)}, "run", "-k", "steady-a", "--no-md")
    assert quiet.returncode == 0 and summary.read_text() == text and "::error" not in quiet.stdout


def github_cli(cwd: Path, github: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`cli` drops GITHUB_STEP_SUMMARY so other tests never write into a real job summary; this sets it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "140", **github})
    return subprocess.run([agentcheck_exe(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


ENTRY_WITH_EXIT_HANDLER = """
import atexit, sys
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
from agentcheck.cli import main
sys.argv = ["agentcheck", *sys.argv[1:]]
main()
"""


def test_merge_and_compare_end_without_teardown_but_with_their_output_and_exit_code(project: Path):
    """merge and compare end by os._exit once their output is flushed (no exit handler runs after
    them); `validate`, like `run`, ends as usual. Output piped to a file is complete either way."""
    assert cli("run", "--shard", "1/1", "--json", "reports/shard.json", cwd=project).code in (0, 1)
    run = cli("run", "--json", "reports/base.json", cwd=project)
    for args, expected_code in ((["merge", "reports/shard.json", "--json", "reports/merged.json"], run.code),
                                (["compare", "reports/base.json", "reports/base.json"], 0),
                                (["merge", "reports/missing.json"], 2)):
        done = subprocess.run([sys.executable, "-c", ENTRY_WITH_EXIT_HANDLER, *args], cwd=project,
                              capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        assert done.returncode == expected_code, done.stderr
        assert "exit handler ran" not in done.stderr
        assert done.stdout.strip() or done.stderr.strip()
    merged = subprocess.run([sys.executable, "-c", ENTRY_WITH_EXIT_HANDLER, "merge", "reports/shard.json"],
                            cwd=project, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1",
                                                                               "COLUMNS": "140"})
    usual_merge = cli("merge", "reports/shard.json", cwd=project)

    def masked(text: str) -> str:
        return re.sub(r"in \d+\.\d+s", "in Ts", re.sub(r"\d{8}T\d{6}Z-[0-9a-f]+", "RUN", text))

    assert masked(merged.stdout) == masked(usual_merge.out)  # the whole console report, to its last line
    usual = subprocess.run([sys.executable, "-c", ENTRY_WITH_EXIT_HANDLER, "validate"], cwd=project,
                           capture_output=True, text=True)
    assert usual.returncode == 0 and "exit handler ran" in usual.stderr


def test_damaged_results_files_are_refused_by_every_command_naming_the_result(project: Path):
    """A result that is not an object, has no scenario id or an unknown outcome, or a document with no
    results list: exit 2 naming the file and the result (not an internal error, nor a run of nothing
    whose gates pass, nor a broken baseline saved)."""
    done = cli("run", "--json", "reports/good.json", cwd=project)
    assert done.code in (0, 1), done.out + done.err
    good = json.loads((project / "reports" / "good.json").read_text())

    def damaged(name: str, change) -> str:
        data = json.loads(json.dumps(good))
        change(data)
        text = json.dumps(data, indent=1) if name.startswith("whole") else _agentcheck_layout(data)
        (project / f"{name}.json").write_text(text)
        return f"{name}.json"

    cases = {
        damaged("weird", lambda d: d["results"][0].update(outcome="weird")): "result 1 (line",
        damaged("whole-weird", lambda d: d["results"][1].update(outcome="weird")): "result 2 has outcome 'weird'",
        damaged("nameless", lambda d: d["results"][0].pop("scenario_id")): "has no 'scenario_id' string",
        damaged("number", lambda d: d["results"].insert(0, 5)): "result 1 (line",
        damaged("whole-null", lambda d: d.update(results=None)): "no 'results' list",
    }
    for path, words in cases.items():
        for args in (["compare", "reports/good.json", path], ["merge", path], ["rejudge", path, "--json", "r.json"],
                     ["baseline", "save", path, "--out", "b.json"]):
            refused = cli(*args, cwd=project)
            assert refused.code == 2, (args, refused.out, refused.err)
            assert refused.err.startswith("error: ") and path in refused.err and words in refused.err, refused.err
            assert "Traceback" not in refused.err and "internal error" not in refused.err
    assert not (project / "b.json").exists() and not (project / "r.json").exists()


def _agentcheck_layout(data: dict) -> str:
    """The document in agentcheck's own line layout (a header key per line, a result per line)."""
    results = data.pop("results")
    head = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in data.items())
    body = ",\n".join(json.dumps(r) for r in results)
    return "{" + head + ',\n"results": [\n' + body + "\n]}\n"
