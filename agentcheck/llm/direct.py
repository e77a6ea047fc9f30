"""The built-in loop's shortcut to this process's own model proxy: no HTTP client, no HTTP at all.

The `openai` agent kind always talks to the run's proxy, which lives in this very process. Going
through the official client costs more CPU than everything else in a model call: it walks the
whole conversation against its request TypedDicts every turn (an identity for plain JSON
conversations), builds an HTTP request, and parses the answer back. `DirectChat` hands the request
body to `ModelHub.handle` as bytes, exactly what the client would have sent, and reads the answer
into the few fields the loop uses, under the client's attribute names (`Answer`; an answer of any
other shape gets the client's own `ChatCompletion`), so the proxy records, prices, replays and
budgets the call unchanged, and a run that never needs the client never imports it (0.5 s).
Requests the proxy refuses raise `ModelRequestError` (the proxy has already stopped the run with its
reason by then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from agentcheck.llm.binding import PLACEHOLDER_KEY
from agentcheck.llm.proxy import HUBS, ModelHub


class ModelRequestError(Exception):
    """The proxy answered a model request with an error status."""


def hub_at(base_url: str) -> ModelHub | None:
    """This process's proxy serving `base_url`, if it is one."""
    parts = urlsplit(base_url)
    if parts.hostname != "127.0.0.1" or parts.port is None:
        return None
    return HUBS.get(parts.port)


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    function: Function


@dataclass(frozen=True, slots=True)
class Message:
    content: str | None
    tool_calls: list[ToolCall] | None


@dataclass(frozen=True, slots=True)
class Choice:
    message: Message


@dataclass(frozen=True, slots=True)
class Answer:
    """What the built-in loop reads of a chat completion (`choices[0].message`: its content and tool
    calls), with the official client's attribute names."""

    choices: list[Choice]


def _answer(data: Any) -> Answer | None:
    """The answer as an `Answer`, or None unless it has exactly the usual shape (then the client's own
    loose construction is used, so an odd answer behaves as it would through the client)."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        return None
    built = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), (str, type(None))):
            return None
        raw_calls = message.get("tool_calls")
        calls = None
        if raw_calls is not None:
            if not isinstance(raw_calls, list):
                return None
            calls = []
            for call in raw_calls:
                function = call.get("function") if isinstance(call, dict) else None
                if (not isinstance(function, dict) or not isinstance(call.get("id"), str)
                        or not isinstance(function.get("name"), str) or not isinstance(function.get("arguments"), str)):
                    return None
                calls.append(ToolCall(call["id"], Function(function["name"], function["arguments"])))
        built.append(Choice(Message(message.get("content"), calls)))
    return Answer(built)


class DirectChat:
    """Chat Completions against an in-process proxy, for one run's base URL."""

    def __init__(self, hub: ModelHub, base_url: str):
        self._hub = hub
        self._path = urlsplit(base_url).path.rstrip("/") + "/chat/completions"

    def create(self, request: dict[str, Any], headers: dict[str, str]) -> Any:
        sent = {"authorization": f"Bearer {PLACEHOLDER_KEY}", "content-type": "application/json", **headers}
        reply = self._hub.handle("POST", self._path, sent, orjson.dumps(request))
        if reply.status != 200:
            raise ModelRequestError(f"Error code: {reply.status} - {reply.data.decode(errors='replace')}")
        data = orjson.loads(reply.data)
        answer = _answer(data)  # the usual answer, read without importing the client (0.5 s)
        if answer is not None:
            return answer
        # What the openai client does with a 200 JSON answer (non-strict validation): loose construction.
        from openai._models import construct_type
        from openai.types.chat import ChatCompletion

        return construct_type(type_=ChatCompletion, value=data)
