"""Fold the runs of each scenario (its trials) into one `ScenarioStats`: counts, pass rate, pass^k,
pass@k, the flaky flag and the scenario's own verdict.

The error rule: an `error` trial counts as not passed (in the pass rate and in pass^k), and is
counted apart in `errors`. A scenario that misses its criterion only because of error trials (no
trial failed) gets the outcome `error`, not `failed`: an outage is never reported as an agent fault,
and never as a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, methodcaller

from agentcheck.reliability import ScenarioStats, pass_at_k, pass_hat_k
from agentcheck.verdict import Outcome, RunMetrics

MAX_K_LISTED = 10
"""pass^k and pass@k are listed for k = 1..min(trials, this)."""


@dataclass(slots=True)
class _Acc:
    first: RunMetrics
    outcomes: list[Outcome] = field(default_factory=list)
    cost: float = 0.0
    tokens: float = 0.0
    latency: float = 0.0
    shapes: set[tuple[str, ...]] = field(default_factory=set)
    message: str = ""

    def add(self, m: RunMetrics) -> None:
        self.outcomes.append(m.outcome)
        if m.outcome is Outcome.SKIPPED:
            return
        self.cost += m.cost_usd
        self.tokens += m.tokens
        self.latency += m.latency_s
        self.shapes.add(m.shape)
        if not self.message and m.outcome is not Outcome.PASSED:
            self.message = m.message


def scenario_outcome(passed: int, failed: int, errors: int, skipped: int, required: float) -> Outcome:
    """The scenario's verdict over its trials (see the module docstring for the error rule)."""
    judged = passed + failed + errors
    if judged == 0:
        return Outcome.SKIPPED if skipped else Outcome.ERROR
    if passed / judged >= required - 1e-12:
        return Outcome.PASSED
    return Outcome.FAILED if failed else Outcome.ERROR


def stats_of(acc: _Acc, required: float) -> ScenarioStats:
    m = acc.first
    if len(acc.outcomes) == 1:  # the usual single trial: no counting passes (20 000 scenarios per merge)
        only = acc.outcomes[0]
        passed, failed = int(only is Outcome.PASSED), int(only is Outcome.FAILED)
        errors, skipped = int(only is Outcome.ERROR), int(only is Outcome.SKIPPED)
    else:
        passed = sum(o is Outcome.PASSED for o in acc.outcomes)
        failed = sum(o is Outcome.FAILED for o in acc.outcomes)
        errors = sum(o is Outcome.ERROR for o in acc.outcomes)
        skipped = sum(o is Outcome.SKIPPED for o in acc.outcomes)
    n = passed + failed + errors
    if n == 1:  # C(c,1)/C(1,1) = c and 1 - C(1-c,1)/C(1,1) = c: no binomials for the usual single trial
        hat_k: dict[int, float | None] = {1: float(passed)}
        at_k: dict[int, float | None] = {1: float(passed)}
    else:
        ks = range(1, min(n, MAX_K_LISTED) + 1)
        hat_k = {k: pass_hat_k(n, passed, k) for k in ks}
        at_k = {k: pass_at_k(n, passed, k) for k in ks}
    return ScenarioStats(
        index=m.index,
        scenario_id=m.scenario_id,
        agent=m.agent,
        agent_version=m.agent_version,
        tags=m.tags,
        file=m.file,
        line=m.line,
        trials=n,
        passed=passed,
        failed=failed,
        errors=errors,
        skipped=skipped,
        required_pass_rate=required,
        outcome=scenario_outcome(passed, failed, errors, skipped, required),
        flaky=passed > 0 and failed > 0,
        pass_rate=passed / n if n else None,
        pass_hat_k=hat_k,
        pass_at_k=at_k,
        mean_cost_usd=acc.cost / n if n else 0.0,
        mean_tokens=acc.tokens / n if n else 0.0,
        mean_latency_s=acc.latency / n if n else 0.0,
        shapes=[list(s) for s in acc.shapes] if len(acc.shapes) < 2 else sorted(list(s) for s in acc.shapes),
        message=acc.message,
    )


def fold_runs(runs: Sequence[RunMetrics], required: float) -> ScenarioStats:
    """The ScenarioStats of one scenario's runs (its trials, in any order), as `aggregate` folds them."""
    if len(runs) == 1:
        return _single(runs[0], required)
    acc = _Acc(runs[0])
    for m in runs:
        acc.add(m)
    return stats_of(acc, required)


def _single(m: RunMetrics, required: float) -> ScenarioStats:
    """`stats_of` for a scenario run once (merge folds 20 000 of them), without the accumulator."""
    outcome = m.outcome
    if outcome is Outcome.SKIPPED:
        return stats_of(_Acc(m, [outcome]), required)
    passed = int(outcome is Outcome.PASSED)
    failed, errors = int(outcome is Outcome.FAILED), int(outcome is Outcome.ERROR)
    return ScenarioStats(
        m.index, m.scenario_id, m.agent, m.agent_version, m.tags, m.file, m.line, 1, passed, failed, errors, 0,
        required, scenario_outcome(passed, failed, errors, 0, required), False, float(passed),
        {1: float(passed)}, {1: float(passed)}, 0.0 + m.cost_usd, 0.0 + m.tokens, 0.0 + m.latency_s, [list(m.shape)],
        "" if passed else m.message,
    )


def aggregate(metrics: Iterable[RunMetrics], required: Mapping[str, float] | None = None) -> list[ScenarioStats]:
    """One ScenarioStats per scenario (keyed by scenario id), in collection (index) order.

    `required` maps scenario ids to their criterion (`min_pass_rate`); missing ids need every trial.
    """
    accs: dict[str, _Acc] = {}
    for m in metrics:
        acc = accs.get(m.scenario_id)
        if acc is None:
            acc = accs[m.scenario_id] = _Acc(m)
        acc.add(m)
    required = required or {}
    stats = [stats_of(acc, required.get(sid, 1.0)) for sid, acc in accs.items()]
    stats.sort(key=lambda s: s.index)
    return stats


def mean_defined(values: Iterable[float | None]) -> tuple[float | None, int]:
    """(mean of the defined values, how many were undefined); mean is None when none is defined."""
    total, count, undefined = 0.0, 0, 0
    for value in values:
        if value is None:
            undefined += 1
        else:
            total += value
            count += 1
    return (total / count if count else None), undefined


def suite_pass_k(stats: Iterable[ScenarioStats], k: int, *, at: bool = False) -> tuple[float | None, int]:
    """Mean pass^k (or pass@k) over scenarios with judged trials, and how many have fewer than k trials."""
    estimator = pass_at_k if at else pass_hat_k
    if not 1 <= k <= MAX_K_LISTED:
        return mean_defined(estimator(s.trials, s.passed, k) for s in stats if s.trials)
    # the values stats_of listed (k = 1..min(trials, MAX_K_LISTED)); absent means k > trials: undefined
    tables = map(attrgetter("pass_at_k" if at else "pass_hat_k"), filter(attrgetter("trials"), stats))
    return mean_defined(map(methodcaller("get", k), tables))  # (walked in C: 20 000 scenarios per segment)
