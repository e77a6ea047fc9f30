"""Record/replay cassettes through the proxy: hits without network, misses that explain themselves,
`--record=missing`, and secrets that never reach a cassette or a report."""

from __future__ import annotations

import json
from pathlib import Path

from agentcheck.llm.cassette import first_difference, request_key
from agentcheck.session import RunOptions, run
from agentcheck.verdict import Outcome
from examples.standin_model import LoopbackModelServer, chat_response
from tests.e2e_helpers import cli
from tests.model_helpers import FIXTURES, project, run_project, scripted_server, tool_messages

SCENARIO = """
id: s1
input: "Refund A1"
expect: {tools: {calls: [{lookup: {id: A1}}]}, output: {contains: "R-9"}}
""" + FIXTURES


def refund_turn(body):
    if not tool_messages(body):
        return chat_response(body["model"], None, [("lookup", {"id": "A1"})])
    return chat_response(body["model"], "Refund R-9 issued.")


def record(tmp_path: Path, agent: str = "", extra: str = "") -> tuple[str, int]:
    with LoopbackModelServer(scripted_server([refund_turn] * 10)) as server:
        project(tmp_path, server.base_url, SCENARIO, agent=agent, extra=extra)
        _, results = run_project(tmp_path, record="all")
        assert results["s1"].outcome is Outcome.PASSED, results["s1"].message
        return server.base_url, len(server.requests)


def test_recorded_calls_replay_offline_with_identical_results(tmp_path: Path):
    base_url, live_requests = record(tmp_path)
    assert live_requests == 2
    cassette = tmp_path / "cassettes" / "s1" / "trial-1.json"
    data = json.loads(cassette.read_text())
    assert [i["request"]["endpoint"] for i in data["interactions"]] == [base_url + "/chat/completions"] * 2
    # The server is gone now: replay must not touch the network.
    _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert result.trace.output == "Refund R-9 issued."
    assert [c.source for c in result.trace.model_calls()] == ["cassette", "cassette"]
    assert [(c.input_tokens, c.output_tokens) for c in result.trace.model_calls()] == [(100, 20)] * 2


def test_a_changed_request_is_a_cassette_miss_naming_the_first_difference(tmp_path: Path):
    record(tmp_path, agent="system_prompt: Be brief.")
    config = tmp_path / "agentcheck.yaml"
    config.write_text(config.read_text().replace("Be brief.", "Be thorough."))
    done = cli("run", cwd=tmp_path)
    assert done.code == 1, done.out + done.err
    assert "cassette miss: no recording in" in done.out
    assert 'nearest differs at messages[0].content: recorded "Be brief.", now "Be thorough."' in done.out
    assert "agentcheck run --record=missing" in done.out


def test_a_trial_without_its_own_cassette_misses_instead_of_going_live(tmp_path: Path):
    """A scenario recorded for trial 1 only: its trial 2 is a cassette miss naming the file and the fix,
    not a call to the real endpoint; `--record=missing` then records just that trial."""
    base_url, _ = record(tmp_path)
    with LoopbackModelServer(scripted_server([refund_turn] * 10), port=int(base_url.rsplit(":", 1)[1].split("/")[0])) \
            as server:  # the recorded endpoint is up again: a trial that went live would reach it
        done = cli("run", "--trials", "2", cwd=tmp_path)
        assert done.code == 1, done.out + done.err
        assert "PASSED s1 (" in done.out and "ERROR s1 [trial 2]" in done.out
        assert "cassette miss: no cassette for trial 2" in done.out and server.requests == []
        assert "record it with `agentcheck run --trials 2 --record=missing`" in done.out
        summary = run(RunOptions(cwd=tmp_path, json_path=False, junit_path=False, record="missing", trials=2))
        assert summary.counts["passed"] == 2 and len(server.requests) == 2  # trial 2's two calls only
    assert (tmp_path / "cassettes" / "s1" / "trial-2.json").is_file()
    assert cli("run", "--trials", "2", cwd=tmp_path).code == 0  # both trials replay offline now


def test_record_missing_keeps_hits_and_records_only_misses(tmp_path: Path):
    record(tmp_path)
    cassette = tmp_path / "cassettes" / "s1" / "trial-1.json"
    before = cassette.read_text()
    scenarios = tmp_path / "scenarios" / "s.yaml"
    scenarios.write_text(scenarios.read_text().replace('input: "Refund A1"', 'input: "Refund A1 now"'))
    with LoopbackModelServer(scripted_server([refund_turn] * 10)) as server:
        config = tmp_path / "agentcheck.yaml"
        config.write_text(config.read_text().replace(_base_url_of(config), server.base_url))
        _, results = run_project(tmp_path, record="missing")
        assert len(server.requests) == 2
    assert results["s1"].outcome is Outcome.PASSED
    data = json.loads(cassette.read_text())
    assert len(data["interactions"]) == 4  # the two old recordings stay, the two new ones are added
    assert cassette.read_text() != before
    _, again = run_project(tmp_path)  # and now it replays offline
    assert [c.source for c in again["s1"].trace.model_calls()] == ["cassette", "cassette"]


def _base_url_of(config: Path) -> str:
    return next(line.split(": ", 1)[1] for line in config.read_text().splitlines() if "base_url" in line)


def test_keys_auth_headers_and_secret_patterns_never_reach_a_cassette(tmp_path: Path, monkeypatch):
    key = "sk-test-0123456789abcdefXYZ"
    monkeypatch.setenv("TEST_MODEL_KEY", key)

    def leaky(body):
        if not tool_messages(body):
            return chat_response(body["model"], None, [("lookup", {"id": "A1"})])
        return chat_response(body["model"], f"Refund R-9 issued. (debug: key {key}, ticket TKT-99812)")

    with LoopbackModelServer(scripted_server([leaky] * 4)) as server:
        project(tmp_path, server.base_url, SCENARIO,
                agent="system_prompt: 'Internal ticket TKT-55555. Never reveal it.'",
                extra="cassettes: {secret_patterns: ['TKT-[0-9]+']}")
        _, results = run_project(tmp_path, record="all")
        auth = [headers.get("authorization") for _, _, headers in server.requests]
    assert auth == [f"Bearer {key}"] * 2  # the proxy used the real key upstream...
    text = (tmp_path / "cassettes" / "s1" / "trial-1.json").read_text()
    assert key not in text and "TKT-" not in text  # ...and wrote neither it nor the patterns
    assert "authorization" not in text.lower() and "bearer" not in text.lower()
    assert "<redacted>" in text
    assert results["s1"].outcome is Outcome.PASSED
    # Replaying the scrubbed cassette still matches (the key is scrubbed the same way at replay).
    _, again = run_project(tmp_path)
    assert again["s1"].outcome is Outcome.PASSED, again["s1"].message


def test_the_key_leaves_out_volatile_fields_and_renumbers_tool_call_ids():
    body = {
        "model": "m", "stream": True, "stream_options": {"include_usage": True}, "user": "u-1",
        "messages": [
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "call_XyZ", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_XyZ", "content": "1"},
        ],
        "temperature": 0,
    }
    key = request_key("http://h/v1/", "/chat/completions", body)
    assert key == {
        "endpoint": "http://h/v1/chat/completions", "model": "m", "temperature": 0,
        "messages": [
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "1"},
        ],
    }
    assert first_difference(key, {**key, "model": "m2"}) == ("model", "m", "m2")
    assert first_difference(key, {**key, "seed": 1}) == ("seed", "<absent>", 1)
    assert first_difference(key, key) is None


def test_a_cost_budget_with_an_unpriced_model_refuses_to_start(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", SCENARIO, agent="model: acme-llm-7", extra="budget: {max_cost_usd: 1}")
    config = tmp_path / "agentcheck.yaml"
    config.write_text(config.read_text().replace("    model: gpt-4o-mini\n", "", 1))
    done = cli("run", cwd=tmp_path)
    assert done.code == 2, done.out + done.err
    assert "model 'acme-llm-7' has no price, but a cost budget or cost gate is set" in done.err
    assert "Traceback" not in done.err


def test_an_unreadable_cassette_is_an_error_of_its_scenario_not_a_crash(tmp_path: Path):
    record(tmp_path)
    cassette = tmp_path / "cassettes" / "s1" / "trial-1.json"
    cassette.write_text(cassette.read_text()[:200])
    _, results = run_project(tmp_path)
    assert results["s1"].outcome is Outcome.ERROR
    assert "cassettes/s1/trial-1.json cannot be read (JSONDecodeError" in results["s1"].message
    assert "agentcheck run --record" in results["s1"].message


def test_the_cli_records_with_a_bare_record_flag_and_refuses_unknown_modes(tmp_path: Path):
    with LoopbackModelServer(scripted_server([refund_turn] * 4)) as server:
        project(tmp_path, server.base_url, SCENARIO)
        done = cli("run", "--record", cwd=tmp_path)
        assert done.code == 0, done.out + done.err
        assert len(server.requests) == 2
    assert (tmp_path / "cassettes" / "s1" / "trial-1.json").is_file()
    assert cli("run", cwd=tmp_path).code == 0  # replayed, the server is gone
    bad = cli("run", "--record=sometimes", cwd=tmp_path)
    assert bad.code == 2
    assert "unknown record mode 'sometimes'" in bad.err


def test_offline_never_sends_a_request_to_a_model(tmp_path: Path):
    """A scenario with no cassette goes to the real endpoint by default; under --offline (or
    AGENTCHECK_OFFLINE=1) it is a cassette miss and no request leaves the machine."""
    with LoopbackModelServer(scripted_server([refund_turn] * 10)) as server:  # the endpoint is up
        project(tmp_path, server.base_url, SCENARIO)
        for how in ({"args": ["--offline"]}, {"args": [], "env": {"AGENTCHECK_OFFLINE": "1"}}):
            done = cli("run", *how["args"], cwd=tmp_path, env=how.get("env"))
            assert done.code == 1 and server.requests == [], done.out + done.err
            assert "cassette miss: this scenario has no cassette (" in done.out
            assert "cassettes/s1/trial-1.json), and --offline sends no request to a model" in done.out
            assert "record one with `agentcheck run --record=missing` (without --offline)" in done.out
        assert cli("run", cwd=tmp_path).code == 0 and len(server.requests) == 2  # by default: live
    both = cli("run", "--offline", "--record", cwd=tmp_path)
    assert both.code == 2 and "--offline replays cassettes only; --record calls the model" in both.err


def test_a_cassette_masks_what_the_reports_mask_and_still_replays(tmp_path: Path):
    """The project's `redact:` rules apply to cassettes too (its patterns, cards, sensitive keys inside
    a tool call's JSON arguments), and masking keeps the arguments valid JSON, so the cassette replays."""
    secret, card = "Tr0ub4dorPW-x", "4242 4242 4242 4242"

    def call_with_secrets(body):
        if not tool_messages(body):
            return chat_response(body["model"], None, [("refund", {"id": "A1", "password": secret,
                                                                   "api_key": "plainkey998877"})])
        return chat_response(body["model"], "Refund R-9 issued for CUST-4411.")

    scenario = ('id: s1\ninput: "Refund A1, card ' + card + '"\n'
                "expect: {tools: {calls: [{refund: {id: A1}}]}, output: {contains: R-9}}\n" + FIXTURES)
    with LoopbackModelServer(scripted_server([call_with_secrets] * 4)) as server:
        project(tmp_path, server.base_url, scenario, agent="system_prompt: 'Customer CUST-4411 asks.'",
                extra="redact: {patterns: ['CUST-[0-9]+']}")
        _, results = run_project(tmp_path, record="all")
        assert results["s1"].outcome is Outcome.PASSED, results["s1"].message
    text = (tmp_path / "cassettes" / "s1" / "trial-1.json").read_text()
    for leaked in (secret, "plainkey998877", card, "CUST-4411"):
        assert leaked not in text, leaked
    recorded = json.loads(text)["interactions"][0]["response"]["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(recorded["function"]["arguments"]) == {"id": "A1", "password": "[REDACTED]",
                                                              "api_key": "[REDACTED]"}
    done = cli("run", "--offline", cwd=tmp_path)  # the server is gone: replayed from the masked cassette
    assert done.code == 0 and "cassette miss" not in done.out, done.out + done.err
