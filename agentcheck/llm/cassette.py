"""Record/replay of model calls: one readable JSON file per scenario and trial.

A request is keyed by what changes the answer — the upstream URL, model, messages, tools and
options — with what does not left out: streaming flags, user ids, metadata, and the ids of tool
calls (renumbered in order, since they are random on every live call). Replay hands out recordings
in order among requests with the same key; a request with no recording is a `cassette miss` that
names the first difference from the nearest recorded request. Headers are never written, and every
string passes through the secret scrubber before it is saved.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from agentcheck.redact import Redactor

VOLATILE_FIELDS = frozenset(
    {"stream", "stream_options", "user", "metadata", "store", "safety_identifier", "prompt_cache_key", "service_tier"}
)
"""Request fields that do not change the answer; left out of the key."""

DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    r"sk-[A-Za-z0-9_\-]{8,}",
    r"(?i:bearer)\s+[A-Za-z0-9._\-]+",
    r"(?P<keep>(?i:api[_-]?key)[\"'=: ]+)[A-Za-z0-9._\-]{8,}",
)
"""A pattern's `keep` group stays (the name and quotes before a value), so JSON text stays JSON."""
REDACTED = "<redacted>"
FORMAT_VERSION = 1


def request_key(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The normalised request a recording is found by."""
    kept = {k: v for k, v in body.items() if k not in VOLATILE_FIELDS}
    if isinstance(kept.get("messages"), list):
        kept["messages"] = _renumber_call_ids(kept["messages"])
    return {"endpoint": base_url.rstrip("/") + path, **kept}


def _renumber_call_ids(messages: list[Any]) -> list[Any]:
    ids: dict[str, str] = {}

    def new_id(old: Any) -> Any:
        if not isinstance(old, str):
            return old
        return ids.setdefault(old, f"call_{len(ids) + 1}")

    out = []
    for message in messages:
        if not isinstance(message, dict):
            out.append(message)
            continue
        message = dict(message)
        if isinstance(message.get("tool_calls"), list):
            message["tool_calls"] = [
                {**call, "id": new_id(call.get("id"))} if isinstance(call, dict) else call
                for call in message["tool_calls"]
            ]
        if "tool_call_id" in message:
            message["tool_call_id"] = new_id(message["tool_call_id"])
        out.append(message)
    return out


def first_difference(recorded: Any, actual: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """Where `actual` first departs from `recorded`: (key path, recorded value, actual value)."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in list(recorded) + [k for k in actual if k not in recorded]:
            here = f"{path}.{key}" if path else str(key)
            if key not in recorded:
                return here, "<absent>", actual[key]
            if key not in actual:
                return here, recorded[key], "<absent>"
            found = first_difference(recorded[key], actual[key], here)
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(actual, list):
        for index, (a, b) in enumerate(zip(recorded, actual, strict=False)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        if len(recorded) != len(actual):
            index = min(len(recorded), len(actual))
            return (f"{path}[{index}]", recorded[index] if index < len(recorded) else "<absent>",
                    actual[index] if index < len(actual) else "<absent>")
        return None
    return None if recorded == actual and type(recorded) is type(actual) else (path or "<request>", recorded, actual)


def _distance(recorded: Any, actual: Any) -> int:
    """How many leaves differ, to pick the nearest recording for a miss message."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        keys = set(recorded) | set(actual)
        return sum(_distance(recorded.get(k), actual.get(k)) for k in keys)
    if isinstance(recorded, list) and isinstance(actual, list):
        pairs = sum(_distance(a, b) for a, b in zip(recorded, actual, strict=False))
        return pairs + abs(len(recorded) - len(actual))
    return 0 if recorded == actual else 1


class Scrubber:
    """Replaces secrets in every string: the key's own value, bearer tokens and API keys, the
    configured `cassettes.secret_patterns`, and what the project's `redact:` rules mask in any text
    (`redactor.text`: its patterns, cards, and `key=value` / `"key": value` of sensitive keys inside a
    string, such as a tool call's JSON arguments). Objects are not masked by key: a request's tool
    schemas name parameters like `card_number` and must stay whole. The same scrub applies to a
    request's key when recording and when replaying, so keys still match."""

    def __init__(self, patterns: Iterable[str], secrets: Iterable[str] = (), redactor: Redactor | None = None):
        literal = [re.escape(s) for s in secrets if s and len(s) >= 4]
        self._regexes = [re.compile(p) for p in (*literal, *DEFAULT_SECRET_PATTERNS, *patterns)]
        self._redactor = redactor

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for regex in self._regexes:
                value = regex.sub(_replacement if "keep" in regex.groupindex else REDACTED, value)
            return self._redactor.text(value) if self._redactor is not None else value
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


def _replacement(match: re.Match[str]) -> str:
    return (match.group("keep") or "") + REDACTED


@dataclass(slots=True)
class Interaction:
    request: dict[str, Any]
    status: int
    response: Any
    latency_ms: float = 0.0
    used: bool = False


@dataclass(slots=True)
class Miss:
    message: str


@dataclass(slots=True)
class Cassette:
    """The recordings of one scenario's trial, loaded from and saved to `path`."""

    path: Path
    scenario_id: str
    trial: int
    interactions: list[Interaction] = field(default_factory=list)
    dirty: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    broken: str | None = None
    """Why the file could not be read (hand-edited into invalid JSON, say); every request then misses."""

    @classmethod
    def load(cls, path: Path, scenario_id: str, trial: int) -> Cassette:
        cassette = cls(path, scenario_id, trial)
        if path.is_file():
            try:
                data = orjson.loads(path.read_bytes())
                cassette.interactions = [
                    Interaction(i["request"], int(i.get("status", 200)), i.get("response"),
                                float(i.get("latency_ms", 0)))
                    for i in data.get("interactions", [])
                ]
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                cassette.broken = f"{type(exc).__name__}: {exc}"
        return cassette

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def take(self, key: dict[str, Any]) -> Interaction | Miss:
        """The next unused recording with this key, or a Miss saying how it differs from the nearest."""
        with self.lock:
            for interaction in self.interactions:
                if not interaction.used and interaction.request == key:
                    interaction.used = True
                    return interaction
            return Miss(self._miss_message(key))

    def _miss_message(self, key: dict[str, Any]) -> str:
        where = f"{self.path.as_posix()}"
        fix = "re-record with `agentcheck run --record=missing` (or --record to redo the whole cassette)"
        if self.broken is not None:
            return f"cassette miss: {where} cannot be read ({self.broken}); re-record it with `agentcheck run --record`"
        if not self.path.is_file() and not any(self.path.parent.glob("trial-*.json")):
            return (f"cassette miss: this scenario has no cassette ({where}), and --offline sends no request to "
                    "a model; record one with `agentcheck run --record=missing` (without --offline)")
        if not self.path.is_file():
            return (f"cassette miss: no cassette for trial {self.trial} ({where}; this scenario was recorded for "
                    f"other trials only); record it with `agentcheck run --trials {self.trial} --record=missing`")
        if not self.interactions:
            return f"cassette miss: {where} holds no recordings; {fix}"
        nearest = min(self.interactions, key=lambda i: (i.used, _distance(i.request, key)))
        diff = first_difference(nearest.request, key)
        if diff is None:
            return f"cassette miss: this request was recorded fewer times than it was made ({where}); {fix}"
        path, was, now = diff
        shown = f"at {path}: recorded {_short(was)}, now {_short(now)}"
        return f"cassette miss: no recording in {where} matches this request; nearest differs {shown}; {fix}"

    def add(self, key: dict[str, Any], status: int, response: Any, latency_ms: float) -> None:
        with self.lock:
            self.interactions.append(Interaction(key, status, response, round(latency_ms, 1), used=True))
            self.dirty = True

    def save(self, scrubber: Scrubber) -> None:
        data = {
            "cassette": FORMAT_VERSION,
            "scenario": self.scenario_id,
            "trial": self.trial,
            "interactions": [
                {"request": i.request, "status": i.status, "response": i.response, "latency_ms": i.latency_ms}
                for i in self.interactions
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = orjson.dumps(scrubber.scrub(data), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        self.path.write_bytes(text + b"\n")
        self.dirty = False


def _short(value: Any, limit: int = 80) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cassette_path(folder: Path, scenario_id: str, trial: int) -> Path:
    """`<folder>/<scenario id>/trial-<n>.json`, with characters unsafe in file names replaced."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", scenario_id)
    return folder / safe / f"trial-{trial}.json"
