"""Group run metrics into segments: every run sharing one value of one dimension.

Dimensions are functions from a run to the values it belongs to (a run has several tags, so it sits
in several `tag` segments). `model_route` comes from the trace's first model call (its route, else its
model); `tool_version` is a hook with no source yet. The dimensions are in release/dimensions.py; a
dimension no run has a value for adds no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from operator import attrgetter

from agentcheck.judge.gates import mean, p95
from agentcheck.release.dimensions import DIMENSIONS
from agentcheck.release.trials import aggregate, suite_pass_k
from agentcheck.reliability import ScenarioStats, SegmentRow
from agentcheck.verdict import Outcome, RunMetrics


def p50(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


_ALIKE = attrgetter("tags", "agent", "agent_version", "model_route")
"""Every RunMetrics field a dimension reads (release/dimensions.py; tested): runs alike in these sit in
the same segments, so a run's segments are worked out once per kind of run, not once per run."""


def segment_table(
    metrics: Sequence[RunMetrics], stats: Sequence[ScenarioStats] | None = None
) -> list[SegmentRow]:
    """Rows sorted by dimension (in DIMENSIONS order), then value. Skipped runs are left out."""
    by_id = {s.scenario_id: s for s in (stats if stats is not None else aggregate(metrics))}
    buckets: dict[tuple[str, str], list[RunMetrics]] = {}
    targets: dict[tuple[object, ...], list[list[RunMetrics]]] = {}  # a kind of run -> its segments' runs
    for m in metrics:
        if m.outcome is Outcome.SKIPPED:
            continue
        kind = _ALIKE(m)
        try:  # (only plain kinds are kept, and only a plain kind equals one: see _plain_kind)
            lists = targets.get(kind)
        except TypeError:  # (unhashable: a hand-edited file's list)
            lists = None
        if lists is None:
            lists = [buckets.setdefault((dimension, value), [])
                     for dimension, values_of in DIMENSIONS.items() for value in values_of(m)]
            if _plain_kind(kind):
                targets[kind] = lists
        for runs in lists:
            runs.append(m)  # (in the runs' order: a segment's sums add up as they always did)
    order = {name: i for i, name in enumerate(DIMENSIONS)}
    measured: dict[tuple[int, int, int], list[tuple[list[RunMetrics], SegmentRow]]] = {}
    rows = []
    for (dimension, value), runs in sorted(buckets.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        # segments of the very same runs (every run has this agent, this version, this route) share
        # their figures: measured once (the key finds candidates; the lists are compared in full)
        alike = measured.setdefault((len(runs), id(runs[0]), id(runs[-1])), [])
        row = next((replace(row, dimension=dimension, value=value) for seen, row in alike if seen == runs), None)
        if row is None:
            row = _row(dimension, value, runs, by_id)
            alike.append((runs, row))
        rows.append(row)
    return rows


def _plain_kind(kind: tuple[object, ...]) -> bool:
    """Texts (or None) and a tuple of texts: a kind that equals another only when its segments do
    (1 == True, and a hand-edited file's list is not hashable: such runs are placed one by one)."""
    tags, *rest = kind
    return type(tags) is tuple and all(type(t) is str for t in tags) and all(
        value is None or type(value) is str for value in rest)


def _row(dimension: str, value: str, runs: list[RunMetrics], by_id: dict[str, ScenarioStats]) -> SegmentRow:
    # map/attrgetter: each column summed at C speed (three segments of a 20 000-run merge hold every run)
    members = [by_id[sid] for sid in dict.fromkeys(map(_SCENARIO_ID, runs)) if sid in by_id]
    k = min(filter(None, map(_TRIALS, members)), default=1)  # (scenarios with judged trials)
    hat, _ = suite_pass_k(members, k)
    calls = sum(map(_TOOL_CALLS, runs))
    latencies = list(map(_LATENCY, runs))
    outcomes = list(map(_OUTCOME, runs))
    return SegmentRow(
        dimension=dimension,
        value=value,
        scenarios=len(members),
        runs=len(runs),
        pass_rate=outcomes.count(Outcome.PASSED) / len(runs),
        errors=outcomes.count(Outcome.ERROR),
        flaky=sum(map(_FLAKY, members)),
        k=k,
        pass_hat_k=hat,
        mean_cost_usd=mean(list(map(_COST, runs))),
        mean_tokens=mean(list(map(float, map(_TOKENS, runs)))),
        p50_latency_s=p50(latencies),
        p95_latency_s=p95(latencies),
        tool_error_rate=sum(map(_TOOL_ERRORS, runs)) / calls if calls else None,
        policy_violations=sum(map(_VIOLATIONS, runs)),
        handoff_rate=sum(map(_HANDOFF, runs)) / len(runs),
    )


_SCENARIO_ID, _TOOL_CALLS, _LATENCY, _OUTCOME, _COST, _TOKENS, _TOOL_ERRORS, _VIOLATIONS, _HANDOFF = (
    attrgetter(name) for name in ("scenario_id", "tool_calls", "latency_s", "outcome", "cost_usd", "tokens",
                                  "tool_errors", "policy_violations", "handoff"))
_TRIALS, _FLAKY = attrgetter("trials"), attrgetter("flaky")
