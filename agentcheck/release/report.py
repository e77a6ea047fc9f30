"""Build a run's ReleaseReport: per-scenario trial stats, the segment table, the baseline comparison.

Called once at the end of a run, a rejudge or a merge, from the few numbers kept per run
(`RunMetrics`), so it costs no trace reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentcheck.release.compare import Side, compare, side_of_metrics
from agentcheck.reliability import RegressionRules, ReleaseReport, ScenarioStats
from agentcheck.verdict import RunMetrics


def build_release(
    metrics: Sequence[RunMetrics],
    required: Mapping[str, float],
    *,
    run_id: str,
    baseline: Side | None = None,
    rules: RegressionRules | None = None,
    stats: list[ScenarioStats] | None = None,
) -> ReleaseReport:
    """`stats`: the per-scenario stats when the caller already folded them (merge does, as it goes)."""
    side = side_of_metrics("this run", run_id, metrics, dict(required), stats)
    comparison = compare(baseline, side, rules or RegressionRules()) if baseline is not None else None
    return ReleaseReport(
        scenarios=side.stats,
        segments=side.segments,
        comparison=comparison,
        max_trials=max((s.trials for s in side.stats), default=1) or 1,
    )
