"""Deciding one call: the per-run policy hook the tool gateway asks before any fixture answers.

Evaluation order (the first refusal wins; docs/policy.md):
identity and scope → allow/block lists → flow rules → intent (and idempotency key) → tier and
approval → spend caps. Anything the engine cannot decide — an unknown agent or tool, a condition
that errors — is a block, never an allow.

What the policy fixes about an (agent, tool) pair is worked out once, in a plan (policy/plan.py),
shared by every run of the policy; a decision does only the work the call's arguments and the run so
far can change. The engine keeps what it learns about the run incrementally (tools that answered,
ids seen, money moved), reading only the events added since its last decision, so a long run costs
O(calls).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentcheck.policy.evidence import cited_ids, intent_problem, key_missing
from agentcheck.policy.expr import MEMO_SIZE, Activation, ConditionFailed
from agentcheck.policy.history import RunHistory, args_key
from agentcheck.policy.plan import (
    PlanBook,
    Refusal,
    TierOutcome,
    ToolPlan,
    build_plan,
    choose_rule,
    scope_matches,
    tier_outcome,
    where,
)
from agentcheck.policy.shortcut import ABSENT as _ABSENT
from agentcheck.policy.spec import Decision, Policy, Rule, ScenarioPolicy, ToolPolicy
from agentcheck.policy.spend import check_spend
from agentcheck.scenario import AgentInput, Scenario

__all__ = ["RunPolicy", "Verdict", "policy_factory", "scope_matches"]

APPROVED, DENIED = "approved", "denied"
_ALLOWED, _APPROVAL, _BLOCKED = Decision.ALLOWED.value, Decision.APPROVAL_REQUIRED.value, Decision.BLOCKED.value
_VALUE = {Decision.ALLOWED: _ALLOWED, Decision.APPROVAL_REQUIRED: _APPROVAL, Decision.BLOCKED: _BLOCKED}

VERIFY_SHORTCUTS = os.environ.get("AGENTCHECK_VERIFY_SHORTCUTS") == "1"
"""Every allow a plan's shortcut proves is decided the long way too and must be the same (the test
suite sets this, subprocesses included, so each policy test also checks the shortcut — a check the
engine gains that the shortcut does not know would fail there, not pass quietly)."""


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


class RunPolicy:
    """One run's policy hook: the project policy, the scenario's approver and kill switch."""

    __slots__ = (
        "_agent_version",
        "_book",
        "_history",
        "_plans",
        "agent",
        "approvals_given",
        "kill",
        "policy",
        "scenario",
        "task",
    )

    def __init__(
        self,
        policy: Policy,
        agent: str,
        task: AgentInput,
        scenario: ScenarioPolicy | None = None,
        agent_version: str | None = None,
        book: PlanBook | None = None,
    ):
        self.policy = policy
        self.agent = agent
        self.scenario = scenario
        self.kill = scenario.kill_switch if scenario is not None else None
        self.approvals_given = 0
        self.task = task
        self._book = PlanBook(policy) if book is None else book
        self._agent_version = agent_version
        self._plans = self._book.plans_for(agent, agent_version)
        self._history: RunHistory | None = None

    @property
    def agent_version(self) -> str | None:
        return self._agent_version

    @agent_version.setter
    def agent_version(self, version: str | None) -> None:
        self._agent_version = version
        self._plans = self._book.plans_for(self.agent, version)

    @property
    def history(self) -> RunHistory:
        """What the run has shown so far; built on first need (a run of fixed decisions never needs it)."""
        if self._history is None:
            self._history = RunHistory(self.policy, self.task, self._book.prior_flows)
        return self._history

    # --- the decision --------------------------------------------------------------------------------

    def decide(self, tool: str, args: Any, run: RunView) -> Verdict:
        plan = self._plans.get(tool)
        if plan is None:
            plan = self._plans[tool] = build_plan(self.policy, self.agent, self.agent_version, tool)
        if plan.constant is not None and self.kill is None:  # reads nothing of the run: no lock needed
            return Verdict(True, plan.constant.copy())
        with run.lock:
            events = run.trace.events
            step = events[-1].step if events else 0
            kill = self.kill
            killed = kill is not None and step >= kill.at_step
            if plan.constant is not None and not killed:
                return Verdict(True, dict(plan.constant))
            if plan.shortcut is not None and not killed and type(args) is dict:
                quick = plan.shortcut(self, args, run, step)  # the usual allow, or None: the long way
                if quick is not None:
                    if VERIFY_SHORTCUTS:
                        self._verify_shortcut(plan, args, run, step, quick)
                    return quick
            record: dict[str, Any] = {"decision": _BLOCKED, "agent": self.agent}
            try:
                verdict = self._decide(plan, args if isinstance(args, dict) else {}, run, step, killed, record)
            except Refusal as refusal:
                record.update(
                    decision=_BLOCKED,
                    stage=refusal.stage,
                    rule=refusal.rule,
                    source=where(refusal.source),
                    reason=refusal.reason,
                    values=refusal.values,
                )
                return Verdict(False, record, f"blocked by {refusal.rule}: {refusal.reason}")
            if plan.may_be_constant and verdict.allowed and "outcome" not in record:
                plan.constant = dict(record)
            return verdict

    def _verify_shortcut(self, plan: ToolPlan, args: dict[str, Any], run: RunView, step: int, quick: Verdict) -> None:
        """Decide the long way too and insist on the very same allow (VERIFY_SHORTCUTS: the test suite)."""
        record: dict[str, Any] = {"decision": _BLOCKED, "agent": self.agent}
        try:
            verdict = self._decide(plan, args, run, step, False, record)
        except Refusal as refusal:
            raise AssertionError(f"a policy shortcut allowed '{plan.tool}', which the engine refuses: "
                                 f"{refusal.rule}: {refusal.reason}") from None
        if not verdict.allowed or verdict.record != quick.record:
            raise AssertionError(f"a policy shortcut's record for '{plan.tool}' differs from the engine's: "
                                 f"{quick.record!r} != {verdict.record!r}")

    def _decide(
        self, plan: ToolPlan, args: dict[str, Any], run: RunView, step: int, killed: bool, record: dict[str, Any]
    ) -> Verdict:
        if plan.identity is not None:
            raise plan.identity.again()
        if killed:
            self._kill_switch(plan.tool, step)
        spec = plan.spec
        if spec is None:
            raise Refusal(
                "identity",
                "default-deny",
                f"no policy mentions tool '{plan.tool}' (fail closed)",
                self.policy.source,
                {"tool": plan.tool},
            )
        risk: str = spec.risk  # a StrEnum: the value itself, without the slow `.value` lookup
        record["risk"] = risk
        record["writes"] = spec.writes
        revoked = self.kill.revoke if killed and self.kill is not None else ()
        if not revoked and plan.static_scopes is not None:
            record["scopes"] = list(plan.static_scopes)
        else:
            record["scopes"] = self._scopes(plan, args, run, step, revoked)
        if plan.lists is not None:
            raise plan.lists.again()
        history = None
        if plan.reads_history:
            history = self._history or self.history
            history.catch_up(run.trace.events)
        activation: Activation | None = None
        if plan.fields:  # conditions: one activation serves them all (converted for CEL only if evaluated)
            values = {"args": args, "tool": plan.tool, "agent": self.agent}
            if plan.reads_run and history is not None:
                values["run"] = history.run_vars(run, step, plan.run_fields)
            activation = Activation(values, plan.fields)
        if plan.flows:
            self._flows(plan, args, activation)
        if spec.intent or spec.idempotency_key:
            self._intent(spec, args, record)
        if plan.fixed_rules is not None:
            rule, decision, rule_id, source = plan.fixed_rules
            values = {} if rule is not None else {"risk": spec.risk.value}
        else:
            assert activation is not None  # a plan without fixed rules has conditions
            rule, decision, rule_id, source, values = self._rules(plan, spec, activation)
        record["decision"] = _VALUE[decision]
        record["stage"] = "tier"
        record["rule"] = rule_id
        record["source"] = source
        record["values"] = values
        if decision is Decision.BLOCKED:
            reason = (rule.reason or "a rule blocks this call") if rule else f"{risk}-risk tools are blocked by default"
            raise Refusal("tier", record["rule"], reason, rule.source if rule else spec.source, values)
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
        check_spend(self.policy, spec, args, float(run.trace.totals.cost_usd), self._history)
        record.setdefault("reason", rule.reason if rule and rule.reason else "")
        return Verdict(True, record)

    def _kill_switch(self, tool: str, step: int) -> None:
        kill = self.kill
        if kill is None or step < kill.at_step:
            return
        values = {"step": step, "at_step": kill.at_step}
        if kill.autonomy_off:
            raise Refusal("identity", "kill_switch", f"autonomy is off from step {kill.at_step}", kill.source, values)
        if tool in kill.revoke:
            reason = f"'{tool}' was revoked at step {kill.at_step}"
            raise Refusal("identity", "kill_switch", reason, kill.source, values)

    def _scopes(
        self, plan: ToolPlan, args: dict[str, Any], run: RunView, step: int, revoked: tuple[str, ...]
    ) -> list[str]:
        """The needed scopes, checked against what is granted and live now (templates filled from
        the call's arguments, expiry by step and virtual clock, revocations by the kill switch)."""
        spec, principal, kill = plan.spec, plan.principal, self.kill
        assert spec is not None and principal is not None
        now_s = run.clock.now_ms() / 1000.0
        needed_all = []
        for template in spec.scopes:
            try:
                needed = template.format_map(_Args(args)) if "{" in template else template
            except (KeyError, ValueError, IndexError) as exc:
                raise Refusal(
                    "identity",
                    f"tools.{spec.name}.scopes",
                    f"scope '{template}' needs argument {exc}",
                    spec.source,
                    {"scope": template},
                ) from None
            needed_all.append(needed)
            grants = self._book.grants(principal, needed)
            if any(scope_matches(r, needed) for r in revoked):
                raise Refusal(
                    "identity",
                    "kill_switch",
                    f"scope '{needed}' was revoked at step {kill.at_step if kill else '?'}",
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
                raise Refusal(
                    "identity",
                    f"agents.{principal.name}.scopes",
                    why,
                    grants[0].source if grants else principal.source,
                    values,
                )
        return needed_all

    def _flows(self, plan: ToolPlan, args: dict[str, Any], activation: Activation | None) -> None:
        history = self._history
        assert history is not None  # a plan with flows reads the history, caught up before this
        for flow in plan.flows:
            if flow.requires_prior is not None:
                if args_key(args, flow.same_args) in history.prior_keys.get(flow.id, ()):
                    continue
                same = f" with the same {', '.join(flow.same_args)}" if flow.same_args else ""
                reason = flow.reason or f"no earlier successful {flow.requires_prior}{same}"
                raise Refusal("flow", flow.id, reason, flow.source, {k: args.get(k) for k in flow.same_args})
            hit = [t for t in flow.after if t in history.tools_ok]
            if flow.after_untrusted and history.untrusted:
                hit.append("untrusted tool output")
            if not hit:
                continue
            values: dict[str, Any] = {"after": hit}
            if flow.when is not None:
                assert activation is not None  # built whenever a condition can apply
                values.update(flow.when.values(activation))
                try:
                    if not flow.when.holds(activation):
                        continue
                except ConditionFailed as exc:
                    raise Refusal("flow", flow.id, f"condition failed, blocked: {exc}", flow.source, values) from None
            raise Refusal("flow", flow.id, flow.reason or f"follows {', '.join(hit)}", flow.source, values)

    def _intent(self, spec: ToolPolicy, args: dict[str, Any], record: dict[str, Any]) -> None:
        if spec.idempotency_key and key_missing(args.get(spec.idempotency_key)):
            raise Refusal(
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
            raise Refusal("intent", f"tools.{spec.name}.intent", problem, spec.source, {self.policy.intent_arg: intent})
        record["intent"] = intent
        history = self._history or self.history  # caught up when the plan reads the history (an intent tool's does)
        seen = history.seen
        evidence = intent["evidence"]
        for item in evidence:  # the usual case: ids, all seen
            if type(item) is not str or item not in seen:
                break
        else:
            return
        cited = cited_ids(evidence)
        invented = [c for c in cited if c not in seen]
        if invented:
            raise Refusal(
                "intent",
                f"tools.{spec.name}.intent",
                "evidence not grounded: "
                + ", ".join(invented)
                + " never appeared in the input or an earlier tool result",
                spec.source,
                {"evidence": cited, "ungrounded": invented},
            )

    def _rules(
        self, plan: ToolPlan, spec: ToolPolicy, activation: Activation
    ) -> tuple[Rule | None, Decision, str, str | None, dict[str, Any]]:
        """The rules stage: remembered per plan by the values its conditions read (a pure function
        of them), so a repeated input costs one key and one lookup however many rules there are.
        Returns the chosen rule (None: the tier default), the decision, the rule id and where it
        is written, and the values the chosen condition saw."""
        exact = _exact_key(activation.values, plan.exact_args) if plan.exact_args is not None else None
        if exact is not None:
            try:
                known = plan.exact_outcomes.get(exact)
            except TypeError:  # a value that cannot be hashed (a list, a mapping): the general key below
                exact = known = None
            if known is not None:
                rule, result, rule_id, source, seen = known
                return rule, result, rule_id, source, dict(seen)
        key = activation.key_for(plan.fields)
        outcome = plan.rule_outcomes.get(key) if key is not None else None
        if outcome is None:
            outcome = _evaluate_rules(plan, spec, activation)
            if key is not None:
                if len(plan.rule_outcomes) >= MEMO_SIZE:
                    plan.rule_outcomes.clear()
                plan.rule_outcomes[key] = outcome
        rule, result, rule_id, source = outcome
        if isinstance(result, Decision):
            if rule is None:
                values: dict[str, Any] = {"risk": spec.risk.value}
            else:
                values = rule.when.values(activation) if rule.when is not None else {}
            if exact is not None:  # the exact values and their types: the values seen repeat too
                if len(plan.exact_outcomes) >= MEMO_SIZE:
                    plan.exact_outcomes.clear()
                plan.exact_outcomes[exact] = (rule, result, rule_id, source, dict(values))
            return rule, result, rule_id, source, values
        assert rule is not None and rule.when is not None  # a failure names the rule whose condition failed
        reason = f"condition failed, blocked: {result}"
        raise Refusal("tier", rule_id, reason, rule.source, rule.when.values(activation))

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
    book = PlanBook(policy)  # what every run derives alike from the policy

    def for_scenario(scenario: Scenario) -> RunPolicy:
        return RunPolicy(policy, scenario.agent, scenario.input, scenario.policy, known.get(scenario.agent), book)

    return for_scenario


def _evaluate_rules(plan: ToolPlan, spec: ToolPolicy, activation: Activation) -> TierOutcome:
    """Every condition in policy order (the first that cannot be decided blocks, naming its rule),
    then the strictest rule that holds; with the record's rule id and where that rule is written."""
    holding: list[Rule] = []
    for rule in plan.rules:
        if rule.when is not None:
            try:
                if not rule.when.holds(activation):
                    continue
            except ConditionFailed as exc:
                return rule, str(exc), rule.id, where(rule.source)
        holding.append(rule)
    return tier_outcome(spec, *choose_rule(holding, spec))


"""The types a spend amount may have (bool excluded apart): a tuple, not `int | float`, which would
build a union object on every call."""


def _exact_key(values: dict[str, Any], names: tuple[str, ...]) -> Any:
    """The exact values a plan's conditions read — the named arguments, then the `run` fields — and
    their types: equal keys mean identical inputs (`1`, `1.0` and `true` apart, a missing field apart
    from null), so the rules stage's whole outcome, the values it saw included, repeats. None when
    the call's arguments are not a mapping."""
    args = values["args"]
    if type(args) is not dict:
        return None
    run = values.get("run")
    if len(names) == 1:
        found = (args.get(names[0], _ABSENT), *run.values()) if run else (args.get(names[0], _ABSENT),)
    else:
        found = (*[args.get(name, _ABSENT) for name in names], *(run.values() if run else ()))
    return found, tuple(map(type, found))
