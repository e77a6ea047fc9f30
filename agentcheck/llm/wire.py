"""The OpenAI Chat Completions wire format: usage read from responses, responses built from
scripted turns, and a whole response re-cut into server-sent-event chunks for streaming clients.

The proxy always asks its upstream for a whole (non-streamed) answer and streams it on itself, so a
recording is one response whichever way a client asked, and replay streams it identically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    counted: bool = False
    """True when the server reported no usage and the tokens were estimated here."""


def estimate_tokens(value: Any) -> int:
    """A rough token count (4 characters a token) for servers that report no usage."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return max(1, (len(text) + 3) // 4)


def usage_of(request: dict[str, Any], response: dict[str, Any]) -> Usage:
    """Tokens of one call from the response's `usage`, or estimated from the request and answer."""
    usage = response.get("usage")
    if isinstance(usage, dict) and ("prompt_tokens" in usage or "input_tokens" in usage):
        details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
        return Usage(
            int(usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0),
            int(usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0),
            int(details.get("cached_tokens", 0) or 0) if isinstance(details, dict) else 0,
        )
    answer = [c.get("message") for c in response.get("choices", []) if isinstance(c, dict)]
    return Usage(
        estimate_tokens(request.get("messages", request.get("input", ""))),
        estimate_tokens(answer or response.get("output", "")),
        counted=True,
    )


def completion(
    model: str,
    *,
    content: str | None,
    tool_calls: list[dict[str, Any]],
    usage: Usage,
    response_id: str,
) -> dict[str, Any]:
    """A Chat Completions response with one choice."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop", "logprobs": None}
        ],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }


def tool_call(call_id: str, name: str, args: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def sse_chunks(response: dict[str, Any], include_usage: bool) -> list[bytes]:
    """A whole chat completion as the `data:` events a streaming server sends, ending in [DONE]."""
    base = {k: response.get(k) for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    events: list[dict[str, Any]] = []
    for choice in response.get("choices", []):
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        events.append(base | {"choices": [{"index": index, "delta": {"role": "assistant", "content": ""}}]})
        if message.get("content"):
            events.append(base | {"choices": [{"index": index, "delta": {"content": message["content"]}}]})
        for position, call in enumerate(message.get("tool_calls") or []):
            delta = {"tool_calls": [{"index": position, "id": call.get("id"), "type": "function",
                                     "function": call.get("function", {})}]}
            events.append(base | {"choices": [{"index": index, "delta": delta}]})
        events.append(
            base | {"choices": [{"index": index, "delta": {}, "finish_reason": choice.get("finish_reason", "stop")}]}
        )
    if include_usage and response.get("usage") is not None:
        events.append(base | {"choices": [], "usage": response["usage"]})
    return [b"data: " + orjson.dumps(e) + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]


def error_body(message: str, kind: str = "agentcheck_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": kind}}
