"""The spend stage of a policy decision: the run's model spend and the money its calls move, against
the caps of `policy.spend` (docs/policy.md)."""

from __future__ import annotations

import math
from typing import Any

from agentcheck.policy.history import RunHistory
from agentcheck.policy.plan import Refusal
from agentcheck.policy.spec import Policy, ToolPolicy

_NUMBER = (int, float)


def check_spend(policy: Policy, spec: ToolPolicy, args: dict[str, Any], cost_usd: float,
                history: RunHistory | None) -> None:
    """Raise the Refusal of a call over a spend cap: the model spend so far, or the money this call
    would move on top of what the run's allowed calls moved (a finite amount of at least 0: NaN
    compares false with any cap, and a negative amount would lower the total)."""
    caps = policy.spend
    if caps.max_model_cost_usd is not None and cost_usd > caps.max_model_cost_usd:
        raise Refusal("spend", "spend.max_model_cost_usd", f"model spend {cost_usd:g} USD is over the cap",
                      caps.source, {"cost_usd": cost_usd, "cap": caps.max_model_cost_usd})
    if spec.spends is None or caps.max_money_moved is None:
        return
    assert history is not None  # a spending tool's plan reads the history, caught up before this
    amount = args.get(spec.spends)
    if not isinstance(amount, _NUMBER) or isinstance(amount, bool):
        raise Refusal("spend", "spend.max_money_moved", f"argument '{spec.spends}' is not a number", caps.source,
                      {spec.spends: amount})
    if not math.isfinite(amount) or amount < 0:
        raise Refusal("spend", "spend.max_money_moved", f"argument '{spec.spends}' is {float(amount):g}: money "
                      "moved is counted as a finite amount of at least 0", caps.source, {spec.spends: str(amount)})
    total = history.money_moved + float(amount)
    if total > caps.max_money_moved:
        raise Refusal("spend", "spend.max_money_moved",
                      f"moving {float(amount):g} would bring the run to {total:g}, over the cap", caps.source,
                      {"money_moved": history.money_moved, spec.spends: amount, "cap": caps.max_money_moved})
