"""Model vocabulary: how an agent reaches a model, what tokens cost, where recordings live.

Plain data built by ``agentcheck.collect`` from ``agentcheck.yaml``; the model proxy
(``agentcheck.llm``) and the ``openai`` agent kind read it. The default price table ships with the
date its prices were read, so a report can say how old a cost estimate is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """US dollars per million tokens. `cached_input` applies to prompt tokens served from cache."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
        """Cost of one call; cached prompt tokens are billed at `cached_input` (input when unset)."""
        cached = min(max(cached_tokens, 0), input_tokens)
        cached_rate = self.cached_input if self.cached_input is not None else self.input
        total = (input_tokens - cached) * self.input + cached * cached_rate + output_tokens * self.output
        return round(total / 1_000_000, 10)


DEFAULT_PRICES_DATE = "2026-11-01"
"""When the shipped prices were read from the providers' pricing pages; override in `pricing:`."""

DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(input=2.50, cached_input=1.25, output=10.00),
    "gpt-4o-mini": ModelPrice(input=0.15, cached_input=0.075, output=0.60),
    "gpt-4.1": ModelPrice(input=2.00, cached_input=0.50, output=8.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, cached_input=0.10, output=1.60),
    "gpt-4.1-nano": ModelPrice(input=0.10, cached_input=0.025, output=0.40),
    "gpt-5": ModelPrice(input=1.25, cached_input=0.125, output=10.00),
    "gpt-5-mini": ModelPrice(input=0.25, cached_input=0.025, output=2.00),
    "gpt-5-nano": ModelPrice(input=0.05, cached_input=0.005, output=0.40),
    "o3": ModelPrice(input=2.00, cached_input=0.50, output=8.00),
    "o4-mini": ModelPrice(input=1.10, cached_input=0.275, output=4.40),
}


def find_price(model: str, table: dict[str, ModelPrice]) -> ModelPrice | None:
    """The price of `model`: an exact entry, else the longest entry it extends with a `-suffix`
    (a dated snapshot such as gpt-4o-mini-2024-07-18 is priced as gpt-4o-mini)."""
    if model in table:
        return table[model]
    best = None
    for name in table:
        if model.startswith(name + "-") and (best is None or len(name) > len(best)):
            best = name
    return table[best] if best is not None else None


ROUTE_RULES: dict[str, str] = {
    "after_tool_error": "escalate once a tool answered with an error",
    "after_invalid_tool_call": "escalate once the model called an unknown tool or sent arguments off the schema",
}
"""Escalation rules a route may name, with what each means."""


@dataclass(frozen=True, slots=True)
class ModelRoutes:
    """A default model and an escalation model taken once any rule fires (for the rest of the run)."""

    default: str
    escalate: str | None = None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """How an agent reaches its model. `base_url` and `api_key_env` name the upstream the model
    proxy forwards to when it records or passes through; the agent itself talks to the proxy."""

    model: str
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    system_prompt: str | None = None
    request_options: dict[str, Any] = field(default_factory=dict)
    """Extra request fields sent as written (temperature, top_p, seed, max_completion_tokens...)."""
    max_steps: int = 10
    """Most model turns of the built-in loop before it gives up."""
    routes: ModelRoutes | None = None
    timeout_s: float = 60.0
    """Timeout of one upstream request."""
    max_retries: int = 3
    """Retries of one upstream request after a timeout, 429 or 5xx."""

    def models(self) -> tuple[str, ...]:
        """Every model this agent may use (default and escalation)."""
        names = [self.model]
        if self.routes is not None:
            names += [self.routes.default, *([self.routes.escalate] if self.routes.escalate else [])]
        return tuple(dict.fromkeys(names))


RECORD_MODES: tuple[str, ...] = ("none", "all", "missing")
"""`none`: replay when a cassette exists (pass through otherwise); `all`: call upstream and
re-record every cassette used; `missing`: replay what is recorded, record what is not. (`offline`,
set by `--offline` rather than `--record`: replay only; no request ever reaches a model.)"""


@dataclass(frozen=True, slots=True)
class CassetteSettings:
    dir: str = "cassettes"
    """Folder of recordings, relative to the project root."""
    secret_patterns: tuple[str, ...] = ()
    """Regular expressions whose matches are replaced by `<redacted>` before anything is saved."""
