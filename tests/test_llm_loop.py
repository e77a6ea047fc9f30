"""The `openai` agent kind and the model proxy, against a real HTTP model server on 127.0.0.1,
driven by the real `openai` client: the loop, parallel tool calls, cost, retries, routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcheck.verdict import Outcome
from examples.standin_model import LoopbackModelServer, chat_response
from tests.model_helpers import FIXTURES, project, run_project, scripted_server, tool_messages

ONE_SCENARIO = """
id: s1
input: "Refund A1"
""" + FIXTURES


def test_loop_runs_parallel_tool_calls_and_feeds_results_back_in_order(tmp_path: Path):
    turns = [
        chat_response("gpt-4o-mini", None, [("lookup", {"id": "A1"}), ("lookup", {"id": "Z9"})], turn=1),
        chat_response("gpt-4o-mini", None, [("refund", {"id": "A1"})], turn=2),
        chat_response("gpt-4o-mini", "Refunded A1 (R-9); Z9 does not exist.", turn=3),
    ]
    with LoopbackModelServer(scripted_server(turns)) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO + """
expect:
  tools: {mode: strict, calls: [{lookup: {id: A1}}, {lookup: {id: Z9}}, {refund: {id: A1}}]}
  output: {contains: R-9}
""", agent="system_prompt: Be brief.")
        summary, results = run_project(tmp_path)
        requests = [body for _, body, _ in server.requests]
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert result.trace.output == "Refunded A1 (R-9); Z9 does not exist."
    assert summary.exit_code == 0
    assert len(requests) == 3
    first = requests[0]
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert [t["function"]["name"] for t in first["tools"]] == ["lookup", "refund"]
    second = requests[1]
    # Both results of the parallel turn come back, in the order the model asked, with their ids.
    assert [m["tool_call_id"] for m in second["messages"] if m["role"] == "tool"] == ["call_1_1", "call_1_2"]
    assert tool_messages(second) == [
        {"amount": 10, "id": "A1"},
        {"error": {"message": "no such order", "status": 404, "type": "NotFound"}},
    ]
    model_calls = result.trace.model_calls()
    assert [(c.model, c.source, c.input_tokens, c.output_tokens) for c in model_calls] == [
        ("gpt-4o-mini", "proxy", 100, 20)
    ] * 3
    assert [e.kind for e in result.trace.events] == ["model_call", "tool_call", "tool_call", "model_call",
                                                      "tool_call", "model_call"]


def test_cost_comes_from_the_pricing_table_with_cached_tokens(tmp_path: Path):
    response = chat_response("gpt-4o-mini-2024-07-18", "done", usage=(1000, 200))
    response["usage"]["prompt_tokens_details"] = {"cached_tokens": 400}
    with LoopbackModelServer(scripted_server([response])) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO, extra="""
pricing:
  gpt-4o-mini: {input: 1.0, cached_input: 0.5, output: 2.0}
""")
        _, results = run_project(tmp_path)
    call = results["s1"].trace.model_calls()[0]
    # (600 uncached x 1.0 + 400 cached x 0.5 + 200 output x 2.0) / 1e6
    assert call.cost_usd == pytest.approx(0.0012)
    assert results["s1"].trace.totals.cost_usd == pytest.approx(0.0012)
    assert results["s1"].trace.totals.input_tokens == 1000


def test_429_and_5xx_are_retried_on_the_virtual_clock(tmp_path: Path):
    turns = [
        (429, {"error": {"message": "slow down"}}, {"retry-after": "7"}),
        (503, {"error": {"message": "busy"}}, {}),
        chat_response("gpt-4o-mini", "done"),
    ]
    with LoopbackModelServer(scripted_server(turns)) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO)
        _, results = run_project(tmp_path)
        attempts = len(server.requests)
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert attempts == 3
    call = result.trace.model_calls()[0]
    assert call.retries == ["HTTP 429; retried after 7s", "HTTP 503; retried after 1s"]
    # Retry-After 7 s, then 1 s of back-off: waited on the virtual clock, counted in the trace's time.
    assert result.trace.totals.virtual_wait_ms == pytest.approx(8000)
    assert result.trace.totals.wall_time_ms >= 8000


def test_retry_waits_count_against_the_time_budget(tmp_path: Path):
    turns = [(429, {"error": {"message": "slow down"}}, {"retry-after": "30"}), chat_response("gpt-4o-mini", "x")]
    with LoopbackModelServer(scripted_server(turns)) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO + "expect: {budget: {max_wall_time_s: 10}}\n")
        _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.FAILED
    assert "max_wall_time_s 10 exceeded" in result.message


def test_a_model_path_that_never_answers_ends_the_run_as_error(tmp_path: Path):
    def always_500(path, body, headers):
        return 500, {"error": {"message": "down"}}, {}

    with LoopbackModelServer(always_500) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO)
        _summary, results = run_project(tmp_path)
        attempts = len(server.requests)
    result = results["s1"]
    assert attempts == 4  # one try and three retries
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("model_error: no answer from http://127.0.0.1:")
    assert "after 4 attempts (last: HTTP 500)" in result.message
    call = result.trace.model_calls()[0]
    assert call.error is not None and len(call.retries) == 4


def test_a_non_retryable_upstream_error_is_an_error_with_its_message_minus_the_key(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TEST_MODEL_KEY", "k3y-value-never-shown")

    def unauthorised(path, body, headers):
        return 401, {"error": {"message": "Incorrect API key provided: k3y-value-never-shown"}}, {}

    with LoopbackModelServer(unauthorised) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO)
        _, results = run_project(tmp_path)
        attempts = len(server.requests)
    assert attempts == 1
    result = results["s1"]
    assert result.outcome is Outcome.ERROR
    assert result.message.endswith("HTTP 401: Incorrect API key provided: <redacted>")
    assert "k3y-value" not in repr(result.trace)


ROUTES = """
routes: {default: gpt-4o-mini, escalate: gpt-4o, rules: [after_tool_error]}
"""


def test_a_tool_error_escalates_to_the_escalation_model(tmp_path: Path):
    def turn(body):
        if not tool_messages(body):
            return chat_response(body["model"], None, [("lookup", {"id": "Z9"})])
        return chat_response(body["model"], "Z9 does not exist; handed off.")

    with LoopbackModelServer(scripted_server([turn, turn, turn, turn])) as server:
        project(tmp_path, server.base_url, """
scenarios:
  - id: escalates
    input: "Refund Z9"
    expect: {model_route: escalate}
  - id: expects-default
    input: "Refund Z9"
    expect: {model_route: default}
""" + FIXTURES, agent=ROUTES)
        _, results = run_project(tmp_path)
        models = sorted(body["model"] for _, body, _ in server.requests)
    assert models == ["gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4o-mini"]
    escalated = results["escalates"]
    assert escalated.outcome is Outcome.PASSED, escalated.message
    assert [(c.model, c.route) for c in escalated.trace.model_calls()] == [
        ("gpt-4o-mini", "default"), ("gpt-4o", "escalate")
    ]
    wrong = results["expects-default"]
    assert wrong.outcome is Outcome.FAILED
    assert wrong.message == "model.route: expected model route default, got escalate first at step 3 (gpt-4o)"


def test_an_invalid_tool_call_is_fed_back_and_escalates(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", """
id: s1
input: "Refund A1"
model_script:
  - tool_calls: [{lookup: {order: A1}}]
  - tool_calls: [{lookup: {id: A1}}]
  - content: "A1 costs 10."
expect:
  model_route: escalate
  output: {contains: "10"}
  advisory: [contract]
""" + FIXTURES,
            agent="routes: {default: gpt-4o-mini, escalate: gpt-4o, rules: [after_invalid_tool_call]}")
    _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert [c.source for c in result.trace.model_calls()] == ["scripted"] * 3
    assert [c.route for c in result.trace.model_calls()] == ["default", "escalate", "escalate"]
    assert [c.status.value for c in result.trace.tool_calls()] == ["invalid_args", "ok"]


def test_a_script_that_runs_out_is_an_error_naming_the_turn(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", """
id: s1
input: "Refund A1"
model_script:
  - tool_calls: [{lookup: {id: A1}}]
""" + FIXTURES)
    _, results = run_project(tmp_path)
    assert results["s1"].outcome is Outcome.ERROR
    assert results["s1"].message == "model_error: the scripted model has no turn 2 (the script has 1 turns)"


def test_a_model_request_that_times_out_is_retried(tmp_path: Path):
    slow_once = [True]

    def answer(path, body, headers):
        if slow_once.pop() if slow_once else False:
            import time

            time.sleep(0.5)  # past the 0.2 s request timeout: the proxy gives up on it and retries
        return 200, chat_response(body["model"], "done"), {}

    with LoopbackModelServer(answer) as server:
        project(tmp_path, server.base_url, ONE_SCENARIO, agent="request_timeout_s: 0.2\nmax_retries: 1")
        _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert result.trace.model_calls()[0].retries == ["timeout after 0.2s; retried after 0.5s"]


def test_a_hand_off_tool_call_ends_the_loop(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", """
id: s1
input: "Refund A1"
model_script:
  - tool_calls: [{refund: {id: A1}}]
  - content: "never asked for"
expect: {tools: {mode: strict, calls: [{refund: {id: A1}}]}, output: {equals: "Handed off to a human (refund)."}}
""" + FIXTURES, agent="options: {handoff_tools: [refund]}")
    _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert len(result.trace.model_calls()) == 1


def test_a_model_call_budget_stops_the_loop_as_a_budget_failure(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", """
id: s1
input: "Refund A1"
model_script:
  - tool_calls: [{lookup: {id: A1}}]
  - tool_calls: [{lookup: {id: A1}}]
  - tool_calls: [{lookup: {id: A1}}]
  - content: "done"
expect: {budget: {max_model_calls: 2}}
""" + FIXTURES)
    _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("budget.max_model_calls")
    assert result.trace.stop.message == "budget exceeded: max_model_calls 2 reached (call 3 refused)"
    assert len(result.trace.model_calls()) == 2
