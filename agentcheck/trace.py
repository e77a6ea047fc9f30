"""What happened in one run, step by step: the evidence every verdict is judged from.

Field names follow the OpenTelemetry GenAI conventions where one exists (input/output tokens, tool
call id, error type) so a trace maps onto spans without renaming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ToolStatus(StrEnum):
    OK = "ok"
    """The fixture answered with a value."""
    ERROR = "error"
    """The fixture answered with an error (a tool error the agent must handle)."""
    INVALID_ARGS = "invalid_args"
    """The arguments did not fit the tool's JSON Schema; answered with a structured error."""
    UNKNOWN_TOOL = "unknown_tool"
    """The agent called a tool that is not in its catalog; answered with a structured error."""
    NO_FIXTURE = "no_fixture"
    """No fixture answers this call; the run stops with an `error` outcome."""
    REFUSED = "refused"
    """A policy decision refused the call; it never reached the fixture."""
    STOPPED = "stopped"
    """The run had already hit a cap or was cancelled; the call was not made."""


@dataclass(slots=True)
class ErrorInfo:
    error_class: str
    message: str
    status: int | None = None
    retry_after: str | None = None
    """The Retry-After a throttled call was answered with (seconds or an HTTP date)."""


@dataclass(slots=True)
class ToolCallEvent:
    step: int
    call_id: str
    tool: str
    args: Any
    status: ToolStatus
    result: Any = None
    error: ErrorInfo | None = None
    latency_ms: float = 0.0
    at_ms: float = 0.0
    """When the call started, in ms since the run started (virtual waits included)."""
    policy: dict[str, Any] | None = None
    """The policy decision for this call; None when no policy is configured."""
    violation: str | None = None
    """A contract violation (arguments outside the schema, unknown tool), if any."""
    kind: str = "tool_call"
    fault: str | None = None
    """The simulated fault this call was answered with (throttle, timeout, ...), if any."""
    untrusted: bool = False
    """The result carries third-party text (an injection drill planted a payload in it)."""
    replay_of: int | None = None
    """An idempotent retry: the step whose result was replayed instead of writing again."""


@dataclass(slots=True)
class ModelCallEvent:
    step: int
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    at_ms: float = 0.0
    route: str | None = None
    source: str = "agent"
    """Who reported the call: `agent` (self-reported), `proxy`, `scripted`, `cassette`."""
    retries: list[str] = field(default_factory=list)
    """Failed attempts before this one (timeout, 429, 5xx), each described; waits are virtual."""
    error: str | None = None
    """Why the call got no answer (retries exhausted, cassette miss); None when it was answered."""
    kind: str = "model_call"


Event = ToolCallEvent | ModelCallEvent


class StopKind(StrEnum):
    """Why a run ended other than by the agent returning normally."""

    BUDGET_EXCEEDED = "budget_exceeded"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    NO_FIXTURE = "no_fixture"
    BAD_OUTPUT = "bad_output"
    CANCELLED = "cancelled"
    MODEL_ERROR = "model_error"
    """The model path gave no answer: retries exhausted, a cassette miss, a script run out."""


@dataclass(slots=True)
class StopReason:
    kind: StopKind
    message: str
    detail: str = ""
    """A longer explanation: the traceback of a crash, the cap and measured value of a budget."""


@dataclass(slots=True)
class Totals:
    steps: int = 0
    tool_calls: int = 0
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    wall_time_ms: float = 0.0
    """Real elapsed time plus simulated (virtual) waits."""
    virtual_wait_ms: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class Trace:
    trace_id: str
    scenario_id: str
    trial: int
    agent: str
    agent_version: str | None
    started_at: str
    """ISO 8601 UTC."""
    events: list[Event] = field(default_factory=list)
    output: Any = None
    totals: Totals = field(default_factory=Totals)
    stop: StopReason | None = None
    state: dict[str, list[dict[str, Any]]] | None = None
    """The stateful fixtures' tables at the end of the run; None when the scenario has none."""

    def tool_calls(self) -> list[ToolCallEvent]:
        return [e for e in self.events if isinstance(e, ToolCallEvent)]

    def model_calls(self) -> list[ModelCallEvent]:
        return [e for e in self.events if isinstance(e, ModelCallEvent)]
