"""End to end: the real `agentcheck` command on temporary projects — exit codes, console, reports."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import junitparser
import pytest
import xmlschema

from tests.e2e_helpers import MINI_CONFIG, agentcheck_exe, cli, copy_example, write

XSD = Path(__file__).parent / "data" / "junit-10.xsd"


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    return copy_example(tmp_path_factory.mktemp("example"))


def test_example_suite_passes_and_writes_reports(example):
    done = cli("run", cwd=example)
    assert done.code == 0, done.out + done.err
    lines = done.out.rstrip("\n").splitlines()
    # the verdict comes last, as in pytest: the release tables and the reports written come before it
    assert re.fullmatch(r"\d+ passed, 0 failed, 0 error, 0 skipped in [\d.]+s", lines[-1]), lines[-12:]
    at = {marker: next(i for i, line in enumerate(lines) if line.startswith(marker))
          for marker in ("gates", "Segments", "injection drills:", "json report:", "junit report:")}
    assert at["gates"] < at["Segments"] < at["injection drills:"] < at["json report:"] < at["junit report:"]
    data = json.loads((example / "reports" / "results.json").read_text())
    assert data["schema"] == "agentcheck.results/1"
    ids = [r["scenario_id"] for r in data["results"]]
    assert "refund-damaged-order" in ids and "demo-refund-over-policy" not in ids
    assert [r["index"] for r in data["results"]] == sorted(r["index"] for r in data["results"])
    assert all(r["outcome"] == "passed" for r in data["results"])
    suites = junitparser.JUnitXml.fromfile(str(example / "reports" / "junit.xml"))
    cases = [case for suite in suites for case in suite]
    assert any(case.name == "refund-damaged-order" for case in cases)
    runs = list((example / "reports" / "runs").iterdir())
    assert runs and (runs[0] / "results.jsonl").is_file()


def test_demo_failure_explains_which_call_differed(example):
    done = cli("run", "--tag", "demo-failure", "--junit", "reports/fail.xml", cwd=example)
    assert done.code == 1
    text = done.out
    assert "demo-refund-over-policy" in text
    assert "issue_refund" in text and "amount" in text and "42" in text and "40" in text
    xml = junitparser.JUnitXml.fromfile(str(example / "reports" / "fail.xml"))
    [case] = [c for s in xml for c in s if c.name == "demo-refund-over-policy"]
    [failure] = case.result
    assert isinstance(failure, junitparser.Failure)
    assert "issue_refund" in failure.message
    assert "amount" in (failure.text or "")


def test_strict_junit_validates_against_the_jenkins_schema(example):
    done = cli("run", "--tag", "demo-failure", "--tag", "refunds", "--junit-strict",
               "--junit", "reports/strict.xml", cwd=example)
    assert done.code == 1
    report = example / "reports" / "strict.xml"
    xmlschema.XMLSchema10(str(XSD)).validate(str(report))
    assert junitparser.JUnitXml.fromfile(str(report))


def test_validate_and_schema_and_show(example):
    done = cli("validate", cwd=example)
    assert done.code == 0 and done.out.startswith("ok: ")
    done = cli("schema", "scenario", cwd=example)
    assert done.code == 0 and "$schema" in json.loads(done.out)
    done = cli("schema", "scenaro", cwd=example)
    assert done.code == 2 and "did you mean 'scenario'" in done.err
    cli("run", "-k", "refund-damaged-order", cwd=example)
    done = cli("show", cwd=example)
    assert done.code == 0 and "refund-damaged-order" in done.out
    done = cli("show", "refund-damaged-order", cwd=example)
    assert done.code == 0
    assert "lookup_order" in done.out and "issue_refund" in done.out


def test_keyword_selection_and_no_match(example):
    done = cli("run", "-k", "above-limit", "--no-junit", "--no-json", cwd=example)
    assert done.code == 0
    assert "refund-above-limit-hands-off" in done.out and "refund-damaged-order" not in done.out
    done = cli("run", "-k", "no-such-scenario", cwd=example)
    assert done.code == 2 and "no scenarios selected" in done.err
    commas = cli("run", "--tag", "refunds,drills", cwd=example)
    assert commas.code == 2 and "--tag takes one tag: repeat it, as in --tag a --tag b" in commas.err
    typo = cli("run", "--tag", "refnds", cwd=example)
    assert typo.code == 2 and "no scenario has the tag refnds; the suite's tags: " in typo.err
    assert "refunds" in typo.err
    config = cli("run", "agentcheck.yaml", cwd=example)
    assert config.code == 2 and "the paths given hold no scenario file" in config.err


def test_crashing_agent_fails_only_its_own_scenario(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": """
            def run(task, tools):
                if task.text == "crash":
                    raise RuntimeError("kaput")
                return "fine"
        """,
        "scenarios/s.yaml": """
            scenarios:
              - {id: ok-one, input: hello, expect: {output: {contains: fine}}}
              - {id: crashes, input: crash}
              - {id: ok-two, input: again, expect: {output: {contains: fine}}}
        """,
    })
    done = cli("run", cwd=tmp_path)
    assert done.code == 1
    data = json.loads((tmp_path / "reports" / "results.json").read_text())
    outcomes = {r["scenario_id"]: r["outcome"] for r in data["results"]}
    assert outcomes == {"ok-one": "passed", "crashes": "error", "ok-two": "passed"}
    assert "RuntimeError: kaput" in done.out
    assert "Traceback" not in done.err


def test_bad_input_is_one_line_per_problem_and_exit_2(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": "def run(task): return 'x'\n",
        "scenarios/a.yaml": """
            id: a
            input: hi
            expect:
              tools:
                calls:
                  - lookpu: {id: "1"}
              outptu: {contains: x}
        """,
        "scenarios/b.yaml": "id: b\ninput: [unclosed\n",
    })
    done = cli("run", cwd=tmp_path)
    assert done.code == 2
    assert "Traceback" not in done.err
    lines = [line for line in done.err.splitlines() if line.startswith("error:")]
    assert any("scenarios/a.yaml:" in line and "outptu" in line and "did you mean 'output'" in line for line in lines)
    assert any("lookpu" in line and "did you mean 'lookup'" in line for line in lines)
    assert any("scenarios/b.yaml:" in line for line in lines)
    assert not (tmp_path / "reports" / "results.json").exists()


def test_entrypoint_that_does_not_import_is_bad_input(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": "import not_a_module_anywhere\n",
        "scenarios/a.yaml": "id: a\ninput: hi\n",
    })
    done = cli("run", cwd=tmp_path)
    assert done.code == 2
    assert f"agentcheck.yaml:{_entrypoint_line(tmp_path)} at agents.bot.entrypoint:" in done.err
    assert "does not import" in done.err
    assert "install the package the module imports (not_a_module_anywhere)" in done.err
    assert "Traceback" not in done.err


@pytest.mark.parametrize(("source", "words"), [
    ("def run(\n", "fix the syntax error in bot.py:1"),
    ("raise RuntimeError('no config')\n", "RuntimeError: no config (bot.py:1) (fix the error the module raises"),
    ("def run():\n    return 'x'\n", "takes no parameters; agentcheck calls run(task), run(task, tools) or"),
    ("def run(task, *, key):\n    return 'x'\n", "requires the keyword argument(s) key"),
    ("def run(a, b, c, d):\n    return 'x'\n", "takes 4 required parameters"),
])
def test_an_agent_that_cannot_be_called_is_bad_input_at_validate(tmp_path, source, words):
    """What `validate` can know without running: the module imports, and the function takes one of the
    forms agentcheck calls (else every run would error); each with the fix that applies."""
    write(tmp_path, {"agentcheck.yaml": MINI_CONFIG, "bot.py": source, "scenarios/a.yaml": "id: a\ninput: hi\n"})
    done = cli("validate", cwd=tmp_path)
    where = f"error: agentcheck.yaml:{_entrypoint_line(tmp_path)} at agents.bot.entrypoint: "
    assert done.code == 2 and done.err.startswith(where), done.err
    assert words in done.err and "Traceback" not in done.err, done.err
    assert "check the module path" not in done.err


def _entrypoint_line(root: Path) -> int:
    lines = (root / "agentcheck.yaml").read_text().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if "entrypoint" in line)


def test_a_module_path_that_does_not_exist_says_to_check_it(tmp_path):
    write(tmp_path, {"agentcheck.yaml": MINI_CONFIG.replace("bot:run", "bots.refunds:run"),
                     "scenarios/a.yaml": "id: a\ninput: hi\n"})
    done = cli("validate", cwd=tmp_path)
    assert done.code == 2 and "No module named 'bots'" in done.err and "check the module path" in done.err


def test_failed_gate_exits_1_and_prints_measured_against_threshold(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG + """
gates:
  - name: cheap enough
    max_mean_tool_calls: 0.5
""",
        "bot.py": "def run(task, tools):\n    tools.lookup(id='1')\n    return 'ok'\n",
        "scenarios/a.yaml": "id: a\ninput: hi\nfixtures:\n  lookup: [{returns: 1}]\n",
    })
    done = cli("run", cwd=tmp_path)
    assert done.code == 1
    assert "cheap enough" in done.out and "0.5" in done.out


def test_init_scaffolds_a_project_that_passes(tmp_path):
    done = cli("init", "proj", cwd=tmp_path)
    assert done.code == 0 and done.out.splitlines()[-1] == "next: cd proj && agentcheck run"
    (tmp_path / "here").mkdir()
    here = cli("init", cwd=tmp_path / "here")
    assert here.code == 0 and here.out.splitlines()[-1] == "next: agentcheck run"
    done = cli("run", cwd=tmp_path / "proj")
    assert done.code == 0, done.out + done.err
    again = cli("init", "proj", cwd=tmp_path)
    assert again.code == 2 and "already exists" in again.err
    kept = tmp_path / "with-schemas" / "schemas" / "scenario.schema.json"  # a folder that has one schema
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    assert cli("init", "with-schemas", cwd=tmp_path).code == 0
    assert kept.read_text() == "{}"  # kept as it was; the others written
    written = sorted(p.name for p in (tmp_path / "proj" / "schemas").iterdir())
    assert sorted(p.name for p in kept.parent.iterdir()) == written and len(written) > 1
    valid = cli("validate", cwd=tmp_path / "proj")
    assert valid.code == 0 and " 1 files" not in valid.out and " in 1 file, 1 agent, " in valid.out


def test_interrupted_run_keeps_finished_results(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG.replace("timeout_s: 5", "timeout_s: 60, concurrency: 4"),
        "bot.py": """
            import time
            def run(task):
                if task.text == "slow":
                    time.sleep(30)
                return "done"
        """,
        "scenarios/a.yaml": """
            scenarios:
              - {id: fast-1, input: a}
              - {id: fast-2, input: b}
              - {id: slow, input: slow}
        """,
    })
    # Ctrl-C as a terminal sends it: a shell ignores SIGINT in commands it starts in the background
    # (`pytest &`), and the child would inherit that and rightly ignore it too.
    proc = subprocess.Popen([agentcheck_exe(), "run"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    stream = None
    while time.time() < deadline:
        found = list((tmp_path / "reports" / "runs").glob("*/results.jsonl"))
        if found and sum('"result"' in line for line in found[0].read_text().splitlines()) >= 2:
            stream = found[0]
            break
        time.sleep(0.05)
    assert stream is not None, "the fast results never reached disk"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    data = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert sorted(r["scenario_id"] for r in data["results"]) == ["fast-1", "fast-2"]
    assert data["summary"]["interrupted"] is True and data["summary"]["not_run"] == 1
    # an interrupted run passes no gate, in any report, though both finished runs passed
    message = "not passed: the run was interrupted (2 of 3 runs finished)"
    assert [(g["passed"], g["message"].split(";")[0]) for g in data["gates"]] == [(False, message)]
    suites = junitparser.JUnitXml.fromfile(str(tmp_path / "reports" / "junit.xml"))
    gate_cases = [case for suite in suites for case in suite if case.classname == "agentcheck.gates"]
    assert len(gate_cases) == 1 and not gate_cases[0].is_passed
    assert f"gate all scenarios pass failed: {message}" in out and "not started (--fail-fast" not in out
    assert "interrupted: 2 of 3 scenario runs finished" in out


def test_a_gate_selecting_nothing_in_the_suite_is_bad_input(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG + """
gates:
  - name: critical
    select: {tags: [polcy-critical]}
    min_pass_rate: 1.0
""",
        "bot.py": "def run(task): return 'ok'\n",
        "scenarios/a.yaml": "id: a\ninput: hi\ntags: [policy-critical]\n",
    })
    for command in ("run", "validate"):
        done = cli(command, cwd=tmp_path)
        assert done.code == 2, done.out + done.err
        assert "agentcheck.yaml:" in done.err and "gate 'critical' selects no scenario" in done.err
        assert "did you mean 'policy-critical'" in done.err


def test_selecting_only_excluded_scenarios_says_why(example):
    done = cli("run", "-k", "demo-refund-over-policy", cwd=example)
    assert done.code == 2
    assert "carry a tag in defaults.exclude_tags (demo-failure)" in done.err
    assert "--tag demo-failure" in done.err


def test_unwritable_or_clashing_report_paths_are_bad_input_before_running(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": "def run(task):\n    open('ran.txt', 'w').write('x')\n    return 'ok'\n",
        "scenarios/a.yaml": "id: a\ninput: hi\n",
        "afile": "not a folder\n",
    })
    cases = [
        (["--json", "afile/x.json"], "cannot create the folder for the json"),
        (["--json", "scenarios"], "the json path is a folder"),
        (["--json", "reports/same.xml", "--junit", "reports/same.xml"], "would overwrite each other"),
    ]
    for flags, words in cases:
        done = cli("run", *flags, cwd=tmp_path)
        assert done.code == 2, (flags, done.out, done.err)
        assert words in done.err and "Traceback" not in done.err
    assert not (tmp_path / "ran.txt").exists()


def test_show_and_init_bad_input(tmp_path, example):
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    done = cli("show", "--results", str(junk), "x", cwd=example)
    assert done.code == 2 and "not a results file" in done.err and "Traceback" not in done.err
    cli("run", "-k", "refund-", "--no-junit", cwd=example)
    done = cli("show", "refund-", cwd=example)
    assert done.code == 2 and "matches" in done.err and "give the whole scenario id" in done.err
    done = cli("show", "", cwd=example)
    assert done.code == 2
    done = cli("init", "agentcheck.yaml", cwd=example)
    assert done.code == 2 and "is a file" in done.err


def test_unencodable_console_characters_do_not_crash(example):
    done = cli("run", "--tag", "demo-failure", "--no-junit", "--no-json", cwd=example,
               env={"PYTHONIOENCODING": "cp1252"})
    assert done.code == 1, done.err
    assert "demo-refund-over-policy" in done.out


def test_ci_log_lines_are_not_hard_wrapped(example):
    done = cli("run", "--tag", "demo-failure", "--no-junit", "--no-json", cwd=example, env={"COLUMNS": ""})
    line = next(line for line in done.out.splitlines() if line.startswith("FAILED demo-refund-over-policy ("))
    assert line.rstrip().endswith("(+1 more)")  # the whole one-line message, on one line


def test_a_fixture_handler_that_does_not_import_is_bad_input(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": "def run(task, tools):\n    return tools.lookup(id='1')\n",
        "scenarios/a.yaml": """
            id: a
            input: hi
            fixtures:
              lookup: {handler: "no_such_module_here:answer"}
        """,
    })
    done = cli("run", cwd=tmp_path)
    assert done.code == 2, done.out + done.err
    assert "scenarios/a.yaml:" in done.err and "fixtures.lookup.handler" in done.err
    assert "fixture handler 'no_such_module_here:answer' does not import" in done.err
    assert not (tmp_path / "reports" / "results.json").exists()


def test_report_paths_that_are_links_or_pipes_are_written_through_not_replaced(tmp_path):
    """A link stays a link (its file is replaced), a named pipe stays a pipe and gets the report
    (as `tee` would write it); moving a file into their place would have replaced them."""
    import os
    import threading

    write(tmp_path, {"agentcheck.yaml": MINI_CONFIG, "bot.py": "def run(task):\n    return 'ok'\n",
                     "scenarios/a.yaml": "id: a\ninput: hi\n"})
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "results.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "kept" / "results.json")
    os.mkfifo(tmp_path / "junit.pipe")
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append((tmp_path / "junit.pipe").read_bytes()))
    reader.start()
    done = cli("run", "--json", "link.json", "--junit", "junit.pipe", cwd=tmp_path)
    reader.join(timeout=60)
    assert done.code == 0, done.out + done.err
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "kept" / "results.json").read_text())["results"][0]["scenario_id"] == "a"
    assert (tmp_path / "junit.pipe").is_fifo() and b'<testcase name="a"' in received[0]
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["results.json"]  # no temporary left



def test_brackets_in_ids_and_tags_are_text_not_console_markup(tmp_path):
    """Ids and tags reach rich's tables as text: drilled copies' `[drill: …]` suffixes stay visible, and
    a tag like `[/oops]` (a closing markup tag) cannot crash the report."""
    root = copy_example(tmp_path)
    done = cli("run", "--trials", "2", "-k", "drill-injected-ticket-ignored", cwd=root)
    assert done.code == 0, done.out + done.err
    trials = done.out[done.out.index("Trials"):done.out.index("Segments")]
    for family in ("authored", "important", "smuggling"):
        assert f"drill-injected-ticket-ignored [drill: injection/{family}]" in trials, trials
    listed = cli("show", cwd=root)
    assert listed.code == 0 and "[drill: injection/smuggling]" in listed.out, listed.out + listed.err
    write(tmp_path / "tags", {"agentcheck.yaml": MINI_CONFIG, "bot.py": "def run(task):\n    return 'ok'\n",
                              "scenarios/a.yaml": 'id: a\ntags: ["[/oops]", "[wip]"]\ninput: hi\n'})
    done = cli("run", cwd=tmp_path / "tags")
    assert done.code == 0, done.out + done.err
    assert "tag=[/oops]" in done.out and "tag=[wip]" in done.out


def test_version_flag_prints_the_installed_version(tmp_path):
    import tomllib

    declared = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["version"]
    for flag in ("--version", "-V"):
        done = cli(flag, cwd=tmp_path)
        assert (done.code, done.out, done.err) == (0, f"agentcheck {declared}\n", "")


def test_a_narrow_console_leaves_segment_columns_out_and_says_so(example):
    narrow = cli("run", "--no-json", "--no-junit", "--no-md", cwd=example, env={"COLUMNS": "80"})
    assert narrow.code == 0, narrow.out + narrow.err
    lines = [line.rstrip() for line in narrow.out.splitlines()]
    table = lines[lines.index("Segments") + 1:]
    table = table[:next(i for i, line in enumerate(table) if line.startswith("injection drills"))]
    assert table[0].split() == ["segment", "runs", "pass", "pass^k", "err", "cost", "p95", "s", "policy"]
    assert "(narrow terminal: left out flaky, scen., handoff, tool err, tokens, p50 s;" in " ".join(table)
    assert all(len(line.rstrip()) <= 80 for line in table)
    wide = cli("run", "--no-json", "--no-junit", "--no-md", cwd=example, env={"COLUMNS": "200"})
    wide_lines = [line.rstrip() for line in wide.out.splitlines()]
    header = wide_lines[wide_lines.index("Segments") + 1]
    assert header.split()[:3] == ["segment", "scen.", "runs"] and "narrow terminal" not in wide.out
