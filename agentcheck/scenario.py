"""The scenario vocabulary: what to ask the agent, what its tools answer, what we expect.

Plain data, built by the loader (``agentcheck.collect``) from validated YAML. Matchers inside are
already compiled, so the run and judge layers never parse user input again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from agentcheck.matchers import ArgMode, Matcher

if TYPE_CHECKING:
    from agentcheck.drillspec import DrillSpec, InjectionExpectations, ResilienceExpectations, ToolDrill
    from agentcheck.faults import LatencyDist
    from agentcheck.policy.spec import ScenarioPolicy
    from agentcheck.state import StateOp, StateTable, TableExpectation


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a piece of input came from, for error messages and JUnit `file`/`line`."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(slots=True)
class AgentInput:
    """What the agent is asked. `text` is the last user message, for agents that take one string."""

    messages: list[dict[str, Any]]
    data: Any = None

    @property
    def text(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return str(message.get("content", ""))
        return ""


@dataclass(frozen=True, slots=True)
class ToolErrorSpec:
    """An error a mocked tool answers with, as a real API would."""

    error_class: str
    message: str
    status: int | None = None
    retry_after: str | None = None
    """The Retry-After header a throttle sends: delta-seconds or an HTTP date."""


@dataclass(frozen=True, slots=True)
class FixtureResponse:
    """One answer of a mocked tool: a value or an error, after an optional simulated latency."""

    value: Any = None
    error: ToolErrorSpec | None = None
    latency_ms: float = 0.0
    source: SourceRef | None = None
    chance: float | None = None
    """Probability (seeded per run) that this response applies; otherwise resolution moves on."""
    latency: LatencyDist | None = None
    """A latency distribution drawn from the run's seeded generator, instead of `latency_ms`."""
    fault: str | None = None
    """The fault kind this response simulates (agentcheck.faults), shown in the trace."""
    timeout: bool = False
    """The call outlasts the tool's timeout and fails with ToolTimeout."""
    duplicate: bool = False
    """The same value is delivered again as the answer of this tool's next call."""
    untrusted: bool = False
    """The value carries third-party text (a planted injection); marked in the trace."""


@dataclass(frozen=True, slots=True)
class FixtureRule:
    """Answer with `response` when the call's arguments satisfy `when` (None: any arguments)."""

    when: Matcher | None
    response: FixtureResponse


@dataclass(frozen=True, slots=True)
class ToolFixture:
    """How one mocked tool answers. Resolution order: first matching rule, then the next item of
    `sequence` (by how many times this tool was called), then `default`; otherwise the call has no
    fixture, which stops the run with an `error` outcome."""

    tool: str
    rules: tuple[FixtureRule, ...] = ()
    sequence: tuple[FixtureResponse, ...] = ()
    default: FixtureResponse | None = None
    source: SourceRef | None = None
    state: StateOp | None = None
    """Answer from the run's in-memory state (after rules and sequence, before the default)."""
    handler: str | None = None
    """'module:function' called as function(args, state) to answer (after rules and sequence)."""
    drill: ToolDrill | None = None
    """What a drill does to this tool at run time (faults first, stale first answer, planted payload)."""


class TrajectoryMode(StrEnum):
    """How the expected tool calls are compared with the actual ones (docs/matching.md)."""

    STRICT = "strict"
    ORDERED = "ordered"
    UNORDERED = "unordered"
    SUBSET = "subset"
    SUPERSET = "superset"


@dataclass(frozen=True, slots=True)
class CallExpectation:
    """One expected call: a tool name and a compiled matcher for its arguments."""

    tool: str
    args: Matcher | None
    """None when arguments are ignored."""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class ToolExpectations:
    mode: TrajectoryMode = TrajectoryMode.ORDERED
    arg_mode: ArgMode = ArgMode.PARTIAL
    calls: tuple[CallExpectation, ...] | None = None
    """None: the sequence is not judged (only not_called / counts)."""
    not_called: tuple[str, ...] = ()
    counts: dict[str, Matcher] = field(default_factory=dict)
    """Tool name -> matcher over the number of times it was called (e.g. {$lte: 1})."""


@dataclass(frozen=True, slots=True)
class OutputExpectations:
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    equals: Any = None
    has_equals: bool = False
    json_schema: dict[str, Any] | None = None
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Budget:
    """Per-run caps; None means no cap. Enforced while running and judged afterwards."""

    max_steps: int | None = None
    max_tool_calls: int | None = None
    max_model_calls: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    max_total_tokens: int | None = None
    max_cost_usd: float | None = None
    max_wall_time_s: float | None = None

    def merged_over(self, base: Budget) -> Budget:
        """This budget's caps, falling back to `base` for caps it leaves unset."""
        return Budget(
            **{
                name: getattr(self, name) if getattr(self, name) is not None else getattr(base, name)
                for name in BUDGET_FIELDS
            }
        )

    def caps(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in BUDGET_FIELDS if getattr(self, name) is not None}


BUDGET_FIELDS: tuple[str, ...] = (
    "max_steps",
    "max_tool_calls",
    "max_model_calls",
    "max_input_tokens",
    "max_output_tokens",
    "max_total_tokens",
    "max_cost_usd",
    "max_wall_time_s",
)

CHECK_GROUPS: tuple[str, ...] = (
    "tools",
    "output",
    "budget",
    "contract",
    "policy",
    "resilience",
    "state",
    "injection",
)
"""Names usable in `expect.advisory` to make a whole group of checks advisory."""


@dataclass(frozen=True, slots=True)
class Expectations:
    tools: ToolExpectations | None = None
    output: OutputExpectations | None = None
    budget: Budget = field(default_factory=Budget)
    advisory: frozenset[str] = frozenset()
    resilience: ResilienceExpectations | None = None
    state: dict[str, TableExpectation] | None = None
    injection: InjectionExpectations | None = None
    model_route: str | None = None
    """`default` or `escalate`: the model route the run must take (None: not judged)."""


@dataclass(slots=True)
class Scenario:
    """One scenario, ready to run. `index` is its position in the collected suite (stable order)."""

    id: str
    agent: str
    input: AgentInput
    source: SourceRef
    description: str = ""
    tags: tuple[str, ...] = ()
    fixtures: dict[str, ToolFixture] = field(default_factory=dict)
    expect: Expectations = field(default_factory=Expectations)
    timeout_s: float | None = None
    skip: str | None = None
    index: int = 0
    extensions: dict[str, Any] = field(default_factory=dict)
    """Raw sections owned by later layers (policy, drills); kept so nothing the user wrote is lost."""
    seed: int | None = None
    """Seed of the run's random draws (fixture chances, latency distributions); None: from the id."""
    state: dict[str, StateTable] = field(default_factory=dict)
    """The in-memory tables stateful fixtures read and write, as they are before the run."""
    drills: dict[str, DrillSpec] = field(default_factory=dict)
    """Drills this scenario declares (run with every run), by drill kind."""
    drill: str | None = None
    """The drill this copy of a scenario runs under (`<id> [drill: throttle]`); None: the original."""
    policy: ScenarioPolicy | None = None
    """The scenario's approver, kill switch and policy assertions (docs/policy.md)."""
    trials: int | None = None
    """Times to run it; None: --trials, else `defaults.trials` (docs/release-decisions.md)."""
    min_pass_rate: float = 1.0
    """Share of its trials that must pass for the scenario to pass (1.0: every trial)."""
