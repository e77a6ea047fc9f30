"""What the harness raises inside an agent's code.

`ToolCallError` is an ordinary tool failure the agent is expected to handle, like an HTTP client's
error. `RunStopped` derives from BaseException, like KeyboardInterrupt, so an agent's broad
`except Exception` cannot swallow a budget stop or a missing fixture and carry on.
"""

from __future__ import annotations

from typing import Any


class ToolCallError(Exception):
    """A tool answered with an error (a fixture error, invalid arguments, an unknown tool)."""

    def __init__(self, error_class: str, message: str, status: int | None = None, retry_after: str | None = None):
        self.error_class = error_class
        self.message = message
        self.status = status
        self.retry_after = retry_after
        """The Retry-After header of a throttle (seconds or an HTTP date); see faults.retry_after_seconds."""
        super().__init__(f"{error_class}: {message}" + (f" (status {status})" if status else ""))

    def to_payload(self) -> dict[str, Any]:
        """The structured error a model-driven loop feeds back to the model as the tool result."""
        payload: dict[str, Any] = {"type": self.error_class, "message": self.message}
        if self.status is not None:
            payload["status"] = self.status
        if self.retry_after is not None:
            payload["retry_after"] = self.retry_after
        return {"error": payload}


class RunStopped(BaseException):
    """The run was stopped by the harness (budget cap, missing fixture, timeout); the agent must end."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class AgentAborted(Exception):
    """SystemExit or KeyboardInterrupt raised by agent code, carried as an ordinary exception: asyncio
    treats those two as "stop the process" and would end the whole run for one agent's sys.exit()."""

    def __init__(self, original: BaseException):
        self.original = original
        super().__init__(f"{type(original).__name__}: {original}")
