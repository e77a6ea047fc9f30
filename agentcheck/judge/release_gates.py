"""Gate thresholds measured per scenario over its trials, or against a baseline.

- `min_pass_hat_k` / `min_pass_at_k` (with the gate's `k`): the mean over selected scenarios of
  pass^k / pass@k. Undefined when a selected scenario has fewer than k judged trials: the check then
  fails and says so (a gate asking for pass^4 from one trial must not pass by default).
- `max_flaky`: how many selected scenarios have some trials passing and some not.
- `max_regressions`: how many changes against the baseline count as regressions (the whole run's
  comparison; a gate's selection does not narrow it). Not measured without `--baseline`: the check
  passes and the gate says "no baseline".
"""

from __future__ import annotations

from collections.abc import Sequence

from agentcheck.project import GateSpec
from agentcheck.release.trials import aggregate, suite_pass_k
from agentcheck.reliability import ScenarioStats
from agentcheck.verdict import RunMetrics

SCENARIO_METRICS = frozenset({"min_pass_hat_k", "min_pass_at_k", "max_flaky", "max_regressions"})


class ScenarioCache:
    """A gate's selected runs, folded per scenario at most once however many thresholds read them."""

    def __init__(self, runs: Sequence[RunMetrics], stats: Sequence[ScenarioStats] | None = None):
        """`stats`: the runs already folded (the whole run's stats, when the gate selects every run;
        scenarios skipped in every trial have no judged trial there, and no metric here counts them)."""
        self.runs = runs
        self._stats = stats

    @property
    def stats(self) -> Sequence[ScenarioStats]:
        if self._stats is None:
            self._stats = aggregate(self.runs)
        return self._stats


def measure_release(
    metric: str, gate: GateSpec, selected: ScenarioCache, regressions: int | None
) -> tuple[float | None, bool, str]:
    """(measured, passed, note) for one of SCENARIO_METRICS; the note explains an unmeasured value."""
    threshold = gate.thresholds[metric]
    if metric == "max_regressions":
        if regressions is None:
            return None, True, "max_regressions not measured: no baseline (use --baseline)"
        return float(regressions), regressions <= threshold, ""
    if not selected.runs:
        return None, True, ""
    stats = selected.stats
    if metric == "max_flaky":
        flaky = sum(s.flaky for s in stats)
        return float(flaky), flaky <= threshold, ""
    k = gate.k or 1
    value, undefined = suite_pass_k(stats, k, at=metric == "min_pass_at_k")
    if undefined:
        name = "pass@k" if metric == "min_pass_at_k" else "pass^k"
        return None, False, f"{name} undefined for k={k}: {undefined} scenario(s) ran fewer than {k} trials"
    if value is None:
        return None, True, ""
    return value, value >= threshold - 1e-12, ""
