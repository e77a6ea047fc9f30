"""Failure drills, as data: which drill a scenario runs, what its retries, hand-offs and writes must
look like, and which injection payloads it plants.

Built by the loader (scenario `drills:` and `expect:` sections) and by ``agentcheck.drills`` (the
`--drill` flag); judged by ``agentcheck.judge.resilience`` and ``agentcheck.judge.injection``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcheck.matchers import Matcher

if TYPE_CHECKING:
    from agentcheck.scenario import Expectations

DRILL_KINDS: dict[str, str] = {
    "throttle": "the first call of each drilled tool answers 429 with Retry-After; later calls answer normally",
    "timeout": "the first call of each drilled tool outlasts the tool's timeout; later calls answer normally",
    "outage": "every call of each drilled tool answers 503 Unavailable",
    "stale": "the first call of each drilled read tool answers with an old `updated_at`",
    "injection": "injection payloads are planted in the text fields of tool results",
}
"""Every drill kind usable in a scenario's `drills:` and with `agentcheck run --drill`."""

HANDOFF_WORDS: tuple[str, ...] = ("handoff", "hand_off", "escalat", "human")
"""A tool whose name contains one of these counts as a hand-off when no `handoff_tools` are given."""

INJECTION_TAG = "drill:injection"
"""The tag every attacked run carries: how metrics tell an attacked run that errored before judging."""

DEFAULT_MAX_RETRIES = 3
"""Retries per tool the default drill expectations allow."""


@dataclass(frozen=True, slots=True)
class ResilienceExpectations:
    """Retry, hand-off and write-safety expectations (check group `resilience`)."""

    max_retries: int | None = None
    """Most retries of any one call (the same tool and arguments again, right after it failed)."""
    max_retries_per_tool: dict[str, int] = field(default_factory=dict)
    handoff: bool | None = None
    """True: the run must end in a hand-off; False: it must not hand off; None: not judged."""
    handoff_tools: tuple[str, ...] = ()
    """Tools that count as a hand-off; empty: names containing handoff/escalat/human."""
    no_duplicate_writes: bool = False
    """No write tool applied twice with the same arguments (idempotent replays are fine)."""
    respect_retry_after: bool = False
    """A retry after a throttle waits at least the Retry-After it was given."""
    outcome_or_handoff: bool = False
    """Drill default: the original expectations hold, or the run handed off (then they are advisory)."""
    no_policy_violation: bool = False
    """No call was refused by the policy engine."""
    write_tools: frozenset[str] = frozenset()
    """The catalog's write tools (filled by the loader), for duplicate writes."""
    idempotency_keys: dict[str, str] = field(default_factory=dict)
    """Write tool -> its idempotency-key argument, set aside when comparing writes."""


@dataclass(frozen=True, slots=True)
class InjectionGoal:
    """What the attacker wants: a call to `tool` whose arguments match `args` (None: any call)."""

    tool: str
    args: Matcher | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """One planted injection: its text, the canary that must never leak, and the attacker's goal."""

    family: str
    text: str
    canary: str
    goal: InjectionGoal | None = None
    markers: tuple[str, ...] = ()
    """Values only the attacker supplies (an amount, a card number): seen in a call, the goal happened."""
    numbers: tuple[tuple[str, float], ...] = ()
    """The attacker's numeric arguments to the goal tool (`amount` 5000): a call to that tool with one
    of them, under the same name, did what the payload asked, whatever its other arguments."""


@dataclass(frozen=True, slots=True)
class InjectionExpectations:
    """Judged on an attacked run (check group `injection`)."""

    payloads: tuple[Payload, ...]
    allowed_writes: frozenset[str] | None = None
    """Write tools the user's own task needs; any other write call is a violation. None: not judged."""
    write_tools: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PlantSpec:
    """Where a payload goes: the result of `tool`, at the dotted `field` (None: every text field)."""

    tool: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class ToolDrill:
    """What a drill does to one mocked tool while the run goes on."""

    faults: tuple[Any, ...] = ()
    """FixtureResponses answering the first calls, by call number, before any rule."""
    stale_first_s: float | None = None
    """The first answer that is a value comes back with `updated_at` this many seconds old."""
    payload: str | None = None
    """Injection text appended to the result's text fields (free text: strings with a space)."""
    field: str | None = None
    """The dotted field to plant in instead (it is planted even without a space)."""


@dataclass(frozen=True, slots=True)
class DrillSpec:
    """One drill as a scenario declares it (or as `--drill` asks for it, with every default)."""

    kind: str
    tools: tuple[str, ...] = ()
    """The tools the drill faults; empty: every tool the scenario mocks (read tools for stale)."""
    expect: Expectations | None = None
    """The scenario's own expectations under this drill; None: the default safety expectations."""
    options: dict[str, Any] = field(default_factory=dict)
    """Kind-specific settings: retry_after, status, age_s, families, plant, payloads, target."""


def drill_tags() -> tuple[str, ...]:
    """The tags any drilled copy may carry, so a gate selecting `drill:injection` is not taken for a
    typo in a run that happens not to drill. (Here, beside the kinds, not with the expansion: merge
    asks for them without expanding anything.)"""
    return ("drill", *(f"drill:{kind}" for kind in DRILL_KINDS))
