"""Calls to the real model endpoint, with bounded retries whose waits are virtual.

A timeout, a 429 or a 5xx is retried up to `max_retries` times. The wait before a retry is the
server's `Retry-After` (seconds or an HTTP date) when it sends one, else exponential back-off; it is
added to the run's virtual clock, so it counts against the time budget without costing wall time.
Each failed attempt is described for the trace; when retries run out the caller gets the reason.
"""

from __future__ import annotations

import ssl
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
    """Pooled HTTP clients shared by every run of a session (one set per process is enough).

    Each request borrows a client of its own and gives it back: one httpx client shared by 32
    concurrent requests spends more CPU scanning its connection pool (every request walks every
    connection, under a lock) than on the request itself. A borrowed client holds one keep-alive
    connection, so its pool is a single entry; the TLS context, costly to build, is built once and
    shared by all of them."""

    def __init__(self) -> None:
        self._idle: list[httpx.Client] = []
        self._all: list[httpx.Client] = []
        self._ssl: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        # Building the TLS context takes tens of ms: do it aside, before the first call.
        threading.Thread(target=self._tls, name="agentcheck-upstream-init", daemon=True).start()

    def _tls(self) -> ssl.SSLContext:
        """Built on first use: a replay-only run never pays for the TLS setup."""
        with self._lock:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            return self._ssl

    def _borrow(self) -> httpx.Client:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        client = httpx.Client(verify=self._tls(), limits=httpx.Limits(max_connections=8, max_keepalive_connections=1))
        with self._lock:
            self._all.append(client)
        return client

    def _give_back(self, client: httpx.Client) -> None:
        with self._lock:
            self._idle.append(client)

    def close(self) -> None:
        with self._lock:
            clients, self._all, self._idle = self._all, [], []
        for client in clients:
            client.close()

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
        payload = orjson.dumps(body)
        started = time.perf_counter()
        client = self._borrow()
        try:
            return self._attempts(client, url, payload, headers, timeout_s, max_retries, clock, started)
        finally:
            self._give_back(client)

    @staticmethod
    def _attempts(
        client: httpx.Client,
        url: str,
        payload: bytes,
        headers: dict[str, str],
        timeout_s: float,
        max_retries: int,
        clock: VirtualClock,
        started: float,
    ) -> UpstreamResult:
        retries: list[str] = []
        for attempt in range(max_retries + 1):
            try:
                response = client.post(url, content=payload, headers=headers, timeout=timeout_s)
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
    """The body as JSON: orjson first (several times faster), the standard parser for what it refuses
    (NaN, integers past 64 bits), so the result is what `response.json()` gives."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError:
        return {"error": {"message": response.text[:500], "type": "upstream_not_json"}}
