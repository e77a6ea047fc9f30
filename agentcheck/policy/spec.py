"""A loaded policy, as plain data: who the agents are, what each tool needs, and the rules.

Built by ``agentcheck.collect.policy`` from the `policy:` section of agentcheck.yaml (and the
`policy:` section of a scenario); expressions inside are already compiled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from agentcheck.policy.expr import Condition
from agentcheck.project import RiskTier
from agentcheck.scenario import SourceRef


class Decision(StrEnum):
    """What the policy decided for one call, before any approver was asked."""

    ALLOWED = "allowed"
    APPROVAL_REQUIRED = "approval_required"
    BLOCKED = "blocked"


STRICTNESS = {Decision.ALLOWED: 0, Decision.APPROVAL_REQUIRED: 1, Decision.BLOCKED: 2}
"""When several rules match one call, the strictest decision wins (a block is never outvoted)."""

TIER_DEFAULTS: dict[RiskTier, Decision] = {
    RiskTier.LOW: Decision.ALLOWED,
    RiskTier.MEDIUM: Decision.APPROVAL_REQUIRED,
    RiskTier.HIGH: Decision.BLOCKED,
}
"""The decision for a call no rule matched, by the tool's risk tier."""


@dataclass(frozen=True, slots=True)
class ScopeGrant:
    """A scope granted to an agent, optionally expiring N steps or S seconds into the run."""

    scope: str
    """A concrete resource (`refunds:write`, `slack:post:#support`) or a glob (`orders:*`, `*`)."""
    expires_after_steps: int | None = None
    expires_after_s: float | None = None
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """An agent as the policy sees it: an identity and what it was granted."""

    name: str
    owner: str = ""
    version: str | None = None
    scopes: tuple[ScopeGrant, ...] = ()
    allow: tuple[str, ...] | None = None
    """Tools this agent may call at all; None: every tool its scopes reach."""
    block: tuple[str, ...] = ()
    """Tools this agent may never call, whatever its scopes say."""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    """What calling a tool takes. `risk` and `writes` come from the tool catalog."""

    name: str
    risk: RiskTier
    writes: bool
    scopes: tuple[str, ...] = ()
    """Scopes the call needs; `{arg}` is replaced by the call's argument (`slack:post:{channel}`)."""
    intent: bool = False
    """The call must carry structured intent (action, justification, grounded evidence)."""
    idempotency_key: str | None = None
    """The argument that must carry an idempotency key."""
    spends: str | None = None
    """The argument holding the money this call moves (counted against the spend cap)."""
    untrusted_output: bool = False
    """The tool returns text from outside (web pages, emails): flow rules can key on it."""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A decision for calls of some tools (by some agents) when a condition holds."""

    id: str
    decision: Decision
    tools: tuple[str, ...] = ()
    """Empty: every tool."""
    agents: tuple[str, ...] = ()
    """Empty: every agent."""
    when: Condition | None = None
    approvals: int = 1
    """How many approvals an `approval_required` decision needs (2+ is "stronger approval")."""
    reason: str = ""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class FlowRule:
    """A block over the run so far: after some tool's output, or without a prior read."""

    id: str
    tools: tuple[str, ...]
    after: tuple[str, ...] = ()
    """Triggered when any of these tools has answered earlier in the run."""
    after_untrusted: bool = False
    """Triggered when a tool with `untrusted_output` has answered earlier in the run."""
    requires_prior: str | None = None
    """Triggered when no earlier successful call of this tool exists (with the same `same_args`)."""
    same_args: tuple[str, ...] = ()
    when: Condition | None = None
    """An extra condition: the rule blocks only when it also holds."""
    reason: str = ""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class SpendCaps:
    max_model_cost_usd: float | None = None
    max_money_moved: float | None = None
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    """How a run hands off to a human: a call to one of `tools`, or a marker in the output."""

    tools: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()


@dataclass(slots=True)
class Policy:
    agents: dict[str, Principal] = field(default_factory=dict)
    tools: dict[str, ToolPolicy] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    flows: tuple[FlowRule, ...] = ()
    spend: SpendCaps = field(default_factory=SpendCaps)
    handoff: Handoff = field(default_factory=Handoff)
    intent_arg: str = "intent"
    """The argument of a call that carries its structured intent."""
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """From `at_step` on, refuse every call (`autonomy_off`) or the revoked tools and scopes."""

    at_step: int = 1
    revoke: tuple[str, ...] = ()
    """Tool names or scope patterns."""
    autonomy_off: bool = False
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class DecisionExpectation:
    """The n-th call of `tool` must get `expected`: a Decision, or `approved` / `denied`."""

    tool: str
    expected: str
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class PolicyExpectations:
    decisions: tuple[DecisionExpectation, ...] = ()
    no_violations: bool = False
    handoff: bool | None = None
    stops_after_kill: bool = False


@dataclass(frozen=True, slots=True)
class ScenarioPolicy:
    """A scenario's side of the policy: its scripted approver, kill switch and assertions."""

    approver: tuple[str, ...] = ()
    """Answers (`approved` / `denied`) given in order; the last repeats. Empty: every request denied."""
    kill_switch: KillSwitch | None = None
    expect: PolicyExpectations | None = None
    handoff: Handoff = field(default_factory=Handoff)
    """The project's hand-off definition, copied here so the judge needs only the scenario."""
    source: SourceRef | None = None
