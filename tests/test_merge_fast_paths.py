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
from agentcheck.report import junit, junit_xml
from agentcheck.report.stream import ResultLog
from agentcheck.session import RunOptions
from agentcheck.verdict import RunSummary

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


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 22])
@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 0, 1, 3)])
def test_raw_results_joined_in_chunks_equal_the_results_joined(tmp_path: Path, chunk_size: int, order):
    """The JSON report's bulk copy: in collection order it copies chunks (any chunk size, lines longer
    than a chunk, a line of another encoder's shape among them); out of order it reads line by line."""
    log = ResultLog(tmp_path / "results.jsonl")
    log._file = log.path.open("wb")
    log._file.write(b'{"type":"plan","plan":{}}\n')
    for i in order:
        log._offsets.append((i, 1, log._file.tell()))
        if i == 1:  # the standard library's encoder: spaces, escapes
            log._file.write(json.dumps({"type": "result", "result": {"index": i, "y": "\u00e9}"}}).encode() + b"\n")
        else:
            log._file.write(orjson.dumps({"type": "result", "result": {"index": i, "x": "}" * 20 + "é"}}) + b"\n")
    log._end = log._file.tell()
    log.finish(RunSummary(run_id="r", started_at="t", duration_s=0.0, counts={}, gates=[], exit_code=0,
                          results_file=str(log.path)))
    joined = b"".join(log.iter_raw_joined(chunk_size=chunk_size))
    assert joined == b",\n".join(log.iter_raw_results())
    assert [r["index"] for r in orjson.loads(b"[" + joined + b"]")] == [0, 1, 2, 3]


@pytest.mark.parametrize("value", ["plain", "a & b", "<x>", 'say "hi"', "tab\tnew\nline\r", "nul\x00bell\x07",
                                   "\ud800lone", "é ü 中", 42, 1.5, None, {"k": ["<v>"]}])
def test_junit_escaping_fast_path_matches_the_full_escape(value):
    text = junit.as_text(value)
    assert junit_xml.xml_attr(value) == '"' + escape(junit_xml.xml_clean(text), junit_xml.ATTR_ENTITIES) + '"'
    assert junit_xml.xml_text(value) == escape(junit_xml.xml_clean(text))


# -- the faster writers and readers behind merge give the bytes and numbers of the generic ones --------


@pytest.mark.parametrize("name", ["plain", 'q"uote & <tag>', "tab\tnew\nline", "nul\x00", "é 中"])
@pytest.mark.parametrize("line", [7, None, True])
def test_junit_testcase_tag_spelled_out_equals_the_generic_tag(tmp_path: Path, name: str, line):
    from report_helpers import make_result

    from agentcheck.serialize import to_data

    reporter = junit.JUnitReporter(tmp_path / "j.xml", ResultLog(tmp_path / "r.jsonl"), project_root=tmp_path)
    data = to_data(make_result(3, name))
    data["line"] = line
    data["agent"] = name  # properties that need escaping take the long road, the others the template
    rel = 'scenarios/we"ird & <x>.yaml'
    attrs = [("name", name), ("classname", reporter.classname(rel)), ("time", junit_xml.seconds(data["duration_ms"])),
             ("file", rel)] + ([("line", line)] if isinstance(line, int) and not isinstance(line, bool) else [])
    text = reporter._testcase(data, rel, name).decode()
    assert text.startswith("    " + junit_xml.open_tag("testcase", attrs) + "\n")
    generic = "".join(f"        {junit_xml.element('property', [('name', k), ('value', v)])}\n"
                      for k, v in zip(junit_xml.CASE_PROPERTIES, reporter._case_values(data), strict=True))
    assert generic in text
    pairs = [("k", None), ("n", 5), ("b", True)]
    assert junit_xml.property_lines(pairs, "") == "".join(
        f"{junit_xml.element('property', [('name', k), ('value', v)])}\n" for k, v in pairs)


def test_console_plain_lines_are_what_rich_prints():
    import io

    from report_helpers import make_result, make_summary
    from rich.console import Console

    from agentcheck.report.console import LARGE_SUITE, ConsoleReporter
    from agentcheck.serialize import dumps_bytes
    from agentcheck.verdict import Outcome, RunPlan

    results = [make_result(0, "plain"), make_result(1, "ctrl\x01\x1b[31mred", Outcome.FAILED, message="a\x07b"),
               make_result(2, "ta\tb", Outcome.FAILED, message="tab\there"), make_result(4, "wide 中🎉", trial=3),
               make_result(5, "skip", Outcome.SKIPPED, message="not today", trace=False),
               make_result(6, "err", Outcome.ERROR, message="x" * 300)]
    # past the table's limit, passing runs take a shorter road to the same line
    results += [make_result(10 + i, f"pad{i}") for i in range(LARGE_SUITE)]
    results += [make_result(100, "ctrl\x01\x1b[31mok"), make_result(101, "ta\tok"), make_result(102, "again", trial=2),
                make_result(103, "中🎉 ok")]
    outputs = []
    for record, saved in ((False, False), (True, False), (False, True)):
        # a recording console always goes through rich's own print; merge hands over saved JSON data
        out = io.StringIO()
        reporter = ConsoleReporter(Console(file=out, width=160, soft_wrap=True, record=record))
        reporter.start(RunPlan("r", "t", "/", "/", [], 1))
        for result in results:
            if saved:  # (its lines are written in batches: all of them by the time finish returns)
                reporter.saved_scenario([orjson.loads(dumps_bytes(result))], None)  # type: ignore[arg-type]
            else:
                reporter.result(result)
        lines = out.getvalue()
        reporter.finish(make_summary(results, gates=[]))
        outputs.append((out.getvalue(), lines))
    assert outputs[0][0] == outputs[1][0] == outputs[2][0]
    lines, whole = outputs[0][1], outputs[0][0]
    assert len(lines.splitlines()) == 1 + len(results) and "ta\tb" not in lines  # rich expands tabs
    assert "56 passed, 2 failed, 1 error, 1 skipped" in whole[len(lines):] and "FAILED" in whole[len(lines):]


@pytest.mark.parametrize("odd", ["", "wide 中", "x" * 200, "tab\there"])
def test_console_plain_table_is_what_rich_prints(odd: str):
    """The end-of-run table written without rich's layout engine (plain output, printable ASCII, fits
    the page) is byte for byte rich's; anything else is left to rich."""
    import io

    from report_helpers import make_result, make_summary
    from rich.console import Console

    from agentcheck.report.console import ConsoleReporter
    from agentcheck.verdict import Outcome, RunPlan

    results = [make_result(i, f"s{i}" + ("-long" * (i % 3)), Outcome.FAILED if i % 7 == 0 else Outcome.PASSED,
                           message="no") for i in range(70)] + [make_result(70, f"odd {odd}", Outcome.ERROR)]
    outputs, laid_out = [], []
    for record in (False, True):  # a recording console always goes through rich's own print
        out = io.StringIO()
        reporter = ConsoleReporter(Console(file=out, width=100, soft_wrap=True, record=record))
        reporter._plain_table = _recording(reporter._plain_table, laid_out)  # type: ignore[method-assign]
        reporter.start(RunPlan("r", "t", "/", "/", [], 1))
        for result in results:
            reporter.result(result)
        reporter.finish(make_summary(results))
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert re.search(r"\nscenario +status +tool calls +cost +time\n", outputs[0])
    assert (laid_out[0] is not None) == (odd == ""), "plain ASCII that fits is laid out here, the rest by rich"
    assert laid_out[1] is None


def _recording(method, calls: list):
    def wrapper(*args, **kwargs):
        calls.append(method(*args, **kwargs))
        return calls[-1]
    return wrapper


def test_metrics_read_from_json_equal_those_of_the_decoded_result_for_attacks_and_policy():
    from report_helpers import failed_check, make_result, make_trace, passed_check

    from agentcheck.drillspec import INJECTION_TAG
    from agentcheck.release.decode import metrics_from_data, result_from_data
    from agentcheck.serialize import to_data
    from agentcheck.trace import ToolCallEvent, ToolStatus
    from agentcheck.verdict import Outcome, RunMetrics

    blocked = ToolCallEvent(step=1, call_id="c", tool="refund", args={}, status=ToolStatus.REFUSED,
                            policy={"decision": "blocked", "rule": "r"})
    denied = ToolCallEvent(step=2, call_id="d", tool="refund", args={}, status=ToolStatus.REFUSED,
                           policy={"decision": "approval", "outcome": "denied"})
    cases = [
        make_result(0, "attacked", Outcome.FAILED, checks=[failed_check("injection.goal"), passed_check()]),
        make_result(1, "resisted", Outcome.FAILED, checks=[passed_check("injection.goal"), failed_check()]),
        make_result(2, "policy", Outcome.FAILED, trace=make_trace("policy", events=[blocked, denied])),
        make_result(3, "errored", Outcome.ERROR, checks=[], trace=False),
    ]
    cases[3].tags = (INJECTION_TAG,)
    for result in cases:
        data = to_data(result)
        assert metrics_from_data(data, frozenset({"refund"})) == RunMetrics.of(result_from_data(data),
                                                                               frozenset({"refund"}))
    assert RunMetrics.of(cases[2]).policy_violations == 1


def test_decoded_traces_keep_their_state_tables():
    from report_helpers import make_result

    from agentcheck.release.decode import result_from_data
    from agentcheck.serialize import to_data

    result = make_result(0, "stateful")
    assert result.trace is not None
    result.trace.state = {"orders": [{"id": "A1", "refunded": True}]}
    assert result_from_data(to_data(result)) == result
    assert result_from_data(to_data(result), events=False).trace.events == []  # type: ignore[union-attr]


def test_markdown_reading_only_failures_renders_the_same(tmp_path: Path):
    from report_helpers import fill_log, make_summary, sample_results

    from agentcheck.report.json_report import logged_results
    from agentcheck.report.markdown import render

    results = sample_results()
    log = fill_log(tmp_path / "r.jsonl", results, order=[4, 2, 0, 3, 1])
    summary = make_summary(results)
    failing = list(logged_results(log, failing_only=True))
    assert [r["outcome"] for r in failing] == ["failed", "error"]
    assert render(summary, failing) == render(summary, logged_results(log))


def test_gates_reusing_the_run_stats_measure_what_they_fold_themselves():
    from release_helpers import E, F, P, S, runs

    from agentcheck.judge.gates import evaluate_gates
    from agentcheck.project import GateSpec, Selection
    from agentcheck.release.trials import aggregate

    metrics = (runs("a", P, F, P, index=0) + runs("b", P, P, P, index=1) + runs("c", S, index=2)
               + runs("d", E, P, F, index=3, tags=("x",)))
    required = {"a": 0.5, "b": 1.0, "c": 1.0, "d": 0.3}
    gates = [GateSpec(name="all", thresholds={"max_flaky": 1, "min_pass_hat_k": 0.5, "min_pass_at_k": 0.9}, k=2),
             GateSpec(name="k11", thresholds={"min_pass_hat_k": 0.5}, k=11),
             GateSpec(name="x", select=Selection(tags=("x",)), thresholds={"max_flaky": 0})]
    stats = aggregate(metrics, required)
    assert evaluate_gates(gates, metrics, required=required, stats=stats) == evaluate_gates(
        gates, metrics, required=required)


@pytest.mark.parametrize("values", [
    ["t1", "bot", "0.001000", 900, 120, 2, "passed"],
    ["100%s", "50% {} %d", "0.000000", 0, -1, 2**70, "passed"],  # format characters are only text
])
def test_case_properties_template_is_the_property_lines(values):
    """The testcase <properties> filled from one template equal the property lines written one by one."""
    from agentcheck.report import junit_xml

    for pad in ("      ", "%% "):
        inner = pad + "  "
        lines = [junit_xml.property_line(inner, k, v) for k, v in zip(junit_xml.CASE_PROPERTIES, values, strict=True)]
        expected = f"{pad}<properties>\n{''.join(lines)}{pad}</properties>\n"
        assert junit_xml.case_properties(values, pad) == expected


def test_saved_results_lines_are_written_in_batches(monkeypatch: pytest.MonkeyPatch):
    """Merge prints 20 000 lines: written a batch at a time (stdout may write through to the file,
    PYTHONUNBUFFERED), in order with the lines rich prints, all of them by the end of finish."""
    import io

    from report_helpers import make_result, make_summary
    from rich.console import Console

    from agentcheck.report import console as console_module
    from agentcheck.serialize import dumps_bytes
    from agentcheck.verdict import Outcome, RunPlan

    class Counted(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            Counted.writes += 1
            return super().write(text)

    monkeypatch.setattr(console_module, "BATCH_FLUSH_S", 1e9)  # no time-based flush in this test
    out = Counted()
    reporter = console_module.ConsoleReporter(Console(file=out, width=160, soft_wrap=True))
    reporter.start(RunPlan("r", "t", "/", "/", [], 1))
    results = [make_result(i, f"s{i}") for i in range(200)]
    results[120] = make_result(120, "ta\tb", Outcome.FAILED, message="tab")  # printed by rich, mid-batch
    before = Counted.writes
    for result in results:
        reporter.saved_scenario([orjson.loads(dumps_bytes(result))], None)  # type: ignore[arg-type]
    assert Counted.writes - before < 20  # not one write per line
    reporter.finish(make_summary(results, gates=[]))
    names = [line.split()[1] for line in out.getvalue().splitlines()[1:201]]
    assert names == [r.scenario_id.split("\t")[0] for r in results]  # every line, in order


@pytest.mark.parametrize("text", ["", "plain", "a & b < c > d", "&amp; stays escaped once", 'q"uote',
                                  "tab\tnew\nline\r", "é 中 \ud800", "<<&&>>"])
def test_junit_escape_is_the_standard_librarys(text: str):
    """junit_xml.escape spells out xml.sax.saxutils.escape (whose import costs 20 ms)."""
    assert junit_xml.escape(text) == escape(text)
    assert junit_xml.escape(text, junit_xml.ATTR_ENTITIES) == escape(text, junit_xml.ATTR_ENTITIES)


def test_encoded_text_is_written_as_the_value_it_encodes():
    """An Encoded value dumps as the value would, in orjson and in the standard library's fallback
    (an integer past 64 bits elsewhere in the document: NaN stays NaN there, as before); a value
    orjson cannot encode is refused, so that nothing is shared."""
    from agentcheck.serialize import Encoded, dumps, dumps_bytes, encode

    rows = [{"scenario_id": "s", "pass_hat_k": {1: 1.0}, "mean_cost_usd": float("nan"), "tags": ["é", "x"]}]
    encoded = Encoded(rows)
    assert dumps_bytes({"a": encoded, "n": 1}) == dumps_bytes({"a": rows, "n": 1})
    assert dumps({"a": encoded, "n": 2**70}) == dumps({"a": rows, "n": 2**70})  # (json's road)
    assert "NaN" in dumps({"a": encoded, "n": 2**70})
    assert dumps_bytes(encoded) == dumps_bytes(rows) and encode(encoded) is rows
    with pytest.raises(TypeError):
        Encoded([{"tokens": 2**70}])
    deep: object = 1.0
    for _ in range(252):  # (fine on its own; past orjson's limit 4 levels down, in the stream's summary line)
        deep = [deep]
    orjson.dumps(deep)
    with pytest.raises(TypeError):
        Encoded(deep)


def test_the_stream_and_the_json_report_share_one_encoding_of_the_rows(shards: Path, monkeypatch):
    """The results stream's summary line and the JSON report hold the same text as when each encodes
    the scenario rows itself; the rows are encoded once."""
    from agentcheck import reporting
    from agentcheck.reliability import ScenarioStats

    def texts(name: str) -> tuple[str, str]:
        options = RunOptions(cwd=shards, json_path=shards / f"{name}.json", junit_path=False, md_path=False)
        summary = merge(options, [shards / "a.json", shards / "b.json"])
        stream = Path(summary.results_file).read_text().splitlines()[-1]
        return (re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{6}|\"duration_s\":[0-9.]+|\"started_at\":\"[^\"]*\"|"
                       rf"{name}\.json", "", stream),
                re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{6}|\"duration_s\":[0-9.]+|\"started_at\":\"[^\"]*\"|"
                       rf"{name}\.json", "", (shards / f"{name}.json").read_text()))

    encoded: list[int] = []
    dumps = orjson.dumps

    def counting(obj, *args, **kwargs):  # (every encoding of the rows goes through orjson.dumps)
        rows = obj.get("summary").release.scenarios if isinstance(obj, dict) and "summary" in obj else obj
        while isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], list):  # (Encoded nests them)
            rows = rows[0]
        if isinstance(rows, list) and rows and isinstance(rows[0], ScenarioStats):
            encoded.append(len(rows))
        return dumps(obj, *args, **kwargs)

    monkeypatch.setattr(orjson, "dumps", counting)
    shared = texts("shared")
    assert encoded == [12]
    monkeypatch.setattr(reporting, "_rows_encoded_once", lambda summary, reporters: lambda reporter: summary)
    each = texts("each")
    assert shared == each
    assert '"scenarios":[{"index":0,"scenario_id":"s0"' in shared[0]


def test_a_subclass_of_a_summary_writer_gets_the_summary_itself(shards: Path):
    """Only the classes that say so themselves (`summary_as_json`) are given the copy with the rows
    as text: a user's subclass of the JSON reporter may read them as objects."""
    from agentcheck.reliability import ScenarioStats
    from agentcheck.report.json_report import JsonReporter

    seen: list[object] = []

    class Reading(JsonReporter):
        def finish(self, summary):
            seen.append(summary.release.scenarios[0])
            super().finish(summary)

    from agentcheck.report.stream import ResultLog

    log = ResultLog(shards / "log.jsonl")
    options = RunOptions(cwd=shards, json_path=shards / "plain.json", junit_path=False, md_path=False,
                         reporters=[Reading(shards / "sub.json", log)])
    merge(options, [shards / "a.json", shards / "b.json"])
    assert len(seen) == 1 and isinstance(seen[0], ScenarioStats)
    assert json.loads((shards / "sub.json").read_text())["scenarios"] == json.loads(
        (shards / "plain.json").read_text())["scenarios"]
