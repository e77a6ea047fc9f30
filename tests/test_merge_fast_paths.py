"""The fast paths behind `agentcheck merge` on large files give exactly the slow paths' output:
the redactor's JSON-text vouching, results copied through to the JSON report unparsed, and the JUnit
writer escaping only values that need it."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from xml.sax.saxutils import escape

import orjson
import pytest

from agentcheck.redact import Redactor
from agentcheck.replay import merge
from agentcheck.report import junit
from agentcheck.report.stream import ResultLog
from agentcheck.session import RunOptions

CONFIG = """version: 1
agents:
  bench: {kind: python, entrypoint: bench_agent:run, version: "1.0"}
tools:
  lookup_order:
    parameters: {type: object}
"""


def saved_result(i: int, output: str, args: dict) -> dict:
    """A result as `agentcheck run` saves it (one tool call, one check)."""
    call = {"step": 1, "call_id": "c1", "tool": "lookup_order", "args": args, "status": "ok",
            "result": {"order_id": f"O{i}", "notes": "fine"}, "error": None, "latency_ms": 1.0, "at_ms": 1.0,
            "policy": None, "violation": None, "kind": "tool_call"}
    return {
        "index": i, "scenario_id": f"s{i}", "file": "scenarios/s.yaml", "line": i + 2, "agent": "bench",
        "tags": [], "outcome": "passed", "message": "",
        "checks": [{"check": "output.contains", "passed": True, "message": "m", "explanation": "",
                    "advisory": False, "step": None, "tool": None, "expected": "x", "actual": "y"}],
        "trace": {"trace_id": f"{i:032x}", "scenario_id": f"s{i}", "trial": 1, "agent": "bench",
                  "agent_version": "1.0", "started_at": "2026-01-01T00:00:00Z", "events": [call], "output": output,
                  "totals": {"steps": 1, "tool_calls": 1, "model_calls": 0, "input_tokens": 0, "output_tokens": 0,
                             "cost_usd": 0.0, "wall_time_ms": 5.0, "virtual_wait_ms": 0.0}, "stop": None},
        "trial": 1, "duration_ms": 5.0,
    }


SECRETS = {  # scenario index -> (output, args) a redactor must change
    1: ("key sk-abcdefghijklmnopqrstuv here", {"order_id": "O1"}),
    2: ("ok", {"order_id": "O2", "Api-Key": "hunter2"}),
    3: ("line\n4111 1111 1111 1111", {"order_id": "O3"}),
    4: ("Authorization: BEARER abcdefghijklmnop", {"order_id": "O4"}),
}


def shard(path: Path, indices: range) -> None:
    with path.open("wb") as out:
        out.write(b'{"schema": "agentcheck.results/1",\n"run": {"run_id": "r", "started_at": "t"},\n')
        out.write(b'"summary": {},\n"gates": [],\n"results": [\n')
        rows = [saved_result(i, *SECRETS.get(i, (f"refunded O{i}", {"order_id": f"O{i}"}))) for i in indices]
        out.write(b",\n".join(orjson.dumps(r) for r in rows) + b"\n]}\n")


@pytest.fixture
def shards(tmp_path: Path) -> Path:
    (tmp_path / "agentcheck.yaml").write_text(CONFIG)
    (tmp_path / "bench_agent.py").write_text("def run(task):\n    return 'ok'\n")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s.yaml").write_text(
        "scenarios:\n" + "".join(f"  - {{id: s{i}, input: order O{i}}}\n" for i in range(12)))
    shard(tmp_path / "a.json", range(0, 12, 2))
    shard(tmp_path / "b.json", range(1, 12, 2))
    return tmp_path


def merged(root: Path, name: str) -> tuple[list[dict], str]:
    options = RunOptions(cwd=root, json_path=root / f"{name}.json", junit_path=root / f"{name}.xml", md_path=False)
    merge(options, [root / "a.json", root / "b.json"])
    document = json.loads((root / f"{name}.json").read_text())
    return document["results"], (root / f"{name}.xml").read_text()


def test_merge_with_vouching_equals_merge_redacting_every_result(shards: Path, monkeypatch):
    fast, fast_xml = merged(shards, "fast")
    monkeypatch.setattr(Redactor, "leaves_json_alone", lambda self, text: False)
    slow, slow_xml = merged(shards, "slow")
    assert fast == slow
    assert [r["scenario_id"] for r in fast] == [f"s{i}" for i in range(12)]
    text = json.dumps(fast)
    for leaked in ("sk-abcdefghijklmnopqrstuv", "hunter2", "4111 1111 1111 1111", "abcdefghijklmnop"):
        assert leaked not in text and leaked not in fast_xml
    assert fast[2]["trace"]["events"][0]["args"]["Api-Key"] == "[REDACTED]"
    assert same_run(fast_xml) == same_run(slow_xml)


def same_run(xml: str) -> str:
    """The JUnit document without what differs between two runs (run id, start time, duration)."""
    return re.sub(r'(timestamp|agentcheck.run_id" value)="[^"]*"', "", xml.split("\n", 2)[2])


def test_vouching_never_passes_data_the_redactor_would_change():
    redactor = Redactor()
    pieces = [*"0123456789 -abxyzKSR\n\t\"\\/_", "sk-", "Bearer ", "AKIA", "ghp_", "xox", "\u0663", "password",
              "Api-Key", "token", "4111111111111111", "4111 1111 1111 1111", "\u212aey", "-----BEGIN "]
    rng = random.Random(7)
    vouched = 0
    for _ in range(20000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        key = rng.choice(["k", "token", "Api-Key", "x", "args.token", "a.b.Api-Key", "token.x", value[:8]])
        data = {key: value, "n": [value[::-1], 1.5]}
        if redactor.leaves_json_alone(orjson.dumps(data).decode()):
            vouched += 1
            assert redactor.data(data) == data, data
    assert vouched > 1000  # the check is not vacuous


@pytest.mark.parametrize("value", ["sk-abcdefghijklmnopqrstuv", "bEaReR abcdefghijk", "AKIAABCDEFGHIJKLMNOP",
                                   "a\n4111111111111111", "\u0664" + "\u0661" * 15, "x\u0001sk-abcdefghijklmnopqrs"])
def test_vouching_refuses_secrets_and_escapes(value: str):
    assert not Redactor().leaves_json_alone(orjson.dumps({"v": value}).decode())


def test_vouching_checks_keys_as_the_redactor_compares_them():
    redactor = Redactor(keys=["session_id"])
    assert not redactor.leaves_json_alone('{"Session-ID": null}')
    assert not redactor.leaves_json_alone('{"PASSWORD": 1}')
    assert redactor.leaves_json_alone('{"input_tokens": 3, "session": "x", "order": "0000000000000000000000000000"}')
    assert not Redactor(patterns=["x"]).leaves_json_alone('{"a": "b"}')  # a project's own patterns: never vouched
    assert Redactor(defaults=False).leaves_json_alone('{"password": "4111111111111111"}')


def test_raw_results_are_the_logged_results_reencoded(tmp_path: Path):
    log = ResultLog(tmp_path / "results.jsonl")
    log._file = log.path.open("wb")
    for i in (2, 0, 1):
        log._offsets.append((i, 1, log._file.tell()))
        log._file.write(orjson.dumps({"type": "result", "result": {"index": i, "x": [1.5, "é", None]}}) + b"\n")
    log._offsets.append((3, 1, log._file.tell()))  # a line the standard library's encoder wrote
    log._file.write(json.dumps({"type": "result", "result": {"index": 3, "y": "\u00e9"}}).encode() + b"\n")
    raw = list(log.iter_raw_results())
    assert raw == [orjson.dumps(r) for r in log.iter_results()]
    assert [orjson.loads(r)["index"] for r in raw] == [0, 1, 2, 3]


@pytest.mark.parametrize("value", ["plain", "a & b", "<x>", 'say "hi"', "tab\tnew\nline\r", "nul\x00bell\x07",
                                   "\ud800lone", "é ü 中", 42, 1.5, None, {"k": ["<v>"]}])
def test_junit_escaping_fast_path_matches_the_full_escape(value):
    text = junit.as_text(value)
    assert junit.xml_attr(value) == '"' + escape(junit.xml_clean(text), junit._ATTR_ENTITIES) + '"'
    assert junit.xml_text(value) == escape(junit.xml_clean(text))
