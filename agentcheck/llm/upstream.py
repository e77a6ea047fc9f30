"""Calls to the real model endpoint, with bounded retries whose waits are virtual.

A timeout, a 429 or a 5xx is retried up to `max_retries` times. The wait before a retry is the
server's `Retry-After` (seconds or an HTTP date) when it sends one, else exponential back-off; it is
added to the run's virtual clock, so it counts against the time budget without costing wall time.
Each failed attempt is described for the trace; when retries run out the caller gets the reason.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from agentcheck.runner.clock import VirtualClock

RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504})
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0


@dataclass(slots=True)
class UpstreamResult:
    status: int
    body: Any
    latency_ms: float
    retries: list[str] = field(default_factory=list)
    error: str | None = None
    """Set when no answer came: the last failure, after every retry."""


def retry_after_s(value: str | None, attempt: int) -> float:
    """The wait before retry `attempt` (1-based): Retry-After when given, else 0.5 s doubling, capped."""
    if value:
        try:
            return min(max(float(value), 0.0), BACKOFF_CAP_S)
        except ValueError:
            try:
                return min(max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0), BACKOFF_CAP_S)
            except (TypeError, ValueError):
                pass
    return min(BACKOFF_BASE_S * 2 ** (attempt - 1), BACKOFF_CAP_S)


class Upstream:
    """A pooled HTTP client shared by every run of a session (one per process is enough)."""

    def __init__(self) -> None:
        self._client_: httpx.Client | None = None
        self._lock = threading.Lock()
        # Building the client (its TLS context) takes tens of ms: do it aside, before the first call.
        threading.Thread(target=lambda: self._client, name="agentcheck-upstream-init", daemon=True).start()

    @property
    def _client(self) -> httpx.Client:
        """Built on first use: a replay-only run never pays for the TLS setup."""
        with self._lock:
            if self._client_ is None:
                self._client_ = httpx.Client(limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
            return self._client_

    def close(self) -> None:
        if self._client_ is not None:
            self._client_.close()

    def post(
        self,
        url: str,
        body: dict[str, Any],
        *,
        api_key: str | None,
        timeout_s: float,
        max_retries: int,
        clock: VirtualClock,
    ) -> UpstreamResult:
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        retries: list[str] = []
        payload = orjson.dumps(body)
        started = time.perf_counter()
        for attempt in range(max_retries + 1):
            try:
                response = self._client.post(url, content=payload, headers=headers, timeout=timeout_s)
            except httpx.TimeoutException:
                failure, wait_header = f"timeout after {timeout_s:g}s", None
            except httpx.HTTPError as exc:
                return UpstreamResult(0, None, _ms(started), retries, f"cannot reach {url}: {exc}")
            else:
                if response.status_code not in RETRYABLE:
                    return UpstreamResult(response.status_code, _json(response), _ms(started), retries)
                failure, wait_header = f"HTTP {response.status_code}", response.headers.get("retry-after")
            if attempt == max_retries:
                retries.append(failure)
                break
            wait = retry_after_s(wait_header, attempt + 1)
            clock.advance(wait * 1000.0)
            retries.append(f"{failure}; retried after {wait:g}s")
        gave_up = f"no answer from {url} after {max_retries + 1} attempts (last: {retries[-1]})"
        return UpstreamResult(0, None, _ms(started), retries, gave_up)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": {"message": response.text[:500], "type": "upstream_not_json"}}
