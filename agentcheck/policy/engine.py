"""Deciding one call: the per-run policy hook the tool gateway asks before any fixture answers.

Evaluation order (the first refusal wins; docs/policy.md):
identity and scope → allow/block lists → flow rules → intent (and idempotency key) → tier and
approval → spend caps. Anything the engine cannot decide — an unknown agent or tool, a condition
that errors — is a block, never an allow.

The engine keeps what it learns about the run incrementally (tools that answered, ids seen, money
moved), reading only the events added since its last decision, so a long run costs O(calls).
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentcheck.policy.evidence import cited_ids, intent_problem
from agentcheck.policy.expr import Activation, ConditionFailed, Fields, merge_fields
from agentcheck.policy.history import RunHistory, args_key
from agentcheck.policy.spec import (
    STRICTNESS,
    TIER_DEFAULTS,
    Decision,
    FlowRule,
    Policy,
    Principal,
    Rule,
    ScenarioPolicy,
    ScopeGrant,
    ToolPolicy,
)
from agentcheck.scenario import AgentInput, Scenario, SourceRef

APPROVED, DENIED = "approved", "denied"
_ALLOWED, _APPROVAL, _BLOCKED = Decision.ALLOWED.value, Decision.APPROVAL_REQUIRED.value, Decision.BLOCKED.value
_VALUE = {Decision.ALLOWED: _ALLOWED, Decision.APPROVAL_REQUIRED: _APPROVAL, Decision.BLOCKED: _BLOCKED}


class RunView(Protocol):
    """What the engine reads of a run (the runner's RunRecorder satisfies it)."""

    trace: Any
    clock: Any
    lock: Any


@dataclass(slots=True)
class Verdict:
    """Same shape as the gateway's PolicyVerdict: allowed, the trace record, the refusal reason."""

    allowed: bool
    record: dict[str, Any]
    reason: str = ""


class _Refusal(Exception):
    def __init__(self, stage: str, rule: str, reason: str, source: SourceRef | None, values: dict[str, Any]):
        self.stage, self.rule, self.reason, self.source, self.values = stage, rule, reason, source, values


@functools.lru_cache(maxsize=1024)
def _where(source: SourceRef | None) -> str | None:
    return str(source) if source is not None else None


def scope_matches(granted: str, needed: str) -> bool:
    """`*` in a granted scope matches any text, colons included (`orders:*`, `*`)."""
    return granted == needed or ("*" in granted and fnmatch.fnmatchcase(needed, granted))


class RunPolicy:
    """One run's policy hook: the project policy, the scenario's approver and kill switch."""

    def __init__(
        self,
        policy: Policy,
        agent: str,
        task: AgentInput,
        scenario: ScenarioPolicy | None = None,
        agent_version: str | None = None,
        shared: dict[Any, Any] | None = None,
    ):
        self.policy = policy
        self.agent = agent
        self.agent_version = agent_version
        self.scenario = scenario
        self.approvals_given = 0
        self.history = RunHistory(policy, task)
        shared = {} if shared is None else shared
        self._grants: dict[str, list[ScopeGrant]] = shared.setdefault(("grants", agent), {})
        """needed scope -> the principal's grants matching it; shared by the runs of one policy."""
        self._fields: dict[str, Fields] = shared.setdefault("fields", {})
        self._constant: dict[tuple[str, str | None, str], dict[str, Any]] = shared.setdefault("constant", {})
        self._rules_for: dict[tuple[str, str], list[Rule]] = shared.setdefault("rules", {})
        """(agent, tool) -> the rules that can apply, in policy order (the order decides ties)."""
        self._flows_for: dict[str, list[FlowRule]] = shared.setdefault("flows", {})
        """tool -> the flow rules naming it, in policy order."""
        self._static_scopes: dict[tuple[str, str], list[str] | None] = shared.setdefault(("scopes", agent), {})
        """(agent, tool) -> the needed scopes when they cannot change within a run (no argument
        templates, every matching grant live forever, all granted), else None: checked each call."""

    # --- the decision --------------------------------------------------------------------------------

    def decide(self, tool: str, args: Any, run: RunView) -> Verdict:
        with run.lock:
            events = run.trace.events
            self.history.catch_up(events)
            step = events[-1].step if events else 0
            kill = self.scenario.kill_switch if self.scenario else None
            if kill is None or step < kill.at_step:
                constant = self._constant.get((self.agent, self.agent_version, tool))
                if constant is not None:
                    return Verdict(True, dict(constant))
            record: dict[str, Any] = {"decision": _BLOCKED, "agent": self.agent}
            try:
                verdict = self._decide(tool, args if isinstance(args, dict) else {}, run, step, record)
            except _Refusal as refusal:
                record.update(
                    decision=_BLOCKED,
                    stage=refusal.stage,
                    rule=refusal.rule,
                    source=_where(refusal.source),
                    reason=refusal.reason,
                    values=refusal.values,
                )
                return Verdict(False, record, f"blocked by {refusal.rule}: {refusal.reason}")
            if verdict.allowed and "outcome" not in record and self._is_constant(tool):
                self._constant[(self.agent, self.agent_version, tool)] = dict(record)
            return verdict

    def _is_constant(self, tool: str) -> bool:
        """Whether an allowed decision for `tool` cannot change with the arguments or the run: no
        argument-filled or expiring scope, no flow rule, intent, idempotency key, condition or spend
        cap involved. Such a decision is remembered (per agent, version and tool) and reused; the
        kill switch is still checked before every reuse."""
        policy = self.policy
        spec = policy.tools[tool]
        principal = policy.agents[self.agent]
        if spec.intent or spec.idempotency_key or spec.spends or policy.spend.max_model_cost_usd is not None:
            return False
        if any("{" in scope for scope in spec.scopes):
            return False
        grants = [g for g in principal.scopes if any(scope_matches(g.scope, n) for n in spec.scopes)]
        if any(g.expires_after_steps is not None or g.expires_after_s is not None for g in grants):
            return False
        if any(tool in flow.tools for flow in policy.flows):
            return False
        return not any(rule.when is not None and (not rule.tools or tool in rule.tools) for rule in policy.rules)

    def _decide(self, tool: str, args: dict[str, Any], run: RunView, step: int, record: dict[str, Any]) -> Verdict:
        policy = self.policy
        principal = policy.agents.get(self.agent)
        if principal is None:
            raise _Refusal(
                "identity",
                "identity",
                f"agent '{self.agent}' is not a principal in the policy",
                policy.source,
                {"agent": self.agent},
            )
        if principal.version is not None and principal.version != self.agent_version:
            raise _Refusal(
                "identity",
                "identity",
                f"the grants of '{self.agent}' are for version {principal.version}, the agent is {self.agent_version}",
                principal.source,
                {"version": self.agent_version, "granted_for": principal.version},
            )
        self._kill_switch(tool, step)
        spec = policy.tools.get(tool)
        if spec is None:
            raise _Refusal(
                "identity",
                "default-deny",
                f"no policy mentions tool '{tool}' (fail closed)",
                policy.source,
                {"tool": tool},
            )
        risk: str = spec.risk  # a StrEnum: the value itself, without the slow `.value` lookup
        record["risk"] = risk
        record["writes"] = spec.writes
        record["scopes"] = self._scopes(principal, spec, args, run, step)
        if tool in principal.block:
            raise _Refusal(
                "lists",
                f"agents.{principal.name}.block",
                f"'{tool}' is on the agent's block list",
                principal.source,
                {"tool": tool},
            )
        if principal.allow is not None and tool not in principal.allow:
            raise _Refusal(
                "lists",
                f"agents.{principal.name}.allow",
                f"'{tool}' is not on the agent's allow list",
                principal.source,
                {"tool": tool},
            )
        activation: Activation | None = None

        def act() -> Activation:
            nonlocal activation
            if activation is None:
                values = {"args": args, "tool": tool, "agent": self.agent, "run": self.history.run_vars(run, step)}
                activation = Activation(values, self._fields_for(tool))
            return activation

        self._flows(tool, args, act)
        self._intent(spec, args, record)
        rule, decision, values = self._rules(spec, act)
        record["decision"] = _VALUE[decision]
        record["stage"] = "tier"
        record["rule"] = rule.id if rule else "tier." + risk
        record["source"] = _where(rule.source if rule else spec.source)
        record["values"] = values
        if decision is Decision.BLOCKED:
            reason = (rule.reason or "a rule blocks this call") if rule else f"{risk}-risk tools are blocked by default"
            raise _Refusal("tier", record["rule"], reason, rule.source if rule else spec.source, values)
        if decision is Decision.APPROVAL_REQUIRED:
            needed = rule.approvals if rule else 1
            answers = [self._ask() for _ in range(needed)]
            outcome = APPROVED if all(a == APPROVED for a in answers) else DENIED
            record.update(outcome=outcome, approver=self._approver_name(), approvals=answers)
            if outcome == DENIED:
                reason = (
                    "the approver denied the call"
                    if self.scenario and self.scenario.approver
                    else ("approval required and no approver is available")
                )
                record["reason"] = reason
                return Verdict(False, record, f"approval required ({record['rule']}): {reason}")
        self._spend(spec, args, run)
        record.setdefault("reason", rule.reason if rule and rule.reason else "")
        return Verdict(True, record)

    def _fields_for(self, tool: str) -> Fields:
        """What every condition that can apply to `tool` reads, so one activation serves them all."""
        fields = self._fields.get(tool)
        if fields is None:
            conditions = [r.when for r in self.policy.rules if r.when and (not r.tools or tool in r.tools)]
            conditions += [f.when for f in self.policy.flows if f.when and tool in f.tools]
            fields = self._fields[tool] = merge_fields(conditions)
        return fields

    def _kill_switch(self, tool: str, step: int) -> None:
        kill = self.scenario.kill_switch if self.scenario else None
        if kill is None or step < kill.at_step:
            return
        values = {"step": step, "at_step": kill.at_step}
        if kill.autonomy_off:
            raise _Refusal("identity", "kill_switch", f"autonomy is off from step {kill.at_step}", kill.source, values)
        if tool in kill.revoke:
            raise _Refusal(
                "identity", "kill_switch", f"'{tool}' was revoked at step {kill.at_step}", kill.source, values
            )

    def _scopes(
        self, principal: Principal, spec: ToolPolicy, args: dict[str, Any], run: RunView, step: int
    ) -> list[str]:
        kill = self.scenario.kill_switch if self.scenario else None
        revoked = kill.revoke if kill is not None and step >= kill.at_step else ()
        if not revoked:
            key = (principal.name, spec.name)
            static = self._static_scopes.get(key, False)
            if static is False:
                static = self._static_scopes[key] = self._scopes_always_granted(principal, spec)
            if static is not None:
                return list(static)
        now_s = run.clock.now_ms() / 1000.0
        needed_all = []
        for template in spec.scopes:
            try:
                needed = template.format_map(_Args(args)) if "{" in template else template
            except (KeyError, ValueError, IndexError) as exc:
                raise _Refusal(
                    "identity",
                    f"tools.{spec.name}.scopes",
                    f"scope '{template}' needs argument {exc}",
                    spec.source,
                    {"scope": template},
                ) from None
            needed_all.append(needed)
            grants = self._grants.get(needed)
            if grants is None:
                grants = self._grants[needed] = [g for g in principal.scopes if scope_matches(g.scope, needed)]
            if any(scope_matches(r, needed) for r in revoked):
                raise _Refusal(
                    "identity",
                    "kill_switch",
                    f"scope '{needed}' was revoked at step {kill.at_step}",
                    kill.source if kill else None,
                    {"scope": needed, "step": step},
                )
            live = [
                g
                for g in grants
                if (g.expires_after_steps is None or step <= g.expires_after_steps)
                and (g.expires_after_s is None or now_s <= g.expires_after_s)
            ]
            if not live:
                values = {"scope": needed, "granted": [g.scope for g in principal.scopes], "step": step}
                why = (
                    f"scope '{needed}' expired (granted until step {grants[0].expires_after_steps}"
                    f" / {grants[0].expires_after_s}s)"
                    if grants
                    else f"agent lacks scope '{needed}'"
                )
                raise _Refusal(
                    "identity",
                    f"agents.{principal.name}.scopes",
                    why,
                    grants[0].source if grants else principal.source,
                    values,
                )
        return needed_all

    def _scopes_always_granted(self, principal: Principal, spec: ToolPolicy) -> list[str] | None:
        """`spec`'s scopes when every one is a fixed name with a matching grant that never expires:
        then no argument, step or clock can change the outcome of the scope check (a revocation by
        the kill switch is checked before this shortcut is taken)."""
        if any("{" in scope for scope in spec.scopes):
            return None
        for needed in spec.scopes:
            grants = [g for g in principal.scopes if scope_matches(g.scope, needed)]
            if not grants or any(g.expires_after_steps is not None or g.expires_after_s is not None for g in grants):
                return None
        return list(spec.scopes)

    def _flows(self, tool: str, args: dict[str, Any], act: Callable[[], Activation]) -> None:
        flows = self._flows_for.get(tool)
        if flows is None:
            flows = self._flows_for[tool] = [f for f in self.policy.flows if tool in f.tools]
        for flow in flows:
            if flow.requires_prior is not None:
                if args_key(args, flow.same_args) in self.history.prior_keys.get(flow.id, ()):
                    continue
                same = f" with the same {', '.join(flow.same_args)}" if flow.same_args else ""
                reason = flow.reason or f"no earlier successful {flow.requires_prior}{same}"
                raise _Refusal("flow", flow.id, reason, flow.source, {k: args.get(k) for k in flow.same_args})
            hit = [t for t in flow.after if t in self.history.tools_ok]
            if flow.after_untrusted and self.history.untrusted:
                hit.append("untrusted tool output")
            if not hit:
                continue
            values: dict[str, Any] = {"after": hit}
            if flow.when is not None:
                activation = act()
                values.update(flow.when.values(activation))
                try:
                    if not flow.when.holds(activation):
                        continue
                except ConditionFailed as exc:
                    raise _Refusal("flow", flow.id, f"condition failed, blocked: {exc}", flow.source, values) from None
            raise _Refusal("flow", flow.id, flow.reason or f"follows {', '.join(hit)}", flow.source, values)

    def _intent(self, spec: ToolPolicy, args: dict[str, Any], record: dict[str, Any]) -> None:
        if spec.idempotency_key and not args.get(spec.idempotency_key):
            raise _Refusal(
                "intent",
                f"tools.{spec.name}.idempotency_key",
                f"missing idempotency key argument '{spec.idempotency_key}'",
                spec.source,
                {},
            )
        if not spec.intent:
            return
        intent = args.get(self.policy.intent_arg)
        problem = intent_problem(intent)
        if problem is not None:
            raise _Refusal(
                "intent", f"tools.{spec.name}.intent", problem, spec.source, {self.policy.intent_arg: intent}
            )
        record["intent"] = intent
        cited = cited_ids(intent["evidence"])
        invented = [c for c in cited if c not in self.history.seen]
        if invented:
            raise _Refusal(
                "intent",
                f"tools.{spec.name}.intent",
                "evidence not grounded: "
                + ", ".join(invented)
                + " never appeared in the input or an earlier tool result",
                spec.source,
                {"evidence": cited, "ungrounded": invented},
            )

    def _rules(self, spec: ToolPolicy, act: Callable[[], Activation]) -> tuple[Rule | None, Decision, dict[str, Any]]:
        chosen: Rule | None = None
        values: dict[str, Any] = {}
        rules = self._rules_for.get((self.agent, spec.name))
        if rules is None:
            rules = self._rules_for[(self.agent, spec.name)] = [
                r
                for r in self.policy.rules
                if not ((r.tools and spec.name not in r.tools) or (r.agents and self.agent not in r.agents))
            ]
        for rule in rules:
            if rule.when is not None:
                activation = act()
                try:
                    matched = rule.when.holds(activation)
                except ConditionFailed as exc:
                    raise _Refusal(
                        "tier", rule.id, f"condition failed, blocked: {exc}", rule.source, rule.when.values(activation)
                    ) from None
                if not matched:
                    continue
                rule_values = rule.when.values(activation)
            else:
                rule_values = {}
            if chosen is None or STRICTNESS[rule.decision] > STRICTNESS[chosen.decision]:
                chosen, values = rule, rule_values
        if chosen is None:
            return None, TIER_DEFAULTS[spec.risk], {"risk": spec.risk.value}
        return chosen, chosen.decision, values

    def _spend(self, spec: ToolPolicy, args: dict[str, Any], run: RunView) -> None:
        caps = self.policy.spend
        cost = float(run.trace.totals.cost_usd)
        if caps.max_model_cost_usd is not None and cost > caps.max_model_cost_usd:
            raise _Refusal(
                "spend",
                "spend.max_model_cost_usd",
                f"model spend {cost:g} USD is over the cap",
                caps.source,
                {"cost_usd": cost, "cap": caps.max_model_cost_usd},
            )
        if spec.spends is None or caps.max_money_moved is None:
            return
        amount = args.get(spec.spends)
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            raise _Refusal(
                "spend",
                "spend.max_money_moved",
                f"argument '{spec.spends}' is not a number",
                caps.source,
                {spec.spends: amount},
            )
        total = self.history.money_moved + float(amount)
        if total > caps.max_money_moved:
            raise _Refusal(
                "spend",
                "spend.max_money_moved",
                f"moving {float(amount):g} would bring the run to {total:g}, over the cap",
                caps.source,
                {"money_moved": self.history.money_moved, spec.spends: amount, "cap": caps.max_money_moved},
            )

    # --- the scripted approver -----------------------------------------------------------------------

    def _ask(self) -> str:
        script = self.scenario.approver if self.scenario else ()
        if not script:
            return DENIED
        answer = script[min(self.approvals_given, len(script) - 1)]
        self.approvals_given += 1
        return answer

    def _approver_name(self) -> str:
        return "scripted" if self.scenario and self.scenario.approver else "none"


class _Args(dict):  # type: ignore[type-arg]
    """`str.format_map` over a call's arguments; a missing one raises KeyError (→ a block)."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


def policy_factory(policy: Policy, versions: dict[str, str | None] | None = None) -> Callable[[Scenario], RunPolicy]:
    """`scenario -> RunPolicy`: what the session hands the runner so each run gets its own hook.
    `versions` maps agent names to the versions under test (checked against `principal.version`)."""
    known = versions or {}
    shared: dict[Any, Any] = {}  # what every run derives alike from the policy (fields read, grants matched)

    def for_scenario(scenario: Scenario) -> RunPolicy:
        return RunPolicy(policy, scenario.agent, scenario.input, scenario.policy, known.get(scenario.agent), shared)

    return for_scenario
