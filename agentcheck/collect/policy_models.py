"""Pydantic models of the `policy:` sections (project and scenario): shapes only, with descriptions.

Kept apart from ``models.py`` (which imports these) so the policy engine owns its input format.
Cross-references and expression compilation happen in ``agentcheck.collect.policy``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Strict, Tag, model_validator
from pydantic_core import PydanticCustomError

from agentcheck.collect.errors import TAG_PREFIX

_Str = Annotated[str, Strict()]
_Text = Annotated[str, Strict(), Field(min_length=1)]
_Bool = Annotated[bool, Strict()]
_Steps = Annotated[int, Strict(), Field(ge=1)]
_Money = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
_Id = Annotated[str, Strict(), Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
DecisionName = Literal["allow", "approval_required", "block"]
ExpectedDecision = Literal["allowed", "approval_required", "approved", "denied", "blocked"]
Answer = Literal["approved", "denied"]


def _answers_shape(value: Any) -> str:
    return TAG_PREFIX + ("list" if isinstance(value, list) else "one")


Answers = Annotated[
    Union[Annotated[Answer, Tag(TAG_PREFIX + "one")], Annotated[list[Answer], Tag(TAG_PREFIX + "list")]],  # noqa: UP007
    Discriminator(_answers_shape),
]
"""One answer for every request, or answers in request order (tagged by shape, so an error names one form)."""



def _on_off(value: object) -> object:
    """YAML 1.1 (PyYAML) reads a bare `off` as false and `on` as true: they mean the words here."""
    return {False: "off", True: "on"}.get(value, value) if isinstance(value, bool) else value


OnOff = Annotated[Literal["on", "off"], BeforeValidator(_on_off)]
"""`on` or `off`, written bare or quoted (see _on_off)."""

class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (see models._Model)


class ScopeGrantModel(_PolicyModel):
    """A scope that expires during the run."""

    scope: _Text = Field(description="The scope, e.g. refunds:write or orders:*.")
    expires_after_steps: _Steps | None = Field(None, description="Valid up to and including this step of the run.")
    expires_after_s: _Money | None = Field(None, description="Valid for this many seconds of the run (virtual clock).")


class PrincipalModel(_PolicyModel):
    """An agent as a principal: its identity and the scopes it is granted."""

    owner: _Str = Field("", description="Who answers for this agent (a team or person).")
    version: _Str | None = Field(None, description="The agent version this grant was reviewed for.")
    scopes: list[_Text | ScopeGrantModel] = Field(
        default_factory=list,
        description="Granted scopes: `resource:action[:target]`, globs allowed, or {scope, expires_after_*}.",
    )
    allow: list[_Text] | None = Field(
        None, description="Tools the agent may call at all; left out: any its scopes reach."
    )
    block: list[_Text] = Field(default_factory=list, description="Tools the agent may never call.")


class ToolPolicyModel(_PolicyModel):
    """What calling a tool takes (its risk tier and `writes` come from the tool catalog)."""

    scopes: list[_Text] = Field(
        default_factory=list, description="Scopes a call needs; `{arg}` is filled from the call."
    )
    intent: _Bool = Field(False, description="Calls must carry structured intent with grounded evidence.")
    idempotency_key: _Text | None = Field(None, description="Argument that must carry an idempotency key.")
    spends: _Text | None = Field(None, description="Argument holding the money a call moves (counted by spend caps).")
    untrusted_output: _Bool = Field(
        False, description="The tool returns outside text (web, email) that flow rules can key on."
    )


class PolicyRuleModel(_PolicyModel):
    """A decision for calls matching tools, agents and a CEL condition."""

    id: _Id = Field(description="Unique rule id, recorded on every decision it makes.")
    tools: list[_Text] = Field(default_factory=list, description="Tools the rule covers; empty: all.")
    agents: list[_Text] = Field(default_factory=list, description="Agents the rule covers; empty: all.")
    when: _Text | None = Field(None, description="CEL condition over `args`, `run`, `tool`, `agent`.")
    decision: DecisionName = Field(description="allow, approval_required or block.")
    approvals: _Steps = Field(1, description="Approvals an approval_required decision needs (2+: stronger).")
    reason: _Str = Field("", description="Why, shown to the agent and in reports.")


class FlowModel(_PolicyModel):
    """A block over the run so far (after untrusted output, or without a prior read)."""

    id: _Id = Field(description="Unique rule id.")
    tools: list[_Text] = Field(min_length=1, description="Tools the flow rule guards.")
    after: list[_Text] = Field(default_factory=list, description="Block after any of these tools answered.")
    after_untrusted: _Bool = Field(False, description="Block after any tool with untrusted_output answered.")
    requires_prior: _Text | None = Field(
        None, description="Block unless this tool answered earlier (a read before a write)."
    )
    same_args: list[_Text] = Field(default_factory=list, description="With requires_prior: arguments that must match.")
    when: _Text | None = Field(None, description="With after: block only when this CEL condition also holds.")
    reason: _Str = Field("", description="Why, shown to the agent and in reports.")

    @model_validator(mode="after")
    def _has_trigger(self) -> FlowModel:
        if not (self.after or self.after_untrusted or self.requires_prior):
            raise PydanticCustomError(
                "flow_trigger", "a flow rule needs `after`, `after_untrusted` or `requires_prior`"
            )
        return self


class SpendModel(_PolicyModel):
    """Per-run spend caps."""

    max_model_cost_usd: _Money | None = Field(None, description="Refuse calls once model spend passes this (USD).")
    max_money_moved: _Money | None = Field(None, description="Most money spending tools may move per run.")


class HandoffModel(_PolicyModel):
    """How a run hands off to a human."""

    tools: list[_Text] = Field(default_factory=list, description="Calling one of these tools is a hand-off.")
    markers: list[_Text] = Field(default_factory=list, description="Text in the final output that marks a hand-off.")


class PolicyModel(_PolicyModel):
    """The tool-use policy: principals, tool needs, rules, flow rules, spend caps (docs/policy.md)."""

    agents: dict[str, PrincipalModel] = Field(default_factory=dict, description="Agents as principals, by agent name.")
    tools: dict[str, ToolPolicyModel] = Field(
        default_factory=dict, description="What each tool needs; unlisted tools are denied."
    )
    rules: list[PolicyRuleModel] = Field(
        default_factory=list, description="Decisions by condition; the strictest match wins."
    )
    flows: list[FlowModel] = Field(default_factory=list, description="Blocks over the run so far.")
    spend: SpendModel = Field(default_factory=SpendModel, description="Caps on model spend and money moved, per run.")
    handoff: HandoffModel = Field(default_factory=HandoffModel, description="What counts as a hand-off to a human.")
    intent_arg: _Text = Field("intent", description="The call argument that carries structured intent.")


class KillSwitchModel(_PolicyModel):
    """From a step on, refuse revoked tools and scopes, or everything."""

    at_step: _Steps = Field(description="The first step the kill switch applies to.")
    revoke: list[_Text] = Field(default_factory=list, description="Tool names or scope patterns to refuse.")
    autonomy: OnOff = Field("on", description="off: refuse every call from at_step on.")

    @model_validator(mode="after")
    def _does_something(self) -> KillSwitchModel:
        if not self.revoke and self.autonomy == "on":
            raise PydanticCustomError("kill_switch", "a kill switch needs `revoke: [...]` or `autonomy: off`")
        return self


class PolicyExpectModel(_PolicyModel):
    """Policy assertions about the run."""

    decisions: list[dict[_Text, ExpectedDecision]] = Field(
        default_factory=list,
        description="[{tool: decision}] in call order per tool: allowed, approval_required, approved, denied, blocked.",
    )
    no_violations: _Bool = Field(False, description="No call was blocked by the policy.")
    handoff: _Bool | None = Field(None, description="The run ended in a hand-off to a human (true) or did not (false).")
    stops_after_kill: _Bool = Field(
        False, description="After the first kill-switch refusal, no further write attempts."
    )


class ScenarioPolicyModel(_PolicyModel):
    """A scenario's policy side: the scripted approver, a kill switch, assertions."""

    approver: Answers | None = Field(
        None, description="Answers to approval requests in order (the last repeats); none: every request denied."
    )
    autonomy: OnOff = Field("on", description="off: every call is refused from the first step.")
    kill_switch: KillSwitchModel | None = Field(None, description="Revoke tools or scopes from a step on.")
    expect: PolicyExpectModel | None = Field(None, description="Policy assertions.")
