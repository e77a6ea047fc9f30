"""Agents that bring their own model loop, pointed at the model proxy and changed in nothing else:
a plain `openai` client streaming its answers, and a LangGraph ReAct agent over langchain-openai."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agentcheck.verdict import Outcome
from examples.standin_model import LoopbackModelServer, chat_response
from tests.model_helpers import FIXTURES, TOOLS, run_project, scripted_server, tool_messages

STREAMING_AGENT = '''
import json
from openai import OpenAI

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def run(task, tools, context):
    client = OpenAI(base_url=context.model_base_url, api_key="unused")
    messages = [{"role": "user", "content": task.text}]
    while True:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True,
            stream_options={"include_usage": True},
        )
        text, calls = "", {}
        for chunk in stream:
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    slot = calls.setdefault(call.index, {"id": call.id, "name": "", "arguments": ""})
                    slot["name"] += call.function.name or ""
                    slot["arguments"] += call.function.arguments or ""
        if not calls:
            return text
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls.values()]})
        for c in calls.values():
            result = tools.call(c["name"], **json.loads(c["arguments"]))
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": json.dumps(result)})
'''

LANGGRAPH_AGENT = '''
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent


def run(task, tools, context):
    @tool
    def lookup(id: str) -> dict:
        """Look an order up."""
        return tools.call("lookup", id=id)

    @tool
    def refund(id: str) -> dict:
        """Refund an order."""
        return tools.call("refund", id=id)

    model = ChatOpenAI(model="gpt-4o-mini", base_url=context.model_base_url, api_key="unused", temperature=0)
    graph = create_react_agent(model, [lookup, refund])
    state = graph.invoke({"messages": [("user", task.text)]})
    return state["messages"][-1].content
'''


def python_project(root: Path, module: str, code: str, base_url: str, scenario: str) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(code))
    config = (
        f"version: 1\nagents:\n  bot:\n    kind: python\n    entrypoint: {module}:run\n"
        f"    model_proxy: true\n    model: gpt-4o-mini\n    base_url: {base_url}\n"
        f"{textwrap.dedent(TOOLS)}"
    )
    (root / "agentcheck.yaml").write_text(config)
    (root / "scenarios").mkdir()
    (root / "scenarios" / "s.yaml").write_text(textwrap.dedent(scenario).lstrip("\n") + FIXTURES)


def lookup_then_answer(body):
    results = tool_messages(body)
    if not results:
        return chat_response(body["model"], None, [("lookup", {"id": "A1"})])
    return chat_response(body["model"], f"A1 costs {results[0]['amount']}.")


def test_a_streaming_client_gets_server_sent_events_through_the_proxy(tmp_path: Path):
    with LoopbackModelServer(scripted_server([lookup_then_answer] * 2)) as server:
        python_project(tmp_path, "stream_bot", STREAMING_AGENT, server.base_url, """
id: s1
input: "What does A1 cost?"
expect: {tools: {mode: strict, calls: [{lookup: {id: A1}}]}, output: {equals: "A1 costs 10."}}
""")
        _, results = run_project(tmp_path)
        upstream_bodies = [body for _, body, _ in server.requests]
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert all("stream" not in body for body in upstream_bodies)  # the proxy streams by itself
    calls = result.trace.model_calls()
    assert [(c.source, c.input_tokens, c.output_tokens) for c in calls] == [("proxy", 100, 20)] * 2
    assert result.trace.totals.cost_usd > 0


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_a_langgraph_agent_runs_through_the_proxy_and_its_trace_is_judged(tmp_path: Path):
    def turn(body):
        results = tool_messages(body)
        if not results:
            return chat_response(body["model"], None, [("lookup", {"id": "A1"})])
        if len(results) == 1:
            return chat_response(body["model"], None, [("refund", {"id": "A1"})], turn=2)
        return chat_response(body["model"], f"Refunded A1 as {results[1]['refund_id']}.", turn=3)

    with LoopbackModelServer(scripted_server([turn] * 3)) as server:
        python_project(tmp_path, "graph_bot", LANGGRAPH_AGENT, server.base_url, """
id: s1
input: "Refund order A1"
expect:
  tools: {mode: strict, calls: [{lookup: {id: A1}}, {refund: {id: A1}}]}
  output: {contains: R-9}
  budget: {max_model_calls: 3}
""")
        _, results = run_project(tmp_path)
        requests = len(server.requests)
    result = results["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    assert requests == 3
    assert [c.source for c in result.trace.model_calls()] == ["proxy"] * 3
    assert [e.kind for e in result.trace.events] == ["model_call", "tool_call", "model_call", "tool_call",
                                                      "model_call"]


RESPONSES_AGENT = '''
from openai import OpenAI


def run(task, tools, context):
    client = OpenAI(base_url=context.model_base_url, api_key="unused")
    order = tools.call("lookup", id="A1")
    response = client.responses.create(model="gpt-4o-mini", input=f"Summarise: {order}")
    return response.output_text
'''


def responses_answer(path, body, headers):
    assert path == "/v1/responses"
    return 200, {
        "id": "resp_1", "object": "response", "created_at": 1, "model": body["model"], "status": "completed",
        "output": [{"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "A1 costs 10.", "annotations": []}]}],
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "usage": {"input_tokens": 50, "output_tokens": 5, "total_tokens": 55,
                  "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
    }, {}


def test_the_responses_api_is_recorded_and_replayed_too(tmp_path: Path):
    with LoopbackModelServer(responses_answer) as server:
        python_project(tmp_path, "responses_bot", RESPONSES_AGENT, server.base_url, """
id: s1
input: "A1?"
expect: {output: {equals: "A1 costs 10."}}
""")
        _, recorded = run_project(tmp_path, record="all")
    assert recorded["s1"].outcome is Outcome.PASSED, recorded["s1"].message
    _, replayed = run_project(tmp_path)
    result = replayed["s1"]
    assert result.outcome is Outcome.PASSED, result.message
    call = result.trace.model_calls()[0]
    assert (call.source, call.input_tokens, call.output_tokens) == ("cassette", 50, 5)
    assert call.cost_usd == 0.0000105  # 50 x 0.15 + 5 x 0.60, per million


def test_an_unpriced_model_met_at_run_time_under_a_cost_budget_is_an_error(tmp_path: Path):
    agent = (
        "from openai import OpenAI\n"
        "def run(task, tools, context):\n"
        "    client = OpenAI(base_url=context.model_base_url, api_key='unused')\n"
        "    reply = client.chat.completions.create(model='acme-7b', messages=[{'role': 'user', 'content': 'hi'}])\n"
        "    return reply.choices[0].message.content\n"
    )
    with LoopbackModelServer(scripted_server([chat_response("acme-7b", "hi")])) as server:
        python_project(tmp_path, "unpriced_bot", agent, server.base_url,
                       'id: s1\ninput: "hi"\nexpect: {budget: {max_cost_usd: 0.5}}\n')
        _, results = run_project(tmp_path)
    result = results["s1"]
    assert result.outcome is Outcome.ERROR
    assert result.message == ("model_error: model 'acme-7b' has no price, but a cost budget or cost gate is set;"
                              " add it under `pricing:` in agentcheck.yaml")
