"""The built-in loop's shortcut to the in-process proxy (llm/direct.py) and the upstream client pool:
they must send, record and answer exactly what the official-client path does."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agentcheck.agents import openai_loop
from agentcheck.llm import direct
from agentcheck.llm.upstream import Upstream
from agentcheck.runner.clock import VirtualClock
from agentcheck.verdict import Outcome
from examples.standin_model import LoopbackModelServer, chat_response
from tests.model_helpers import FIXTURES, project, run_project, scripted_server

SCENARIO = """
id: s1
input: "Refund A1"
""" + FIXTURES + """
expect:
  tools: {mode: strict, calls: [{lookup: {id: A1}}, {lookup: {id: Z9}}, {refund: {id: A1}}]}
"""

TURNS = [
    chat_response("gpt-4o-mini", None, [("lookup", {"id": "A1"}), ("lookup", {"id": "Z9"})], turn=1),
    chat_response("gpt-4o-mini", None, [("refund", {"id": "A1"})], turn=2),
    chat_response("gpt-4o-mini", "Refunded A1 (R-9).", turn=3),
]


def _run(tmp_path: Path, agent: str = "system_prompt: Be brief.\nrequest_options: {seed: 7, top_p: 0.5}"):
    tmp_path.mkdir()
    with LoopbackModelServer(scripted_server(list(TURNS))) as server:
        project(tmp_path, server.base_url, SCENARIO, agent=agent)
        _, results = run_project(tmp_path)
        upstream = [(path, body) for path, body, _ in server.requests]
    trace = results["s1"].trace
    calls = [(c.model, c.source, c.input_tokens, c.output_tokens, c.cost_usd, c.route, c.error)
             for c in trace.model_calls()]
    return results["s1"], upstream, calls, [e.kind for e in trace.events]


def test_the_direct_path_sends_and_records_what_the_client_path_does(tmp_path: Path, monkeypatch):
    used: list[str] = []
    real_create = direct.DirectChat.create

    def counting(self, request, headers):
        used.append(request["model"])
        return real_create(self, request, headers)

    monkeypatch.setattr(direct.DirectChat, "create", counting)
    fast, fast_upstream, fast_calls, fast_events = _run(tmp_path / "fast")
    assert len(used) == 3  # every turn took the shortcut
    monkeypatch.setattr(direct, "hub_at", lambda url: None)  # the official client over HTTP instead
    slow, slow_upstream, slow_calls, slow_events = _run(tmp_path / "client")
    assert len(used) == 3
    assert fast.outcome is slow.outcome is Outcome.PASSED, (fast.message, slow.message)
    assert fast.trace.output == slow.trace.output == "Refunded A1 (R-9)."
    assert fast_upstream == slow_upstream
    assert fast_upstream[0][1]["seed"] == 7 and fast_upstream[0][1]["top_p"] == 0.5
    assert fast_calls == slow_calls and fast_events == slow_events


def test_the_client_would_send_the_loop_requests_unchanged():
    """The shortcut skips the client's request transform; for the loop's plain-JSON conversations
    that transform is the identity, which this pins for the installed client."""
    from openai._utils import maybe_transform
    from openai.types.chat import completion_create_params

    request = {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "seed": 7,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Refund A1 ☃"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"id": "A1"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"amount": 10}'},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "Find an order.",
                   "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}],
    }
    assert maybe_transform(request, completion_create_params.CompletionCreateParamsNonStreaming) == request


@pytest.mark.parametrize(("options", "direct_path"), [
    ({}, True), ({"seed": 1, "top_p": 0.5}, True),
    ({"stream": True}, False), ({"extra_body": {"x": 1}}, False), ({"repetition_penalty": 1.1}, False),
])
def test_options_the_client_treats_specially_keep_the_client_path(tmp_path: Path, options, direct_path):
    from agentcheck.llm.proxy import ModelHub

    agent = openai_loop.OpenAIAgent.__new__(openai_loop.OpenAIAgent)
    agent.settings = type("S", (), {"request_options": options})()
    agent._base, agent._lock = None, threading.Lock()
    hub = ModelHub(pricing={}, cassette_dir=tmp_path)
    try:
        chat = agent._chat(f"http://127.0.0.1:{hub.port}/run/abc/v1")
        assert isinstance(getattr(chat, "__self__", None), direct.DirectChat) is direct_path
    finally:
        hub.close()
    assert direct.hub_at("http://127.0.0.1:1/v1") is None
    assert direct.hub_at(f"http://localhost:{hub.port}/v1") is None


def test_concurrent_upstream_requests_each_borrow_their_own_client():
    gate = threading.Barrier(4)

    def answer(path, body, headers):
        gate.wait(timeout=10)  # all four are in flight at once
        return 200, {"ok": body["n"]}, {}

    upstream = Upstream()
    results: dict[int, object] = {}
    with LoopbackModelServer(answer) as server:
        def call(n: int) -> None:
            result = upstream.post(server.base_url + "/chat/completions", {"n": n}, api_key=None,
                                   timeout_s=10, max_retries=0, clock=VirtualClock())
            results[n] = result.body
        threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {n: {"ok": n} for n in range(4)}
        assert len(upstream._all) == len(upstream._idle) == 4
        call(9)  # a later request reuses an idle client rather than building one
        assert len(upstream._all) == 4
    upstream.close()
    assert upstream._all == [] and upstream._idle == []


def test_the_options_known_without_the_client_are_plain_body_fields_of_create():
    """The direct path decides on common options without importing the client; the installed
    client's `create` takes every one of them as a plain body field."""
    plain = openai_loop._create_parameters() - openai_loop._CLIENT_ONLY
    assert not openai_loop.COMMON_BODY_FIELDS - plain


ANSWERS = [
    chat_response("gpt-4o-mini", "Refunded.", turn=1),
    chat_response("gpt-4o-mini", None, [("lookup", {"id": "A1"}), ("refund", {"id": "A1"})], turn=2),
    {"choices": [{"message": {"role": "assistant", "content": "", "tool_calls": []}}]},
    {"choices": [{"message": {"role": "assistant", "content": None}}], "usage": None},
]
ODD = [
    {"choices": []},
    {"choices": [{"message": {"content": [{"type": "text", "text": "parts"}]}}]},
    {"choices": [{"message": {"content": None, "tool_calls": [{"function": {"name": "x", "arguments": "{}"}}]}}]},
    {"choices": [{"message": {"content": None, "tool_calls": {"id": "c1"}}}]},
    {"error": "no choices"},
]


@pytest.mark.parametrize("data", ANSWERS)
def test_the_direct_answer_reads_as_the_clients_chat_completion(data):
    """What the loop reads of an answer (choices[0].message: content, tool calls' id, name and
    arguments) is what the official client's object gives."""
    from openai._models import construct_type
    from openai.types.chat import ChatCompletion

    def read(answer):
        message = answer.choices[0].message
        calls = [(c.id, c.function.name, c.function.arguments) for c in (message.tool_calls or [])]
        return message.content, calls

    light = direct._answer(data)
    assert light is not None and read(light) == read(construct_type(type_=ChatCompletion, value=data))


@pytest.mark.parametrize("data", ODD)
def test_an_answer_of_another_shape_gets_the_clients_own_object(data):
    assert direct._answer(data) is None  # DirectChat then builds the client's ChatCompletion


def test_a_run_of_the_openai_kind_never_imports_the_client(tmp_path: Path):
    """The example's recorded LLM scenario replays through the direct path: `import openai` (0.5 s of
    start-up) never happens."""
    import subprocess
    import sys

    from e2e_helpers import copy_example

    example = tmp_path / "example"
    example.mkdir()
    copy_example(example)
    script = ("import sys\nfrom pathlib import Path\nfrom agentcheck.session import RunOptions, run\n"
              "summary = run(RunOptions(cwd=Path('.'), keywords=['llm-refund-damaged-order'], json_path=False,"
              " junit_path=False, md_path=False))\n"
              "print(summary.counts['passed'], 'openai' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=example, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "False"], done.stdout + done.stderr
