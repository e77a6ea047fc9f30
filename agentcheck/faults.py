"""Fault kinds a mocked tool can answer with, turned into ordinary fixture responses.

A fault is written in one line of a fixture (`fault: throttle`, `fault: {kind: timeout}`) and is
compiled here, once, into a :class:`~agentcheck.scenario.FixtureResponse`: an error with the status
and Retry-After a real API would send, a value that is garbage, stale or partial, or a marker the
gateway acts on at call time (a timeout needs the tool's own timeout; a duplicate delivery answers
the next call again). Keeping faults as plain responses means sequences, rules, defaults and
probabilities work for them exactly as for hand-written answers.
"""

from __future__ import annotations

import copy
import json
import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from agentcheck.scenario import FixtureResponse, SourceRef, ToolErrorSpec

FAULT_KINDS: dict[str, str] = {
    "throttle": "429 (or 503) with a Retry-After header, in seconds or as an HTTP date",
    "timeout": "no answer within the tool's timeout_s; fails with a ToolTimeout error",
    "http_error": "an HTTP error: retryable 502/503/504 or non-retryable 400/401/403/404/409",
    "malformed": "a broken payload: truncated JSON, wrong types, or an HTML error page with status 200",
    "stale": "the value with an old `updated_at` (age_s seconds ago)",
    "empty": "an empty answer: [] (form: list), null (form: null) or a 404 (form: not_found)",
    "partial": "the first `page_size` items of the list, with has_more: true and a next_cursor",
    "duplicate": "the value, delivered again as the answer of this tool's next call",
}
"""Every fault kind, with what the mock answers (used in docs, hints and the JSON Schema)."""

RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Statuses a well-behaved client may retry; 400/401/403/404/409 are final."""

DEFAULT_TOOL_TIMEOUT_S = 30.0
"""How long a `timeout` fault lasts when the tool declares no `timeout_s`."""

STALE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""The fixed 'now' stale timestamps are computed from, so a run's values never depend on today."""

_HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "Throttled",
    500: "InternalServerError",
    502: "BadGateway",
    503: "Unavailable",
    504: "GatewayTimeout",
}


@dataclass(frozen=True, slots=True)
class LatencyDist:
    """A seeded latency distribution (ms): uniform(min, max), normal(mean, sd), lognormal(median,
    sigma) or exponential(mean); draws are clipped at 0."""

    dist: str
    a: float
    b: float = 0.0

    def draw(self, rng: random.Random) -> float:
        if self.dist == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.dist == "normal":
            value = rng.gauss(self.a, self.b)
        elif self.dist == "lognormal":
            value = rng.lognormvariate(math.log(max(self.a, 1e-9)), self.b)
        else:
            value = rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return max(0.0, value)


class FaultError(ValueError):
    """A fault spec that cannot be built; `key` names the offending option."""

    def __init__(self, message: str, key: str | None = None):
        self.message = message
        self.key = key
        super().__init__(message)


def error_name(status: int) -> str:
    return _ERROR_NAMES.get(status, "HttpError")


def retry_after_header(seconds: float, http_date: bool, now: datetime | None = None) -> str:
    """The Retry-After value a server sends: delta-seconds, or an HTTP date `seconds` from `now`."""
    if not http_date:
        return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
    moment = (now or STALE_EPOCH) + timedelta(seconds=seconds)
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (seconds or an HTTP date relative to `now`)."""
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - (now or STALE_EPOCH)).total_seconds())


def build_fault(kind: str, options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    """The response for fault `kind` with its `options`; `base` carries value, latency and source."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise FaultError(f"unknown fault kind '{kind}'", "kind")
    return builder(options, base)


def _respond(base: FixtureResponse, kind: str, **changes: Any) -> FixtureResponse:
    """`base` turned into fault `kind`: a copy, so every other field of the response is kept."""
    return replace(base, **{"fault": kind, "timeout": False, "duplicate": False, **changes})


def _throttle(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    status = options.get("status", 429)
    if status not in (429, 503):
        raise FaultError("a throttle answers with status 429 or 503", "status")
    seconds = float(options.get("retry_after", 1))
    header = retry_after_header(seconds, bool(options.get("http_date", False)))
    message = options.get("message") or f"rate limited; retry after {header}"
    return _respond(base, "throttle", value=None, error=ToolErrorSpec(error_name(status), message, status, header))


def _timeout(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    return _respond(base, "timeout", value=None, timeout=True)


def _http_error(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    status = options.get("status", 503)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise FaultError("an http_error needs a status between 400 and 599", "status")
    message = options.get("message") or f"HTTP {status} {error_name(status)}"
    return _respond(base, "http_error", value=None, error=ToolErrorSpec(error_name(status), message, status))


def _malformed(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    form = options.get("form", "truncated_json")
    if form == "truncated_json":
        text = json.dumps(base.value if base.value is not None else {"ok": True})
        value: Any = text[: max(1, len(text) // 2)]
    elif form == "wrong_types":
        value = _wrong_types(base.value)
    elif form == "html":
        value = _HTML_PAGE
    else:
        raise FaultError("malformed form is one of truncated_json, wrong_types, html", "form")
    return _respond(base, "malformed", value=value, error=None)


def _wrong_types(value: Any) -> Any:
    """Numbers become strings, strings become numbers or null, lists become objects: a schema drift."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return None
    if isinstance(value, list):
        return {str(i): _wrong_types(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        return {k: _wrong_types(v) for k, v in value.items()}
    return "null"


def _stale(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    age = float(options.get("age_s", 7 * 24 * 3600))
    stamp = (STALE_EPOCH - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")
    field = options.get("field", "updated_at")
    value = copy.deepcopy(base.value)
    if isinstance(value, dict):
        value[field] = stamp
    elif isinstance(value, list):
        value = [{**item, field: stamp} if isinstance(item, dict) else item for item in value]
    else:
        raise FaultError("a stale fault needs `returns` to be an object or a list of objects", "returns")
    return _respond(base, "stale", value=value, error=None)


def _empty(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    form = options.get("form", "list")
    if form == "list":
        return _respond(base, "empty", value=[], error=None)
    if form == "null":
        return _respond(base, "empty", value=None, error=None)
    if form == "not_found":
        return _respond(base, "empty", value=None, error=ToolErrorSpec("NotFound", "not found", 404))
    raise FaultError("empty form is one of list, null, not_found", "form")


def _partial(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    items = base.value
    if not isinstance(items, list):
        raise FaultError("a partial fault needs `returns` to be the full list of items", "returns")
    size = int(options.get("page_size", max(1, len(items) // 2)))
    page = {"items": items[:size], "has_more": size < len(items) or bool(options.get("has_more", True))}
    page["next_cursor"] = str(size)
    return _respond(base, "partial", value=page, error=None)


def _duplicate(options: dict[str, Any], base: FixtureResponse) -> FixtureResponse:
    return _respond(base, "duplicate", duplicate=True)


_BUILDERS = {
    "throttle": _throttle,
    "timeout": _timeout,
    "http_error": _http_error,
    "malformed": _malformed,
    "stale": _stale,
    "empty": _empty,
    "partial": _partial,
    "duplicate": _duplicate,
}


def fault_at(kind: str, source: SourceRef | None = None, **options: Any) -> FixtureResponse:
    """A fault response with no base value (for drills that inject a fault in front of a fixture)."""
    return build_fault(kind, options, FixtureResponse(source=source))
