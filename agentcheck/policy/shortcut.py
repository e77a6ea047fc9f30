"""A plan's shortcut: the usual allowed decision in one function, or None to decide the long way.

The engine (engine.py) decides a call stage by stage, with a refusal record for every way a call can
fail. Most calls of a healthy run are plain allows, and for them that generality is most of the
cost: a call per stage, an activation, a record grown key by key. A shortcut, built once per plan
when the plan has the usual shape (a principal with fixed scopes granted for good, no allow/block
refusal, flow rules that only need an earlier call, rules fixed or remembered by exact inputs),
runs the same checks in the same order and returns the very record the engine would give.

It only ever proves an allow. On anything else — a flow not satisfied, intent missing, malformed or
citing an id not yet seen in the shape it can check, a rules outcome not yet remembered, a decision
other than `allowed`, a spend over a cap — it returns None and the engine decides the call from the
start, so every refusal and every approval still comes from one place. Its only side effects are the
engine's own idempotent ones (catching the history up, indexing seen ids). The kill switch is never
shortcut: the engine takes the long way whenever it has been reached.
tests/test_policy_fast_paths.py holds shortcut and engine to identical verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentcheck.policy.evidence import intent_problem, key_missing
from agentcheck.policy.history import args_key
from agentcheck.policy.spec import Decision, Policy

if TYPE_CHECKING:
    from agentcheck.policy.engine import RunPolicy, Verdict
    from agentcheck.policy.plan import ToolPlan

Shortcut = Callable[["RunPolicy", dict[str, Any], Any, int], "Verdict | None"]
"""(the run's hook, the call's arguments, the run, its step) -> an allowed verdict, or None."""

ABSENT = object()
"""A field the call or the run does not have, in exact keys (never equal to any value, None included);
the engine's exact keys use the same marker, so a shortcut finds what the engine remembered."""

_NUMBER = (int, float)
_INF = float("inf")
"""(`0 <= amount < _INF` is false for NaN, infinities and negatives: those go the long way.)"""


def compile_shortcut(policy: Policy, plan: ToolPlan) -> Shortcut | None:
    """The plan's shortcut, or None when the plan is not of the usual shape."""
    spec = plan.spec
    if (
        spec is None
        or plan.identity is not None
        or plan.lists is not None
        or plan.static_scopes is None
        or plan.may_be_constant  # a remembered constant record serves these already
        or any(flow.requires_prior is None for flow in plan.flows)
        or (plan.fixed_rules is None and plan.exact_args is None)
    ):
        return None
    from agentcheck.policy.engine import Verdict  # the engine imports the plan module, which imports this one

    scopes = plan.static_scopes
    risk, writes = spec.risk, spec.writes
    reads_history, reads_run, run_fields = plan.reads_history, plan.reads_run, plan.run_fields
    priors = tuple((flow.id, flow.same_args) for flow in plan.flows)
    idempotency_key, wants_intent, intent_arg = spec.idempotency_key, spec.intent, policy.intent_arg
    names = plan.exact_args
    exact_outcomes = plan.exact_outcomes
    fixed = plan.fixed_rules
    if fixed is not None:
        rule, decision, fixed_rule_id, fixed_source = fixed
        if decision is not Decision.ALLOWED:
            return None  # a fixed block or approval: always the long way
        fixed_values: dict[str, Any] = {} if rule is not None else {"risk": spec.risk.value}
        fixed_reason = rule.reason if rule and rule.reason else ""
    model_cap = policy.spend.max_model_cost_usd
    money_cap = policy.spend.max_money_moved if spec.spends is not None else None
    spends = spec.spends

    def shortcut(hook: RunPolicy, args: dict[str, Any], run: Any, step: int) -> Verdict | None:
        history = None
        if reads_history:
            history = hook.history
            history.catch_up(run.trace.events)
        for flow_id, same in priors:  # each needs an earlier successful call with the same arguments
            if len(same) == 1 and type(value := args.get(same[0])) is str:
                key: Any = (value,)
            else:
                key = args_key(args, same)
            if key not in history.prior_keys.get(flow_id, ()):  # type: ignore[union-attr]
                return None
        if idempotency_key and key_missing(args.get(idempotency_key)):
            return None
        intent = None
        if wants_intent:
            intent = args.get(intent_arg)
            if intent_problem(intent) is not None:
                return None
            seen = history.seen  # type: ignore[union-attr]
            for item in intent["evidence"]:
                if type(item) is not str or item not in seen:
                    return None
        if fixed is not None:
            rule_id, source, values, reason = fixed_rule_id, fixed_source, dict(fixed_values), fixed_reason
        else:
            run_values = history.run_vars(run, step, run_fields).values() if reads_run and history else ()
            assert names is not None
            if len(names) == 1:
                found = (args.get(names[0], ABSENT), *run_values)
            else:
                found = (*[args.get(name, ABSENT) for name in names], *run_values)
            try:
                known = exact_outcomes.get((found, tuple(map(type, found))))
            except TypeError:  # an unhashable value: the engine keys it another way
                return None
            if known is None or known[1] is not Decision.ALLOWED:
                return None
            rule, _, rule_id, source, seen_values = known
            values, reason = dict(seen_values), (rule.reason if rule and rule.reason else "")
        if model_cap is not None and float(run.trace.totals.cost_usd) > model_cap:
            return None
        if money_cap is not None:
            if history is None:
                return None
            amount = args.get(spends)  # type: ignore[arg-type]
            if not isinstance(amount, _NUMBER) or isinstance(amount, bool) or not 0 <= amount < _INF:
                return None
            if history.money_moved + float(amount) > money_cap:  # type: ignore[union-attr]
                return None
        # in the engine's key order (intent, when the tool takes it, between scopes and stage)
        record = {"decision": "allowed", "agent": hook.agent, "risk": risk, "writes": writes, "scopes": list(scopes)}
        if wants_intent:
            record["intent"] = intent
        record.update(stage="tier", rule=rule_id, source=source, values=values, reason=reason)
        return Verdict(True, record)

    return shortcut
