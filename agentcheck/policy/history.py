"""What the run has shown so far, as the policy needs it: folded in one event at a time.

Each decision reads only the events added since the previous one, so deciding a long run costs
O(calls), and the `run.*` variables of conditions come from here.
"""

from __future__ import annotations

from typing import Any

from agentcheck.policy.evidence import SeenIds
from agentcheck.policy.expr import RUN_FIELD_ORDER
from agentcheck.policy.spec import FlowRule, Policy
from agentcheck.scenario import AgentInput
from agentcheck.trace import ToolStatus


def args_key(args: Any, names: tuple[str, ...]) -> Any:
    """The values of `names` in a call's arguments, as one hashable key (missing ones as None).

    Text values (the usual record ids) key as the tuple itself; anything else as its repr, which
    keeps `1`, `1.0` and `True` apart and keys lists and mappings. The two forms never meet: a
    tuple never equals a string, and no JSON value other than text has a repr starting with a quote,
    so two calls share a key exactly when the reprs of their values would be equal."""
    if not isinstance(args, dict):
        return repr(tuple(None for _ in names))
    if len(names) == 1:
        value = args.get(names[0])
        return (value,) if type(value) is str else repr((value,))
    values = tuple(args.get(n) for n in names)
    for value in values:
        if type(value) is not str:
            return repr(values)
    return values


def prior_flows_of(policy: Policy) -> dict[str, list[FlowRule]]:
    """tool -> the flow rules that need an earlier successful call of it (`requires_prior`)."""
    out: dict[str, list[FlowRule]] = {}
    for flow in policy.flows:
        if flow.requires_prior:
            out.setdefault(flow.requires_prior, []).append(flow)
    return out


class RunHistory:
    __slots__ = ("_prior_flows", "cursor", "money_moved", "policy", "prior_keys", "seen", "tools_ok", "untrusted")

    def __init__(self, policy: Policy, task: AgentInput, prior_flows: dict[str, list[FlowRule]] | None = None):
        self.policy = policy
        self.cursor = 0
        self.seen = SeenIds([task.messages, task.data])
        """Ids that appeared in the input or a returned tool result (for grounding evidence)."""
        self.tools_ok: dict[str, None] = {}
        """Tools that answered successfully, in first-answer order."""
        self.untrusted = False
        self.money_moved = 0.0
        self._prior_flows = prior_flows_of(policy) if prior_flows is None else prior_flows
        self.prior_keys: dict[str, set[Any]] = {}
        """flow id -> keys (same_args values) of earlier successful calls of its `requires_prior` tool
        (a flow with none yet is absent)."""

    def catch_up(self, events: list[Any]) -> None:
        """Learn from events added since the last decision (the last event is the call being decided)."""
        end = len(events) - 1
        if end <= self.cursor:
            return
        tools, prior_flows, ok = self.policy.tools, self._prior_flows, ToolStatus.OK
        for index in range(self.cursor, end):
            event = events[index]
            if event.kind != "tool_call" or event.status is not ok:
                continue
            tool = event.tool
            self.tools_ok[tool] = None
            self.seen.pending.append(event.result)
            if tool in prior_flows:
                args = event.args
                for flow in prior_flows[tool]:
                    names = flow.same_args
                    if len(names) == 1 and type(args) is dict and type(value := args.get(names[0])) is str:
                        key: Any = (value,)  # args_key's usual key, inline
                    else:
                        key = args_key(args, names)
                    self.prior_keys.setdefault(flow.id, set()).add(key)
            spec = tools.get(tool)
            if spec is None:
                continue
            if spec.untrusted_output:
                self.untrusted = True
            if spec.spends and isinstance(event.args, dict):
                amount = event.args.get(spec.spends)
                if isinstance(amount, _NUMBER) and not isinstance(amount, bool):
                    self.money_moved += float(amount)
        self.cursor = end

    def run_vars(self, run: Any, step: int, names: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The `run` variable of conditions: the run before this call (numbers as doubles); only
        the fields in `names` when given (the rest are never read)."""
        totals = run.trace.totals
        out: dict[str, Any] = {}
        for name in RUN_FIELD_ORDER if names is None else names:  # an if-chain: no call per field
            if name == "money_moved":
                out[name] = self.money_moved
            elif name == "tool_calls":
                out[name] = float(totals.tool_calls - 1)
            elif name == "step":
                out[name] = float(step)
            elif name == "steps":
                out[name] = float(totals.steps - 1)
            elif name == "cost_usd":
                out[name] = float(totals.cost_usd)
            elif name == "model_calls":
                out[name] = float(totals.model_calls)
            elif name == "tools_called":
                out[name] = list(self.tools_ok)
            elif name == "untrusted_seen":
                out[name] = self.untrusted
            elif name == "elapsed_s":
                out[name] = run.clock.now_ms() / 1000.0
            else:
                raise KeyError(name)
        return out


_NUMBER = (int, float)
"""Types of an amount that counts as money moved (bool apart)."""
