"""The built-in loop's shortcut to this process's own model proxy: no HTTP client, no HTTP at all.

The `openai` agent kind always talks to the run's proxy, which lives in this very process. Going
through the official client costs more CPU than everything else in a model call: it walks the
whole conversation against its request TypedDicts every turn (an identity for plain JSON
conversations), builds an HTTP request, and parses the answer back. `DirectChat` hands the request
body to `ModelHub.handle` as bytes, exactly what the client would have sent, and builds the same
`ChatCompletion` object from the answer that the client builds, so the proxy records, prices,
replays and budgets the call unchanged. Requests the proxy refuses raise `ModelRequestError` (the
proxy has already stopped the run with its reason by then).
"""

from __future__ import annotations

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


class DirectChat:
    """Chat Completions against an in-process proxy, for one run's base URL."""

    def __init__(self, hub: ModelHub, base_url: str):
        self._hub = hub
        self._path = urlsplit(base_url).path.rstrip("/") + "/chat/completions"
        from openai._models import construct_type
        from openai.types.chat import ChatCompletion

        self._construct = construct_type
        self._type = ChatCompletion

    def create(self, request: dict[str, Any], headers: dict[str, str]) -> Any:
        sent = {"authorization": f"Bearer {PLACEHOLDER_KEY}", "content-type": "application/json", **headers}
        reply = self._hub.handle("POST", self._path, sent, orjson.dumps(request))
        if reply.status != 200:
            raise ModelRequestError(f"Error code: {reply.status} - {reply.data.decode(errors='replace')}")
        # What the openai client does with a 200 JSON answer (non-strict validation): loose construction.
        return self._construct(type_=self._type, value=orjson.loads(reply.data))
