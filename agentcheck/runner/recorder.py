"""Builds one run's trace as it happens, and stops the run when a cap or a fatal fault is hit.

Every step (tool call or model call) goes through here, under one lock, so a sync agent in its
thread and the event loop agree on step numbers, totals and whether the run is already stopped.
"""

from __future__ import annotations

import threading
from typing import Any

from agentcheck.runner.budget import exceeded_after_step, exceeded_before_step
from agentcheck.runner.clock import VirtualClock
from agentcheck.runner.signals import RunStopped
from agentcheck.scenario import Budget
from agentcheck.trace import ModelCallEvent, StopKind, StopReason, ToolCallEvent, ToolStatus, Trace


class RunRecorder:
    def __init__(self, trace: Trace, budget: Budget, clock: VirtualClock):
        self.trace = trace
        self.budget = budget
        self.clock = clock
        self.lock = threading.RLock()

    @property
    def stopped(self) -> StopReason | None:
        return self.trace.stop

    def halt(self, kind: StopKind, message: str, detail: str = "") -> None:
        """Stop the run (the first reason wins); later steps raise RunStopped."""
        with self.lock:
            if self.trace.stop is None:
                self.trace.stop = StopReason(kind, message, detail)

    def raise_if_stopped(self) -> None:
        stop = self.trace.stop
        if stop is not None:
            raise RunStopped(stop.message)

    def begin_tool_call(self, tool: str, args: Any) -> ToolCallEvent:
        """Open a tool-call step, or stop the run if taking it would cross a cap."""
        with self.lock:
            self.raise_if_stopped()
            totals = self.trace.totals
            now = self.clock.now_ms()
            over = exceeded_before_step(self.budget, totals, tool_call=True, now_ms=now)
            totals.steps += 1
            event = ToolCallEvent(
                step=totals.steps,
                call_id=f"call_{totals.steps}",
                tool=tool,
                args=args,
                status=ToolStatus.OK,
                at_ms=round(now, 3),
            )
            self.trace.events.append(event)
            if over is not None:
                event.status = ToolStatus.STOPPED
                self.trace.stop = StopReason(StopKind.BUDGET_EXCEEDED, f"budget exceeded: {over}")
                raise RunStopped(self.trace.stop.message)
            totals.tool_calls += 1
            return event

    def end_tool_call(self, event: ToolCallEvent) -> None:
        """Latency from the reading that stamped `at_ms`, so `at_ms + latency_ms` is when the call ended.

        A reading taken before `begin_tool_call` (and its lock, and a thread switch) would put the
        recorded end later than the real one, and a retry that waited exactly its Retry-After would
        then look early.
        """
        event.latency_ms = round(self.clock.now_ms() - event.at_ms, 3)

    def record_model_call(
        self,
        model: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float = 0.0,
        latency_ms: float = 0.0,
        route: str | None = None,
        source: str = "agent",
        retries: list[str] | None = None,
        error: str | None = None,
    ) -> ModelCallEvent:
        """Record a model call; raises RunStopped when it crossed a cap (the call already happened)."""
        if min(input_tokens, output_tokens, cost_usd, latency_ms) < 0:
            raise ValueError("record_model_call() needs tokens, cost and latency >= 0")
        with self.lock:
            self.raise_if_stopped()
            totals = self.trace.totals
            now = self.clock.now_ms()
            over = exceeded_before_step(self.budget, totals, tool_call=False, now_ms=now)
            if over is not None:
                self.trace.stop = StopReason(StopKind.BUDGET_EXCEEDED, f"budget exceeded: {over}")
                raise RunStopped(self.trace.stop.message)
            totals.steps += 1
            totals.model_calls += 1
            totals.input_tokens += int(input_tokens)
            totals.output_tokens += int(output_tokens)
            totals.cost_usd = round(totals.cost_usd + float(cost_usd), 10)
            event = ModelCallEvent(
                step=totals.steps,
                model=model,
                input_tokens=int(input_tokens),
                output_tokens=int(output_tokens),
                cost_usd=float(cost_usd),
                latency_ms=float(latency_ms),
                at_ms=round(now, 3),
                route=route,
                source=source,
                retries=list(retries or ()),
                error=error,
            )
            self.trace.events.append(event)
            over = exceeded_after_step(self.budget, totals, now_ms=now)
            if over is not None:
                self.trace.stop = StopReason(StopKind.BUDGET_EXCEEDED, f"budget exceeded: {over}")
                raise RunStopped(self.trace.stop.message)
            return event

    def close(self) -> None:
        """Final totals: wall time includes every simulated wait."""
        totals = self.trace.totals
        totals.wall_time_ms = round(self.clock.now_ms(), 3)
        totals.virtual_wait_ms = round(self.clock.virtual_ms, 3)
