"""An httpx transport that hands requests for a live in-process proxy straight to it.

The built-in loop's `openai` client is the official one and speaks real HTTP; when its base URL is
this process's own proxy, the bytes go to `ModelHub.handle` directly instead of through a loopback
socket and `http.server` (which cost more CPU than the rest of the call). Any other URL goes out over
the network as usual.
"""

from __future__ import annotations

import httpx

from agentcheck.llm.proxy import HUBS


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, fallback: httpx.BaseTransport):
        self._fallback = fallback

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        hub = HUBS.get(url.port or 0) if url.host == "127.0.0.1" else None
        if hub is None:
            return self._fallback.handle_request(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        reply = hub.handle(request.method, url.raw_path.decode("ascii"), headers, request.read())
        return httpx.Response(reply.status, headers=reply.headers(), content=reply.data, request=request)

    def close(self) -> None:
        self._fallback.close()
