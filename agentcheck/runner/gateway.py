"""The tool gateway: every call an agent makes passes through here, in this order.

1. budget (a call past a cap stops the run), 2. catalog (unknown tool → structured error),
3. contract (arguments against the tool's JSON Schema → structured error, recorded as a violation),
4. policy (the seam the policy engine plugs into; a refusal never reaches the fixture),
5. idempotent replay (a write retried with an idempotency key already applied answers with the
first result), 6. fixture (no fixture → the run stops as `error`), 7. simulated latency on the
virtual clock; a call outlasting the tool's `timeout_s` (or a `timeout` fault) fails with ToolTimeout.

The gateway is synchronous and thread-safe: fixtures answer from memory, so a sync agent in a worker
thread and an async agent on the loop can both call it without an await.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentcheck.calls import format_call
from agentcheck.faults import DEFAULT_TOOL_TIMEOUT_S
from agentcheck.project import ToolSpec
from agentcheck.runner.fixtures import FixtureBook
from agentcheck.runner.idempotency import IdempotencyLedger
from agentcheck.runner.recorder import RunRecorder
from agentcheck.runner.signals import RunStopped, ToolCallError
from agentcheck.serialize import as_plain_json
from agentcheck.trace import ErrorInfo, StopKind, ToolCallEvent, ToolStatus


class ToolCatalog:
    """The project's tools with their argument validators, compiled once per session, not per run."""

    def __init__(self, tools: dict[str, ToolSpec]):
        self.tools = tools
        self._validators: dict[str, Any] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def contract_error(self, name: str, args: Any) -> str | None:
        """Why `args` does not fit the tool's schema (the most relevant error, with its path)."""
        validator = self._validators.get(name)
        if validator is None:
            import jsonschema  # deferred: costs ~0.1 s and only runs need it

            schema = self.tools[name].parameters
            validator = jsonschema.validators.validator_for(schema)(schema)
            self._validators[name] = validator
        if validator.is_valid(args):
            return None
        import jsonschema

        error = jsonschema.exceptions.best_match(validator.iter_errors(args))
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{where}: {error.message}" if where else error.message


@dataclass(slots=True)
class PolicyVerdict:
    """What a policy hook decided for one call. `allowed=False` refuses it with `reason`."""

    allowed: bool
    record: dict[str, Any]
    """Stored in the trace as the call's policy decision (decision, rule, reason, values seen)."""
    reason: str = ""


class PolicyHook(Protocol):
    """The seam the policy engine plugs into: decide a call before any fixture answers."""

    def decide(self, tool: str, args: Any, recorder: RunRecorder) -> PolicyVerdict: ...


@dataclass(slots=True)
class ToolResponse:
    ok: bool
    value: Any = None
    error: ToolCallError | None = None


def _copy(value: Any) -> Any:
    """A fixture's value is shared across runs; the agent gets its own copy to mutate."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


class ToolGateway:
    def __init__(
        self,
        *,
        catalog: ToolCatalog,
        visible: frozenset[str] | None,
        fixtures: FixtureBook,
        recorder: RunRecorder,
        policy: PolicyHook | None = None,
        observers: tuple[Callable[[ToolCallEvent], None], ...] = (),
    ):
        self.catalog = catalog
        self.visible = visible
        self.fixtures = fixtures
        self.recorder = recorder
        self.policy = policy
        self.observers = observers
        self.ledger = IdempotencyLedger()

    def tool_names(self) -> list[str]:
        names = self.catalog.tools.keys() if self.visible is None else self.visible
        return sorted(names)

    def call(self, tool: str, args: Any) -> ToolResponse:
        recorder = self.recorder
        event = recorder.begin_tool_call(tool, args)
        event.args = as_plain_json(args)  # what the trace keeps is what reports show and redaction walks
        try:
            return self._answer(event, tool, args)
        finally:
            recorder.end_tool_call(event)
            for observe in self.observers:
                observe(event)

    def _answer(self, event: ToolCallEvent, tool: str, args: Any) -> ToolResponse:
        if tool not in self.catalog or (self.visible is not None and tool not in self.visible):
            event.violation = f"unknown tool '{tool}'"
            return self._refuse(event, ToolStatus.UNKNOWN_TOOL, "UnknownTool", f"no tool named '{tool}'", 404)
        problem = self.catalog.contract_error(tool, args)
        if problem is not None:
            event.violation = f"arguments do not fit the schema of '{tool}': {problem}"
            return self._refuse(event, ToolStatus.INVALID_ARGS, "InvalidArguments", problem, 400)
        if self.policy is not None:
            verdict = self.policy.decide(tool, args, self.recorder)
            event.policy = verdict.record
            if not verdict.allowed:
                return self._refuse(event, ToolStatus.REFUSED, "PolicyRefused", verdict.reason, 403)
        spec = self.catalog.tools[tool]
        replayed = self.ledger.replay(spec, args)
        if replayed is not None:
            event.replay_of, event.result = replayed.step, replayed.result
            return ToolResponse(ok=True, value=_copy(replayed.result))
        try:
            response = self.fixtures.resolve(tool, args)
        except Exception as exc:  # a fixture handler's bug is the harness's, never the agent's
            message = f"the fixture handler of '{tool}' raised {type(exc).__name__}: {exc}"
            event.status = ToolStatus.NO_FIXTURE
            event.error = ErrorInfo("FixtureError", message)
            self.recorder.halt(StopKind.NO_FIXTURE, message, "fix the handler named in the fixture's `handler:`")
            raise RunStopped(message) from exc
        if response is None:
            message = f"no fixture for {format_call(tool, args)}"
            event.status = ToolStatus.NO_FIXTURE
            event.error = ErrorInfo("NoFixture", message)
            self.recorder.halt(
                StopKind.NO_FIXTURE,
                message,
                "add a fixture for this call to the scenario (a `when:` rule, a sequence item or a default)",
            )
            raise RunStopped(message)
        event.fault, event.untrusted = response.fault, response.untrusted
        latency = self.fixtures.latency_ms(response)
        limit_s = spec.timeout_s if spec.timeout_s is not None else DEFAULT_TOOL_TIMEOUT_S
        if response.timeout or (spec.timeout_s is not None and latency > limit_s * 1000.0):
            self.recorder.clock.advance(limit_s * 1000.0)
            event.fault = event.fault or "timeout"
            return self._refuse(event, ToolStatus.ERROR, "ToolTimeout", f"no answer within {limit_s:g}s", None)
        self.recorder.clock.advance(latency)
        if response.error is not None:
            error = response.error
            refused = self._refuse(event, ToolStatus.ERROR, error.error_class, error.message, error.status)
            if error.retry_after is not None and event.error is not None and refused.error is not None:
                event.error.retry_after = refused.error.retry_after = error.retry_after
            return refused
        event.result = as_plain_json(response.value)  # a handler may answer with any Python object
        self.ledger.applied(spec, event)
        return ToolResponse(ok=True, value=_copy(response.value))

    @staticmethod
    def _refuse(
        event: ToolCallEvent, status: ToolStatus, error_class: str, message: str, code: int | None
    ) -> ToolResponse:
        event.status = status
        event.error = ErrorInfo(error_class, message, code)
        return ToolResponse(ok=False, error=ToolCallError(error_class, message, code))
