"""What the policy fixes about deciding calls of one tool by one agent, worked out once per policy.

A decision runs the same stages for every call (docs/policy.md), but most of what each stage looks
at depends only on the policy, the agent and the tool: whether the agent is a principal, whether the
tool is mentioned, its allow/block lists, the rules and flow rules that can apply, the fields their
conditions read, whether the needed scopes are fixed and granted for good. A `ToolPlan` holds those
answers, so deciding a call does only the work its arguments and the run so far can change.
Plans are built on first use and shared by every run of one policy (they hold nothing of a run).
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field
from typing import Any

from agentcheck.policy.expr import Fields, merge_fields
from agentcheck.policy.history import prior_flows_of
from agentcheck.policy.shortcut import Shortcut, compile_shortcut
from agentcheck.policy.spec import (
    STRICTNESS,
    TIER_DEFAULTS,
    Decision,
    FlowRule,
    Policy,
    Principal,
    Rule,
    ScopeGrant,
    ToolPolicy,
)
from agentcheck.scenario import SourceRef


class Refusal(Exception):
    """A stage said no: raised inside a decision and turned into the call's blocked record."""

    def __init__(self, stage: str, rule: str, reason: str, source: SourceRef | None, values: dict[str, Any]):
        self.stage, self.rule, self.reason, self.source, self.values = stage, rule, reason, source, values

    def again(self) -> Refusal:
        """A fresh copy to raise: a plan's refusal is shared by runs, and raising one instance
        over and over would grow its traceback."""
        return Refusal(self.stage, self.rule, self.reason, self.source, dict(self.values))


def scope_matches(granted: str, needed: str) -> bool:
    """`*` in a granted scope matches any text, colons included (`orders:*`, `*`)."""
    return granted == needed or ("*" in granted and fnmatch.fnmatchcase(needed, granted))


TierOutcome = tuple[Rule | None, Decision | str, str, str | None]
"""The rules stage: the chosen rule (None: the tier default), its decision (text: why its condition
could not be decided), and the record's `rule` and `source`."""


@functools.lru_cache(maxsize=1024)
def where(source: SourceRef | None) -> str | None:
    """`file:line` of a policy entry, as decision records show it."""
    return str(source) if source is not None else None


def tier_outcome(spec: ToolPolicy, rule: Rule | None, decision: Decision) -> TierOutcome:
    if rule is None:
        return None, decision, "tier." + spec.risk, where(spec.source)
    return rule, decision, rule.id, where(rule.source)


RUN_FIELDS_ALL = None
"""`ToolPlan.run_fields` when a condition reads `run` whole (every field is then computed)."""


@dataclass(slots=True)
class ToolPlan:
    tool: str
    principal: Principal | None
    identity: Refusal | None
    """Refusal before the kill switch is checked: not a principal, or grants for another version."""
    spec: ToolPolicy | None
    """None: no policy mentions the tool (a fail-closed refusal after the kill switch)."""
    static_scopes: tuple[str, ...] | None = None
    """The needed scopes when no argument, step or clock can change the scope check's outcome."""
    lists: Refusal | None = None
    """The allow/block-list refusal, when the lists refuse this tool to this agent."""
    flows: tuple[FlowRule, ...] = ()
    rules: tuple[Rule, ...] = ()
    fields: Fields = field(default_factory=dict)
    """What the conditions of `rules` and `flows` read; one activation (and one key) serves them all."""
    run_fields: tuple[str, ...] | None = ()
    """The `run.*` fields those conditions read (RUN_FIELDS_ALL: all of them)."""
    fixed_rules: TierOutcome | None = None
    """The rules stage's outcome when no rule that can apply has a condition."""
    exact_args: tuple[str, ...] | None = None
    """The argument names the conditions read, when they read only `args.x` and `run.y` fields (then
    the rules stage is remembered by the exact values: see the engine's `_exact_key`)."""
    exact_outcomes: dict[Any, tuple[Rule | None, Decision, str, str | None, dict[str, Any]]] = field(
        default_factory=dict
    )
    """Exact inputs (values and types) -> the rules stage's decided outcome with the values it saw."""
    rule_outcomes: dict[Any, TierOutcome] = field(default_factory=dict)
    """Condition inputs -> the rules stage's outcome (the chosen rule and decision, or the rule whose
    condition failed and why). The stage is a pure function of those inputs."""
    reads_run: bool = False
    """Whether a condition reads `run` (the run so far)."""
    reads_history: bool = False
    """Whether deciding reads the run so far (flows, grounding, money moved, `run.*` conditions)."""
    may_be_constant: bool = False
    """Whether an allowed decision is one no argument or run state can change (see `is_constant`)."""
    constant: dict[str, Any] | None = None
    """An allowed record that no argument or run state can change (reused until a kill switch is live)."""
    shortcut: Shortcut | None = None
    """The usual allow in one function (policy/shortcut.py), when the plan has the usual shape."""


def build_plan(policy: Policy, agent: str, version: str | None, tool: str) -> ToolPlan:
    principal = policy.agents.get(agent)
    identity: Refusal | None = None
    if principal is None:
        identity = Refusal(
            "identity", "identity", f"agent '{agent}' is not a principal in the policy", policy.source, {"agent": agent}
        )
    elif principal.version is not None and principal.version != version:
        identity = Refusal(
            "identity",
            "identity",
            f"the grants of '{agent}' are for version {principal.version}, the agent is {version}",
            principal.source,
            {"version": version, "granted_for": principal.version},
        )
    spec = policy.tools.get(tool)
    plan = ToolPlan(tool, principal, identity, spec)
    if principal is None or spec is None:
        return plan
    plan.static_scopes = _scopes_always_granted(principal, spec)
    plan.lists = _list_refusal(principal, tool)
    plan.flows = tuple(f for f in policy.flows if tool in f.tools)
    plan.rules = tuple(
        r for r in policy.rules if not ((r.tools and tool not in r.tools) or (r.agents and agent not in r.agents))
    )
    conditions = [r.when for r in plan.rules if r.when is not None]
    conditions += [f.when for f in plan.flows if f.when is not None]
    plan.fields = merge_fields(conditions)
    if plan.fields and set(plan.fields) <= {"args", "run"} and all(n is not None for n in plan.fields.values()):
        plan.exact_args = plan.fields.get("args") or ()
    run = plan.fields.get("run", ())
    plan.run_fields = RUN_FIELDS_ALL if run is None else tuple(run)
    plan.reads_run = plan.run_fields is None or bool(plan.run_fields)
    plan.reads_history = bool(plan.flows or spec.intent or spec.spends or plan.reads_run)
    if not any(r.when is not None for r in plan.rules):
        plan.fixed_rules = tier_outcome(spec, *choose_rule(list(plan.rules), spec))
    plan.may_be_constant = is_constant(policy, plan)
    plan.shortcut = compile_shortcut(policy, plan)
    return plan


def choose_rule(holding: list[Rule], spec: ToolPolicy) -> tuple[Rule | None, Decision]:
    """The strictest of the rules that hold (in policy order; ties go to the earlier rule), or
    none and the tier default."""
    chosen: Rule | None = None
    for rule in holding:
        if chosen is None or STRICTNESS[rule.decision] > STRICTNESS[chosen.decision]:
            chosen = rule
    return (chosen, chosen.decision) if chosen is not None else (None, TIER_DEFAULTS[spec.risk])


def is_constant(policy: Policy, plan: ToolPlan) -> bool:
    """Whether an allowed decision for the plan's tool cannot change with the arguments or the run:
    scopes fixed and granted for good, no flow rule, intent, idempotency key, condition or spend cap."""
    spec = plan.spec
    if spec is None or plan.static_scopes is None or plan.flows or plan.fixed_rules is None:
        return False
    return not (spec.intent or spec.idempotency_key or spec.spends or policy.spend.max_model_cost_usd is not None)


def _scopes_always_granted(principal: Principal, spec: ToolPolicy) -> tuple[str, ...] | None:
    """`spec`'s scopes when every one is a fixed name with a matching grant that never expires:
    then no argument, step or clock can change the outcome of the scope check (a revocation by the
    kill switch is checked before this shortcut is taken)."""
    if any("{" in scope for scope in spec.scopes):
        return None
    for needed in spec.scopes:
        grants = [g for g in principal.scopes if scope_matches(g.scope, needed)]
        if not grants or any(g.expires_after_steps is not None or g.expires_after_s is not None for g in grants):
            return None
    return spec.scopes


def _list_refusal(principal: Principal, tool: str) -> Refusal | None:
    if tool in principal.block:
        return Refusal(
            "lists",
            f"agents.{principal.name}.block",
            f"'{tool}' is on the agent's block list",
            principal.source,
            {"tool": tool},
        )
    if principal.allow is not None and tool not in principal.allow:
        return Refusal(
            "lists",
            f"agents.{principal.name}.allow",
            f"'{tool}' is not on the agent's allow list",
            principal.source,
            {"tool": tool},
        )
    return None


class PlanBook:
    """What the runs of one policy share: the plans per agent, version and tool, which grants match
    a needed scope, and the flow rules keyed by the tool they need earlier. Nothing of a run."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._plans: dict[tuple[str, str | None], dict[str, ToolPlan]] = {}
        self._grants: dict[tuple[str, str], list[ScopeGrant]] = {}
        self.prior_flows = prior_flows_of(policy)

    def plans_for(self, agent: str, version: str | None) -> dict[str, ToolPlan]:
        """tool -> plan, for one agent and version (filled on first use of each tool)."""
        plans = self._plans.get((agent, version))
        if plans is None:
            plans = self._plans[(agent, version)] = {}
        return plans

    def grants(self, principal: Principal, needed: str) -> list[ScopeGrant]:
        """The principal's grants that match `needed` (scope names filled from arguments repeat)."""
        key = (principal.name, needed)
        found = self._grants.get(key)
        if found is None:
            found = self._grants[key] = [g for g in principal.scopes if scope_matches(g.scope, needed)]
        return found
