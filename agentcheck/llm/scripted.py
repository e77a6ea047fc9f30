"""A scripted model: a scenario's `model_script` turns served as Chat Completions responses.

Turn N answers the N-th request of the run, whatever it says, so agent code paths (a tool error, a
hand-off, parallel calls) can be tested deterministically through the same endpoint as a real model.
"""

from __future__ import annotations

from typing import Any

from agentcheck.llm.wire import Usage, completion, estimate_tokens, tool_call


def script_turns(raw: Any) -> list[dict[str, Any]]:
    """Validated script turns (pydantic models or plain mappings) as plain dicts."""
    turns = []
    for turn in raw or ():
        data = turn.model_dump() if hasattr(turn, "model_dump") else dict(turn)
        turns.append(data)
    return turns


def scripted_response(turns: list[dict[str, Any]], index: int, request: dict[str, Any]) -> dict[str, Any] | str:
    """The response for request `index` (0-based), or why there is none."""
    if index >= len(turns):
        return f"the scripted model has no turn {index + 1} (the script has {len(turns)} turns)"
    turn = turns[index]
    calls = [
        tool_call(f"call_{index + 1}_{position + 1}", name, args)
        for position, entry in enumerate(turn.get("tool_calls") or [])
        for name, args in entry.items()
    ]
    content = turn.get("content")
    usage = Usage(
        turn.get("input_tokens") if turn.get("input_tokens") is not None else estimate_tokens(request.get("messages")),
        turn.get("output_tokens")
        if turn.get("output_tokens") is not None
        else estimate_tokens([content, [c["function"] for c in calls]]),
    )
    return completion(
        str(request.get("model", "scripted")), content=content, tool_calls=calls, usage=usage,
        response_id=f"chatcmpl-scripted-{index + 1}",
    )
