"""Compare a run with a baseline: which scenarios newly fail, pass, flake, error, appeared or went,
whose tool calls changed shape, and whose cost, tokens or latency went up past the project's
`regressions:` thresholds; the same per segment.

What counts towards `max_regressions` (RegressionRules): newly failing, newly flaky, a pass rate
down by more than `pass_rate_drop` (when neither of those already says so), cost / tokens / latency
up past the threshold; newly erroring and a changed tool-call shape only when the rules say so.
Added, removed, newly passing and no-longer-flaky scenarios are reported and never count. Segment
changes (pass rate, cost, tokens, p95 latency) are reported and never count either, so one scenario's
regression is not counted again in each segment it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agentcheck.gcpause import collector_off
from agentcheck.problems import BadInput, Problem
from agentcheck.release.decode import metrics_from_data, outcome_of
from agentcheck.release.results_file import ResultsFile
from agentcheck.release.run_index import index_of_text, paired, row_fields
from agentcheck.release.segments import segment_table
from agentcheck.release.trials import aggregate
from agentcheck.reliability import Change, Comparison, RegressionRules, ScenarioStats, SegmentRow
from agentcheck.verdict import Outcome, RunMetrics


@dataclass(slots=True)
class Side:
    """One side of a comparison: its label, run id, per-scenario stats and segment rows."""

    label: str
    run_id: str
    stats: list[ScenarioStats]
    segments: list[SegmentRow]


def side_of_metrics(label: str, run_id: str, metrics: Sequence[RunMetrics], required: dict[str, float],
                    stats: list[ScenarioStats] | None = None) -> Side:
    if stats is None:
        stats = aggregate(metrics, required)
    return Side(label, run_id, stats, segment_table(metrics, stats))


def load_side(
    path: Path, *, role: str, label: str | None = None, handoff_tools: frozenset[str] = frozenset()
) -> Side:
    """Read a results file into a Side, keeping only a few numbers per result (flat memory)."""
    document = ResultsFile(path, role=role)
    with collector_off():  # 10 000s of kept metrics: see agentcheck.gcpause
        return side_of_metrics(label or str(path), document.run_id, document_metrics(document, handoff_tools),
                               document.required_rates())


def document_metrics(document: ResultsFile, handoff_tools: frozenset[str] = frozenset()) -> list[RunMetrics]:
    """Every result's RunMetrics, in file order: from its run index row where the row proves itself
    (agentcheck.release.run_index), else from the result parsed in full."""
    rows = document.index_rows()
    if rows is None:
        return [metrics_from_data(r, handoff_tools) for r in document.results()]
    metrics: list[RunMetrics] = []
    for position, text, values, _ in paired(rows, document.result_texts()):
        fields = row_fields(values, index_of_text(text), handoff_tools) if values is not None else None
        if fields is None:  # (no row, or not this text's: an edited result)
            metrics.append(metrics_from_data(document.parse_result(text, position), handoff_tools))
            continue
        run = RunMetrics(*fields)
        run.outcome = outcome_of(run.outcome)
        metrics.append(run)
    return metrics


def check_same_suite(base: Side, new: Side) -> None:
    """Refuse a baseline that shares no scenario with the run: it is from another suite."""
    refuse_other_suite(base, {s.scenario_id for s in new.stats}, "of this run")


def refuse_other_suite(base: Side, new_ids: set[str], where: str) -> None:
    """Refuse a baseline none of whose scenarios is in `new_ids` (`where`: "of this run", "selected")."""
    base_ids = {s.scenario_id for s in base.stats}
    if base_ids and new_ids and not base_ids & new_ids:
        raise BadInput([Problem(
            base.label, None, "",
            f"baseline file: from another suite: none of its {len(base_ids)} scenarios is among the "
            f"{len(new_ids)} {where}",
            "save a baseline of this suite with `agentcheck baseline save`",
        )])


def _rise(before: float, after: float) -> float | None:
    """Relative increase, or None when there is nothing to compare (both zero)."""
    if before > 0:
        return (after - before) / before
    return float("inf") if after > 0 else None


def _pct(value: float) -> str:
    return "new" if value == float("inf") else f"{value:+.0%}"


def _scenario_changes(b: ScenarioStats, n: ScenarioStats, rules: RegressionRules) -> list[Change]:
    changes: list[Change] = []

    def add(kind: str, regression: bool, message: str, before: object = None, after: object = None) -> None:
        changes.append(Change(kind, "scenario", n.scenario_id, regression, message, before, after, n.file, n.line))

    if n.outcome is Outcome.FAILED and b.outcome is not Outcome.FAILED:
        add("newly_failing", True, f"{b.outcome.value} → failed: {n.message}", b.outcome.value, "failed")
    elif n.outcome is Outcome.ERROR and b.outcome is not Outcome.ERROR:
        add("newly_error", rules.newly_error, f"{b.outcome.value} → error: {n.message}", b.outcome.value, "error")
    elif n.outcome is Outcome.PASSED and b.outcome is not Outcome.PASSED:
        add("newly_passing", False, f"{b.outcome.value} → passed", b.outcome.value, "passed")
    if n.flaky and not b.flaky:
        add("newly_flaky", True, f"now flaky: {n.passed}/{n.trials} trials passed", b.pass_rate, n.pass_rate)
    elif b.flaky and not n.flaky and n.trials:
        add("no_longer_flaky", False, f"no longer flaky: {n.passed}/{n.trials} trials passed", b.pass_rate, n.pass_rate)
    if not (b.trials and n.trials):
        return changes
    said = any(c.regression for c in changes)
    if not said and b.pass_rate is not None and n.pass_rate is not None \
            and b.pass_rate - n.pass_rate > rules.pass_rate_drop + 1e-12 and n.outcome is not Outcome.ERROR:
        add("pass_rate_down", True, f"pass rate {b.pass_rate:.0%} → {n.pass_rate:.0%} "
            f"({b.passed}/{b.trials} → {n.passed}/{n.trials})", b.pass_rate, n.pass_rate)
    if b.shapes != n.shapes:
        add("tool_calls_changed", rules.tool_calls_changed,
            f"tool calls {_shapes(b.shapes)} → {_shapes(n.shapes)}", b.shapes, n.shapes)
    for kind, before, after, limit, floor, unit in (
        ("cost_up", b.mean_cost_usd, n.mean_cost_usd, rules.cost_increase, 0.0, "USD"),
        ("tokens_up", b.mean_tokens, n.mean_tokens, rules.tokens_increase, 0.0, "tokens"),
        ("latency_up", b.mean_latency_s, n.mean_latency_s, rules.latency_increase, rules.latency_min_delta_s, "s"),
    ):
        rise = _rise(before, after)
        if rise is not None and rise > limit and after - before >= floor:
            add(kind, True, f"{kind.removesuffix('_up')} {before:.6g} → {after:.6g} {unit} ({_pct(rise)}, "
                f"threshold +{limit:.0%})", before, after)
    return changes


def _shapes(shapes: list[list[str]]) -> str:
    return " | ".join("[" + ", ".join(s) + "]" for s in shapes) or "[]"


def _segment_changes(b: SegmentRow, n: SegmentRow, rules: RegressionRules) -> list[Change]:
    subject = f"{n.dimension}={n.value}"
    changes: list[Change] = []
    if b.pass_rate is not None and n.pass_rate is not None and b.pass_rate - n.pass_rate > rules.pass_rate_drop + 1e-12:
        changes.append(Change("pass_rate_down", "segment", subject, False,
                              f"pass rate {b.pass_rate:.0%} → {n.pass_rate:.0%}", b.pass_rate, n.pass_rate))
    for kind, before, after, limit, floor in (
        ("cost_up", b.mean_cost_usd, n.mean_cost_usd, rules.cost_increase, 0.0),
        ("tokens_up", b.mean_tokens, n.mean_tokens, rules.tokens_increase, 0.0),
        ("latency_up", b.p95_latency_s, n.p95_latency_s, rules.latency_increase, rules.latency_min_delta_s),
    ):
        rise = _rise(before, after)
        if rise is not None and rise > limit and after - before >= floor:
            changes.append(Change(kind, "segment", subject, False,
                                  f"{kind.removesuffix('_up')} {before:.6g} → {after:.6g} ({_pct(rise)})",
                                  before, after))
    return changes


def compare(base: Side, new: Side, rules: RegressionRules) -> Comparison:
    """Every change from `base` to `new`; regressions first, then in collection order."""
    check_same_suite(base, new)
    base_by_id = {s.scenario_id: s for s in base.stats}
    new_ids = set()
    changes: list[Change] = []
    for stats in new.stats:
        new_ids.add(stats.scenario_id)
        before = base_by_id.get(stats.scenario_id)
        if before is None:
            changes.append(Change("added", "scenario", stats.scenario_id, False, "not in the baseline",
                                  None, stats.outcome.value, stats.file, stats.line))
        else:
            changes.extend(_scenario_changes(before, stats, rules))
    for stats in base.stats:
        if stats.scenario_id not in new_ids:
            changes.append(Change("removed", "scenario", stats.scenario_id, False, "in the baseline, not in this run",
                                  stats.outcome.value, None, stats.file, stats.line))
    base_segments = {(r.dimension, r.value): r for r in base.segments}
    for row in new.segments:
        before_row = base_segments.get((row.dimension, row.value))
        if before_row is not None:
            changes.extend(_segment_changes(before_row, row, rules))
    changes.sort(key=lambda c: not c.regression)  # stable: keeps collection order within each group
    return Comparison(
        baseline=base.label,
        baseline_run_id=base.run_id,
        regressions=sum(c.regression for c in changes),
        changes=changes,
    )


def compare_files(
    base_path: Path, new_path: Path, rules: RegressionRules | None = None, handoff_tools: frozenset[str] = frozenset()
) -> Comparison:
    return compare(load_side(base_path, role="baseline", handoff_tools=handoff_tools),
                   load_side(new_path, role="results", handoff_tools=handoff_tools), rules or RegressionRules())
