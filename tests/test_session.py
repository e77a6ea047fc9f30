"""The library API: the same run the CLI does, called in-process."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import junitparser
import pytest

from agentcheck import BadInput, Outcome, RunOptions, ScenarioResult, run
from agentcheck.verdict import RunPlan, RunSummary

CONFIG = """
version: 1
agents:
  bot: {kind: python, entrypoint: slowbot:run, description: answers after a delay}
tools:
  lookup: {parameters: {type: object}}
defaults: {concurrency: 4}
"""

AGENT = """
import asyncio
async def run(task, tools):
    await asyncio.sleep(float(task.data["delay"]))
    if task.data.get("fail"):
        return "wrong"
    return "right"
"""


def project(tmp_path: Path, scenarios: list[dict]) -> Path:
    (tmp_path / "agentcheck.yaml").write_text(textwrap.dedent(CONFIG))
    (tmp_path / "slowbot.py").write_text(textwrap.dedent(AGENT))
    (tmp_path / "scenarios").mkdir()
    body = {"scenarios": scenarios}
    (tmp_path / "scenarios" / "s.yaml").write_text(json.dumps(body))  # JSON is YAML
    return tmp_path


def scen(sid: str, delay: float, fail: bool = False) -> dict:
    return {"id": sid, "input": {"data": {"delay": delay, "fail": fail}},
            "expect": {"output": {"equals": "right"}}}


class Recorder:
    def __init__(self):
        self.events: list[str] = []
        self.plan: RunPlan | None = None
        self.summary: RunSummary | None = None

    def start(self, plan):
        self.plan = plan

    def result(self, result: ScenarioResult):
        self.events.append(result.scenario_id)

    def finish(self, summary):
        self.summary = summary


def test_results_finish_out_of_order_but_reports_keep_collection_order(tmp_path):
    root = project(tmp_path, [scen("slow", 0.3), scen("medium", 0.15), scen("fast", 0.0)])
    recorder = Recorder()
    summary = run(RunOptions(cwd=root, reporters=[recorder]))
    assert recorder.events == ["fast", "medium", "slow"]  # finishing order
    data = json.loads((root / "reports" / "results.json").read_text())
    assert [r["scenario_id"] for r in data["results"]] == ["slow", "medium", "fast"]
    xml = junitparser.JUnitXml.fromfile(str(root / "reports" / "junit.xml"))
    names = [case.name for suite in xml for case in suite if case.classname != "agentcheck.gates"]
    assert names == ["slow", "medium", "fast"]
    assert summary.exit_code == 0 and summary.counts["passed"] == 3
    assert summary.reports == {"json": str(root / "reports" / "results.json"),
                               "junit": str(root / "reports" / "junit.xml")}


def test_fail_fast_starts_nothing_after_the_first_failure(tmp_path):
    root = project(tmp_path, [scen("a", 0), scen("b", 0, fail=True), scen("c", 0), scen("d", 0)])
    recorder = Recorder()
    summary = run(RunOptions(cwd=root, concurrency=1, fail_fast=True, reporters=[recorder]))
    assert recorder.events == ["a", "b"]
    assert summary.not_run == 2 and summary.exit_code == 1


def test_selection_and_bad_input_raise_before_running(tmp_path):
    root = project(tmp_path, [scen("alpha", 0), scen("beta", 0)])
    recorder = Recorder()
    run(RunOptions(cwd=root, keywords=["alp"], reporters=[recorder], json_path=False, junit_path=False))
    assert recorder.events == ["alpha"]
    with pytest.raises(BadInput) as info:
        run(RunOptions(cwd=root, keywords=["zzz"]))
    assert "no scenarios selected" in str(info.value)


def test_results_stream_to_disk_with_traces(tmp_path):
    root = project(tmp_path, [scen("a", 0), scen("b", 0, fail=True)])
    summary = run(RunOptions(cwd=root, json_path=False, junit_path=False))
    lines = [json.loads(line) for line in Path(summary.results_file).read_text().splitlines()]
    assert [line["type"] for line in lines] == ["plan", "result", "result", "summary"]
    results = {line["result"]["scenario_id"]: line["result"] for line in lines if line["type"] == "result"}
    assert results["b"]["outcome"] == Outcome.FAILED
    assert results["b"]["checks"][0]["check"] == "output.equals"
    assert len(results["a"]["trace"]["trace_id"]) == 32
    assert not (root / "reports" / "results.json").exists()
