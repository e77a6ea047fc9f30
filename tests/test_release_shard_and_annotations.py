"""Shard partition (every scenario in exactly one shard, stable as the suite changes) and GitHub
annotation lines with the runner's escaping rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_helpers import E, F, P, runs

from agentcheck.problems import BadInput
from agentcheck.release.report import build_release
from agentcheck.release.shard import parse_shard, shard_of
from agentcheck.report.annotations import annotation, annotation_lines, escape_data, escape_property
from agentcheck.verdict import GateCheck, GateResult, RunSummary

IDS = [f"scenario-{i}" for i in range(500)]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_scenario_is_in_exactly_one_shard(count):
    shards = {i: [s for s in IDS if shard_of(s, count) == i] for i in range(1, count + 1)}
    assert sorted(s for members in shards.values() for s in members) == sorted(IDS)
    if count > 1:
        assert all(len(members) > len(IDS) / count / 2 for members in shards.values())  # roughly balanced


def test_shards_are_stable_across_runs_and_suite_changes():
    before = {s: shard_of(s, 4) for s in IDS}
    grown = [f"new-{i}" for i in range(100)] + list(reversed(IDS))
    assert {s: shard_of(s, 4) for s in grown if s in before} == before
    # the same in another process: a salted hash (Python's hash()) would differ
    import subprocess
    import sys
    code = "from agentcheck.release.shard import shard_of; print([shard_of(f'scenario-{i}', 4) for i in range(20)])"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert other.strip() == str([before[f"scenario-{i}"] for i in range(20)])


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "x", "1-2", ""])
def test_bad_shard_specs_are_bad_input(text):
    with pytest.raises(BadInput) as bad:
        parse_shard(text)
    assert "use i/n" in bad.value.problems[0].render()


def test_shard_spec_parses():
    assert parse_shard("2/4") == (2, 4) and parse_shard(" 1 / 1 ") == (1, 1)


def test_escaping_follows_the_runner_rules():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    assert annotation("error", "x: y, z\nw", file="s/a,b.yaml", line=3, title="t: 1") == (
        "::error file=s/a%2Cb.yaml,line=3,title=t%3A 1::x: y, z%0Aw")


def test_annotation_lines_for_failing_scenarios_and_gates(tmp_path: Path):
    metrics = runs("ok", P, P, index=0) + runs("bad", P, F, index=1) + runs("down", E, index=2)
    release = build_release(metrics, {}, run_id="r")
    gate = GateResult("suite", 5, False, [GateCheck("min_pass_rate", 0.9, 0.6, False)])
    summary = RunSummary("r", "t", 0.1, {}, [gate], 1, "", release=release)
    lines = annotation_lines(summary, tmp_path / "proj", workspace=str(tmp_path))
    assert lines == [
        "::error file=proj/scenarios/s.yaml,line=4,title=agentcheck failed%3A bad::failed because (1/2 trials passed)",
        "::error file=proj/scenarios/s.yaml,line=5,title=agentcheck error%3A down::error because",
        "::error title=agentcheck gate failed%3A suite::min_pass_rate 0.6 (limit >= 0.9)",
    ]
