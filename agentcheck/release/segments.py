"""Group run metrics into segments: every run sharing one value of one dimension.

Dimensions are functions from a run to the values it belongs to (a run has several tags, so it sits
in several `tag` segments). `model_route` comes from the trace's first model call (its route, else its
model); `tool_version` is a hook with no source yet. The dimensions are in release/dimensions.py; a
dimension no run has a value for adds no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentcheck.judge.gates import mean, p95
from agentcheck.release.dimensions import DIMENSIONS
from agentcheck.release.trials import aggregate, suite_pass_k
from agentcheck.reliability import ScenarioStats, SegmentRow
from agentcheck.verdict import Outcome, RunMetrics


def p50(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


@dataclass(slots=True)
class _Bucket:
    runs: list[RunMetrics] = field(default_factory=list)


def segment_table(
    metrics: Sequence[RunMetrics], stats: Sequence[ScenarioStats] | None = None
) -> list[SegmentRow]:
    """Rows sorted by dimension (in DIMENSIONS order), then value. Skipped runs are left out."""
    by_id = {s.scenario_id: s for s in (stats if stats is not None else aggregate(metrics))}
    buckets: dict[tuple[str, str], _Bucket] = {}
    for m in metrics:
        if m.outcome is Outcome.SKIPPED:
            continue
        for dimension, values_of in DIMENSIONS.items():
            for value in values_of(m):
                bucket = buckets.get((dimension, value))
                if bucket is None:  # not setdefault: that would build a bucket per run to throw away
                    bucket = buckets[(dimension, value)] = _Bucket()
                bucket.runs.append(m)
    order = {name: i for i, name in enumerate(DIMENSIONS)}
    rows = []
    for (dimension, value), bucket in sorted(buckets.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        rows.append(_row(dimension, value, bucket.runs, by_id))
    return rows


def _row(dimension: str, value: str, runs: list[RunMetrics], by_id: dict[str, ScenarioStats]) -> SegmentRow:
    members = [by_id[sid] for sid in dict.fromkeys(m.scenario_id for m in runs) if sid in by_id]
    k = min((s.trials for s in members if s.trials), default=1)
    hat, _ = suite_pass_k(members, k)
    calls = sum(m.tool_calls for m in runs)
    latencies = [m.latency_s for m in runs]
    return SegmentRow(
        dimension=dimension,
        value=value,
        scenarios=len(members),
        runs=len(runs),
        pass_rate=sum(m.outcome is Outcome.PASSED for m in runs) / len(runs),
        errors=sum(m.outcome is Outcome.ERROR for m in runs),
        flaky=sum(s.flaky for s in members),
        k=k,
        pass_hat_k=hat,
        mean_cost_usd=mean([m.cost_usd for m in runs]),
        mean_tokens=mean([float(m.tokens) for m in runs]),
        p50_latency_s=p50(latencies),
        p95_latency_s=p95(latencies),
        tool_error_rate=sum(m.tool_errors for m in runs) / calls if calls else None,
        policy_violations=sum(m.policy_violations for m in runs),
        handoff_rate=sum(m.handoff for m in runs) / len(runs),
    )
