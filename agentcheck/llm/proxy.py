"""The model proxy: a local OpenAI-compatible endpoint on 127.0.0.1, one per session.

Each run gets its own base URL (`http://127.0.0.1:<port>/run/<trace id>/v1`), so concurrent runs
share one server yet every request lands in its own trace. A request is answered, in this order,
from the scenario's script, from the run's cassette, or from the real upstream (recorded when
recording). Every answer is recorded as a model call with tokens, cost, latency and route, and
counts against the run's budgets; a run that is stopped, or a model path that gives no answer, gets
a non-retryable error so the agent's client ends instead of retrying.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agentcheck.llm.binding import PLACEHOLDER_KEY, ROUTE_HEADER
from agentcheck.llm.cassette import Cassette, Interaction, Scrubber, cassette_path, request_key
from agentcheck.llm.scripted import scripted_response
from agentcheck.llm.upstream import Upstream
from agentcheck.llm.wire import error_body, sse_chunks, usage_of
from agentcheck.modelspec import ModelPrice, ModelSettings, find_price
from agentcheck.runner.clock import VirtualClock
from agentcheck.runner.recorder import RunRecorder
from agentcheck.runner.signals import RunStopped

if TYPE_CHECKING:
    from agentcheck.redact import Redactor
from agentcheck.trace import StopKind

SHUTDOWN_POLL_S = 0.02
"""How often the proxy's server loop checks for a shutdown request."""

_PATH = re.compile(r"^/run/(?P<run>[0-9a-f]+)/v1(?P<path>/.*)$")


@dataclass(slots=True)
class RunBinding:
    """One run's view of the proxy: where to record, what to replay, what to script."""

    scenario_id: str
    recorder: RunRecorder
    clock: VirtualClock
    settings: ModelSettings | None
    cassette: Cassette
    replay: bool
    save: bool
    script: list[dict[str, Any]] | None
    script_index: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(slots=True)
class Answer:
    status: int
    body: Any
    latency_ms: float = 0.0
    source: str = "proxy"
    retries: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Reply:
    status: int
    content_type: str
    data: bytes

    @classmethod
    def json(cls, status: int, body: Any) -> Reply:
        return cls(status, "application/json", orjson.dumps(body))

    def headers(self) -> dict[str, str]:
        headers = {"content-type": self.content_type, "content-length": str(len(self.data))}
        if self.status >= 400:
            headers["x-should-retry"] = "false"  # the openai client must not retry what the proxy refused
        return headers


HUBS: dict[int, ModelHub] = {}
"""Live proxies by port, so an in-process client can reach one without a socket (llm/transport.py)."""


class ModelHub:
    """The session's proxy server and the runs bound to it."""

    def __init__(
        self,
        *,
        pricing: dict[str, ModelPrice],
        cassette_dir: Path,
        secret_patterns: tuple[str, ...] = (),
        record: str = "none",
        require_prices: bool = False,
        redactor: Redactor | None = None,
    ):
        self.pricing = pricing
        self.redactor = redactor
        """The project's report redactor (agentcheck.redact): cassettes mask what reports mask."""
        self.cassette_dir = cassette_dir
        self.record = record
        self.secret_patterns = secret_patterns
        self.runs: dict[str, RunBinding] = {}
        self._scrubbers: dict[str, Scrubber] = {}
        self.require_prices = require_prices
        self.upstream = Upstream()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.hub = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        HUBS[self.port] = self
        # serve_forever notices a shutdown only between polls: at the default 0.5 s, closing the hub
        # held the end of every run up by a quarter second on average; an idle poll costs microseconds.
        serve = functools.partial(self.server.serve_forever, poll_interval=SHUTDOWN_POLL_S)
        self._thread = threading.Thread(target=serve, name="agentcheck-model-proxy", daemon=True)
        self._thread.start()

    def open_run(
        self,
        run_key: str,
        *,
        scenario_id: str,
        trial: int,
        recorder: RunRecorder,
        clock: VirtualClock,
        settings: ModelSettings | None,
        script: list[dict[str, Any]] | None = None,
    ) -> str:
        """Bind a run; returns the base URL its agent should use."""
        path = cassette_path(self.cassette_dir, scenario_id, trial)
        fresh = self.record == "all"
        cassette = Cassette(path, scenario_id, trial) if fresh else Cassette.load(path, scenario_id, trial)
        self.runs[run_key] = RunBinding(
            scenario_id=scenario_id,
            recorder=recorder,
            clock=clock,
            settings=settings,
            cassette=cassette,
            # a trial with no file of its own, of a scenario recorded for other trials, misses (no
            # network) rather than reaching the real endpoint unasked
            replay=self.record == "offline" or (
                not fresh and (path.is_file() or (self.record == "none" and _has_recordings(path.parent)))),
            save=self.record in ("all", "missing"),
            script=script,
        )
        return f"http://127.0.0.1:{self.port}/run/{run_key}/v1"

    def close_run(self, run_key: str) -> None:
        """Unbind a run, saving its cassette when it recorded something."""
        binding = self.runs.pop(run_key, None)
        if binding is not None and binding.save and binding.cassette.dirty:
            binding.cassette.save(self._scrubber(binding.settings))

    def close(self) -> None:
        HUBS.pop(self.port, None)
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()

    def _scrubber(self, settings: ModelSettings | None) -> Scrubber:
        """One scrubber per key variable (built once: every request's key passes through it)."""
        env = settings.api_key_env if settings else ""
        scrubber = self._scrubbers.get(env)
        if scrubber is None:
            scrubber = self._scrubbers[env] = Scrubber(self.secret_patterns, [os.environ.get(env, "") if env else ""],
                                                        self.redactor)
        return scrubber

    # --- answering ----------------------------------------------------------------------------------

    def handle(self, method: str, url_path: str, headers: dict[str, str], raw: bytes) -> Reply:
        """One HTTP request to the proxy, whichever way it arrived (socket or in-process transport)."""
        match = _PATH.match(url_path)
        binding = self.runs.get(match["run"]) if match else None
        if binding is None or match is None:
            return Reply.json(404, error_body(f"no run is bound to {url_path} (did the run end?)", "not_found"))
        path = match["path"]
        if method == "GET":
            if path != "/models":
                return Reply.json(404, error_body(f"no such path: {url_path}", "not_found"))
            models = binding.settings.models() if binding.settings else ()
            return Reply.json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "owned_by": "agentcheck"} for m in models]})
        try:
            return self._post(binding, path, headers, raw)
        except Exception as exc:  # a proxy fault ends the run as an error, never hangs the agent
            reason = f"model proxy fault: {type(exc).__name__}: {exc}"
            binding.recorder.halt(StopKind.MODEL_ERROR, reason)
            return Reply.json(500, error_body(reason))

    def _post(self, binding: RunBinding, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        try:
            body = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            return Reply.json(400, error_body("the request body is not JSON", "invalid_request_error"))
        if body.get("stream") and path != "/chat/completions":
            reason = f"streaming is served for /chat/completions only, not {path}; ask without stream"
            return Reply.json(400, error_body(reason, "invalid_request_error"))
        stop = binding.recorder.stopped
        if stop is not None:
            return Reply.json(400, error_body(f"the run was stopped: {stop.message}", "agentcheck_run_stopped"))
        answer = self.answer(binding, path, body, headers)
        if answer.status == 200:
            try:
                self.account(binding, body, headers, answer)
            except RunStopped as exc:
                return Reply.json(400, error_body(f"the run was stopped: {exc.reason}", "agentcheck_run_stopped"))
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                return Reply(200, "text/event-stream", b"".join(sse_chunks(answer.body, include_usage)))
        return Reply.json(answer.status, answer.body)

    def answer(self, binding: RunBinding, path: str, body: dict[str, Any], headers: dict[str, str]) -> Answer:
        if binding.script is not None and path == "/chat/completions":
            with binding.lock:
                index = binding.script_index
                binding.script_index += 1
            scripted = scripted_response(binding.script, index, body)
            if isinstance(scripted, str):
                return self._give_up(binding, body, headers, scripted)
            return Answer(200, scripted, source="scripted")
        settings = binding.settings or ModelSettings(model="")
        upstream_body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        key: dict[str, Any] = {}
        if binding.replay or binding.save:  # a pass-through call needs no key (scrubbing it costs)
            key = self._scrubber(binding.settings).scrub(request_key(settings.base_url, path, upstream_body))
        if binding.replay:
            found = binding.cassette.take(key)
            if isinstance(found, Interaction):
                return Answer(found.status, found.response, found.latency_ms, source="cassette")
            if not binding.save:
                return self._give_up(binding, body, headers, found.message)
        result = self.upstream.post(
            settings.base_url + path,
            upstream_body,
            api_key=os.environ.get(settings.api_key_env) or _client_key(headers),
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
            clock=binding.clock,
        )
        if result.error is not None:
            return self._give_up(binding, body, headers, result.error, result.retries, result.latency_ms)
        if result.status != 200:
            message = _error_message(result.body)
            reason = f"the model endpoint answered HTTP {result.status}: {message}"
            return self._give_up(binding, body, headers, reason, result.retries, result.latency_ms)
        if binding.save and result.status == 200:
            binding.cassette.add(key, result.status, result.body, result.latency_ms)
        return Answer(result.status, result.body, result.latency_ms, retries=result.retries)

    def _give_up(
        self,
        binding: RunBinding,
        body: dict[str, Any],
        headers: dict[str, str],
        reason: str,
        retries: list[str] | None = None,
        latency_ms: float = 0.0,
    ) -> Answer:
        """No answer on the model path: record the failed call, end the run as an error.

        The reason is scrubbed: a provider's error text may quote the key it refused."""
        reason = self._scrubber(binding.settings).scrub(reason)
        with contextlib.suppress(RunStopped):
            binding.recorder.record_model_call(
                str(body.get("model", "")), latency_ms=latency_ms, route=headers.get(ROUTE_HEADER),
                source="proxy", retries=retries, error=reason,
            )
        binding.recorder.halt(StopKind.MODEL_ERROR, reason)
        return Answer(400, error_body(reason), latency_ms, retries=retries or [])

    def account(self, binding: RunBinding, body: dict[str, Any], headers: dict[str, str], answer: Answer) -> None:
        """Record an answered call in the trace: tokens, cost, latency, route, source."""
        response = answer.body if isinstance(answer.body, dict) else {}
        usage = usage_of(body, response)
        model = str(body.get("model") or response.get("model") or "")
        price = find_price(model, self.pricing) or find_price(str(response.get("model", "")), self.pricing)
        if price is None and (self.require_prices or binding.recorder.budget.max_cost_usd is not None):
            reason = (f"model '{model}' has no price, but a cost budget or cost gate is set;"
                      " add it under `pricing:` in agentcheck.yaml")
            self._give_up(binding, body, headers, reason)
            raise RunStopped(reason)
        cost = price.cost(usage.input_tokens, usage.output_tokens, usage.cached_tokens) if price else 0.0
        binding.recorder.record_model_call(
            model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=cost,
            latency_ms=answer.latency_ms,
            route=headers.get(ROUTE_HEADER),
            source=answer.source,
            retries=answer.retries,
            error=None if answer.status == 200 else f"HTTP {answer.status}",
        )


def _error_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    return orjson.dumps(body).decode()[:300]


def _client_key(headers: dict[str, str]) -> str | None:
    """The agent's own key, passed on when the project names no key variable of its own."""
    value = headers.get("authorization", "")
    token = value[7:].strip() if value.lower().startswith("bearer ") else ""
    return token if token and token != PLACEHOLDER_KEY else None


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    """A deep listen backlog: at high concurrency many agents connect at once."""
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "agentcheck-proxy"
    disable_nagle_algorithm = True
    """Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms per call."""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the trace is the log."""

    def do_GET(self) -> None:
        self._reply(self.server.hub.handle("GET", self.path, {}, b""))  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._reply(self.server.hub.handle("POST", self.path, headers, raw))  # type: ignore[attr-defined]

    def _reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers().items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.data)


def _has_recordings(folder: Path) -> bool:
    """Whether a scenario's cassette folder holds any trial's recordings."""
    return folder.is_dir() and any(folder.glob("trial-*.json"))
