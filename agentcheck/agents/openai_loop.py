"""The `openai` agent kind: a built-in tool-calling loop over the official `openai` client.

The loop talks to the run's model proxy (never to the provider directly), so every turn is recorded,
priced, replayed from cassettes and held to budgets like any other agent's model traffic. It sends
the conversation with the catalog tools as function tools, runs the returned tool calls through the
gateway in order (parallel calls included, results fed back in the same order), and stops at a
final answer, a hand-off tool call (`options.handoff_tools`), or a budget cap.

Routes: the default model is used until an escalation rule fires (a tool error, an invalid tool
call); then the escalation model answers for the rest of the run. The route of each turn is sent
to the proxy in a header and recorded on the model call.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from agentcheck.agents.base import AgentLoadError, RunContext, ToolBox
from agentcheck.llm.binding import PLACEHOLDER_KEY, ROUTE_HEADER
from agentcheck.modelspec import ModelSettings
from agentcheck.project import AgentSpec
from agentcheck.scenario import AgentInput

INVALID_CALL_ERRORS = frozenset({"UnknownTool", "InvalidArguments"})


_WORKERS = ThreadPoolExecutor(max_workers=256, thread_name_prefix="agentcheck-model")
"""Threads that wait on model calls (I/O), so a high concurrency is not capped at a few cores' worth."""


async def _in_worker(call: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, call)


_CLIENT_ONLY = frozenset({"stream", "extra_body", "extra_headers", "extra_query", "timeout"})
"""`create` arguments that are not plain body fields (or that stream): these keep the client path."""


COMMON_BODY_FIELDS = frozenset({
    "temperature", "top_p", "seed", "max_tokens", "stop", "n", "presence_penalty", "frequency_penalty",
    "response_format", "logprobs", "top_logprobs", "logit_bias", "parallel_tool_calls", "tool_choice", "user",
})
"""Request options every client version's `chat.completions.create` takes as plain body fields: known
without importing the client (0.5 s). Anything else is looked up in the installed client's signature."""


def _plain_body(options: dict[str, Any]) -> bool:
    """Whether every request option is a plain body field of `create` (the direct path can send it)."""
    return set(options) <= COMMON_BODY_FIELDS or set(options) <= _create_parameters() - _CLIENT_ONLY


@functools.cache
def _create_parameters() -> frozenset[str]:
    """The request fields the official client's `chat.completions.create` accepts."""
    from openai.resources.chat.completions import Completions

    return frozenset(inspect.signature(Completions.create).parameters) - {"self"}


class ModelLoopError(Exception):
    """The model never gave a final answer within the loop's step limit."""


class OpenAIAgent:
    def __init__(self, spec: AgentSpec, project_root: Path):
        if spec.model is None or not spec.model.model:
            raise AgentLoadError(f"agent '{spec.name}' of kind openai needs a model", "add `model: gpt-4o-mini`")
        self.spec = spec
        self.settings: ModelSettings = spec.model
        self.handoff_tools = frozenset(spec.options.get("handoff_tools", ()))
        self._base: Any = None
        self._lock = threading.Lock()
        if not _plain_body(self.settings.request_options):
            # Import the client and build its pool now, while loading: done during the run, it would
            # block the event loop for a second and hold up every other scenario's clock. (Runs whose
            # options are plain body fields talk to the in-process proxy directly and need no client.)
            self._client("http://127.0.0.1/").chat.completions  # noqa: B018 - touching it imports it

    def _client(self, base_url: str) -> Any:
        """One pooled sync OpenAI client per adapter; each run gets a copy bound to its own base URL.

        Sync, called on worker threads: httpx's sync pool stays fast with dozens of concurrent
        requests, where its async pool spends more time sorting connections than waiting on them."""
        with self._lock:
            if self._base is None:
                import httpx
                from openai import OpenAI

                from agentcheck.llm.transport import InProcessTransport

                # Plain HTTP to the loopback proxy: no TLS context to build (costly), no proxy variables;
                # requests for this process's own proxy skip the socket altogether.
                limits = httpx.Limits(max_connections=1000, max_keepalive_connections=256)
                network = httpx.HTTPTransport(verify=False, trust_env=False, limits=limits)
                http = httpx.Client(transport=InProcessTransport(network), timeout=600.0)
                # The proxy does the retrying (on the virtual clock), so the client must not.
                self._base = OpenAI(api_key=PLACEHOLDER_KEY, base_url=base_url, max_retries=0, http_client=http)
            return self._base.with_options(base_url=base_url)

    def _chat(self, base_url: str) -> Callable[[dict[str, Any], dict[str, str]], Any]:
        """How this run asks for a completion: straight to the in-process proxy when the base URL is
        one (llm/direct.py), else through the official client. Options the client's `create` does
        not take, or a stream, keep the client path so they fail or stream exactly as they did."""
        from agentcheck.llm.direct import DirectChat, hub_at

        hub = hub_at(base_url)
        if hub is not None and _plain_body(self.settings.request_options):
            return DirectChat(hub, base_url).create
        bound: list[Any] = []  # the run's client, built once, on the worker thread that sends the first
        # request (a first import of the client never blocks the event loop)

        def create(request: dict[str, Any], headers: dict[str, str]) -> Any:
            if not bound:
                bound.append(self._client(base_url))
            return bound[0].chat.completions.create(**request, extra_headers=headers)

        return create

    async def run(self, task: AgentInput, tools: ToolBox, context: RunContext) -> Any:
        if context.model_base_url is None:
            raise ModelLoopError("no model proxy is bound to this run")
        chat = self._chat(context.model_base_url)
        settings = self.settings
        messages: list[dict[str, Any]] = []
        if settings.system_prompt:
            messages.append({"role": "system", "content": settings.system_prompt})
        messages += [{"role": m["role"], "content": m["content"]} for m in task.messages]
        if task.data is not None:
            messages.append({"role": "user", "content": "Data: " + json.dumps(task.data, sort_keys=True)})
        functions = [
            {"type": "function", "function": {"name": s["name"], "description": s["description"],
                                              "parameters": s["parameters"]}}
            for s in tools.specs()
        ]
        routes = settings.routes
        route = "default"
        for _ in range(settings.max_steps):
            model = (routes.escalate if route == "escalate" else routes.default) if routes else settings.model
            request: dict[str, Any] = {"model": model, "messages": messages, **settings.request_options}
            if functions:
                request["tools"] = functions
            headers = {ROUTE_HEADER: route} if routes else {}
            response = await _in_worker(partial(chat, request, headers))
            message = response.choices[0].message
            calls = list(message.tool_calls or [])
            turn: dict[str, Any] = {"role": "assistant", "content": message.content}
            if calls:
                turn["tool_calls"] = [
                    {"id": c.id, "type": "function",
                     "function": {"name": c.function.name, "arguments": c.function.arguments}}
                    for c in calls
                ]
            messages.append(turn)
            if not calls:
                return message.content or ""
            fired: set[str] = set()
            handed_off = None
            for call in calls:
                content, rule = self._execute(tools, call.function.name, call.function.arguments)
                if rule:
                    fired.add(rule)
                if call.function.name in self.handoff_tools and rule is None:
                    handed_off = call.function.name
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
            if handed_off is not None:
                return message.content or f"Handed off to a human ({handed_off})."
            if routes and routes.escalate and fired & set(routes.rules):
                route = "escalate"
        raise ModelLoopError(f"no final answer after {settings.max_steps} model turns (max_steps)")

    @staticmethod
    def _execute(tools: ToolBox, name: str, raw_args: str) -> tuple[str, str | None]:
        """Run one tool call; returns the content fed back and the escalation rule it fires, if any."""
        try:
            args = json.loads(raw_args or "{}")
        except json.JSONDecodeError as exc:
            error = {"error": {"type": "InvalidArguments", "message": f"arguments are not JSON: {exc}"}}
            return json.dumps(error), "after_invalid_tool_call"
        response = tools.invoke(name, args)
        if response.error is None:
            return json.dumps(response.value, sort_keys=True, default=str), None
        rule = "after_invalid_tool_call" if response.error.error_class in INVALID_CALL_ERRORS else "after_tool_error"
        return json.dumps(response.error.to_payload(), sort_keys=True), rule
