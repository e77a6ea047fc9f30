"""Every kind of change `compare` reports, which count as regressions, segment grouping, and the
baselines it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_helpers import E, F, P, runs

from agentcheck.problems import BadInput
from agentcheck.release.compare import compare, compare_files, side_of_metrics
from agentcheck.release.segments import segment_table
from agentcheck.reliability import RegressionRules


def side(*groups, required=None):
    metrics = [m for group in groups for m in group]
    return side_of_metrics("x", "run", metrics, required or {})


def kinds(comparison) -> dict[tuple[str, str], bool]:
    return {(c.kind, c.subject): c.regression for c in comparison.changes}


def test_every_scenario_change_kind_and_whether_it_counts():
    base = side(
        runs("stays", P, P, index=0),
        runs("breaks", P, P, index=1),
        runs("heals", F, F, index=2),
        runs("flakes", P, P, index=3),
        runs("steadies", P, F, index=4),
        runs("outage", P, P, index=5),
        runs("gone", P, index=6),
        runs("reshaped", P, index=7, shape=("lookup",)),
        runs("pricier", P, index=8, cost=1.0),
        runs("wordier", P, index=9, tokens=100),
        runs("slower", P, index=10, latency=1.0),
        runs("cheaper", P, index=11, cost=1.0),
    )
    new = side(
        runs("stays", P, P, index=0),
        runs("breaks", F, F, index=1),
        runs("heals", P, P, index=2),
        runs("flakes", P, F, index=3),
        runs("steadies", P, P, index=4),
        runs("outage", E, E, index=5),
        runs("fresh", P, index=6),
        runs("reshaped", P, index=7, shape=("lookup", "refund")),
        runs("pricier", P, index=8, cost=1.25),
        runs("wordier", P, index=9, tokens=130),
        runs("slower", P, index=10, latency=1.6),
        runs("cheaper", P, index=11, cost=0.5),
    )
    found = kinds(compare(base, new, RegressionRules()))
    scenario_changes = {k: v for k, v in found.items() if k[0] not in ("pass_rate_down",) and "=" not in k[1]}
    assert scenario_changes == {
        ("newly_failing", "breaks"): True,
        ("newly_failing", "flakes"): True,
        ("newly_flaky", "flakes"): True,
        ("newly_passing", "heals"): False,
        ("newly_passing", "steadies"): False,
        ("no_longer_flaky", "steadies"): False,
        ("newly_error", "outage"): False,
        ("added", "fresh"): False,
        ("removed", "gone"): False,
        ("tool_calls_changed", "reshaped"): False,
        ("cost_up", "pricier"): True,
        ("tokens_up", "wordier"): True,
        ("latency_up", "slower"): True,
    }
    assert found[("pass_rate_down", "tag=t")] is False  # segments report; the scenarios already counted


def test_a_lower_pass_rate_counts_even_when_the_verdict_holds():
    base = side(runs("s", P, P, P, F), required={"s": 0.5})
    new = side(runs("s", P, P, F, F), required={"s": 0.5})
    comparison = compare(base, new, RegressionRules())
    assert kinds(comparison)[("pass_rate_down", "s")] is True
    assert "pass rate 75% → 50% (3/4 → 2/4)" in comparison.changes[0].message
    assert compare(base, new, RegressionRules(pass_rate_drop=0.25)).regressions == 0


def test_thresholds_and_rules_decide_what_counts():
    base = side(runs("a", P, cost=1.0, shape=("x",), index=0), runs("b", P, index=1))
    new = side(runs("a", P, cost=1.2, shape=("y",), index=0), runs("b", E, index=1))
    relaxed = compare(base, new, RegressionRules())
    assert ("cost_up", "a") not in kinds(relaxed)  # +20% is not more than 20%
    strict = compare(base, new, RegressionRules(cost_increase=0.1, tool_calls_changed=True, newly_error=True))
    found = kinds(strict)
    assert found[("cost_up", "a")] and found[("tool_calls_changed", "a")] and found[("newly_error", "b")]
    assert strict.regressions == sum(found.values())
    assert [c.regression for c in strict.changes] == sorted((c.regression for c in strict.changes), reverse=True)


def test_segments_group_by_tag_agent_and_version():
    metrics = (runs("a", P, F, index=0, tags=("refunds", "critical"), tool_errors=1, refused=1)
               + runs("b", P, P, index=1, tags=("refunds",), agent="other", version=None, latency=3.0, handoff=True))
    rows = {(r.dimension, r.value): r for r in segment_table(metrics)}
    assert set(rows) == {("tag", "critical"), ("tag", "refunds"), ("agent", "bot"), ("agent", "other"),
                         ("agent_version", "bot@1.0")}
    refunds = rows[("tag", "refunds")]
    assert (refunds.scenarios, refunds.runs, refunds.flaky, refunds.k) == (2, 4, 1, 2)
    assert refunds.pass_rate == pytest.approx(0.75)
    assert refunds.pass_hat_k == pytest.approx((0 + 1) / 2)
    assert refunds.tool_error_rate == pytest.approx(2 / 4) and refunds.policy_violations == 2
    assert refunds.p50_latency_s == 1.0 and refunds.p95_latency_s == 3.0 and refunds.handoff_rate == 0.5
    assert rows[("tag", "critical")].runs == 2 and rows[("agent", "other")].pass_rate == 1.0


def write_doc(path: Path, schema: str = "agentcheck.results/1", ids=("a",)) -> Path:
    results = [{"index": i, "scenario_id": s, "outcome": "passed", "trial": 1, "trace": None}
               for i, s in enumerate(ids)]
    path.write_text(json.dumps({"schema": schema, "run": {"run_id": "r"}, "summary": {}, "gates": [],
                                "results": results}, indent=2))
    return path


def test_bad_baselines_are_refused_with_a_clear_message(tmp_path):
    new = write_doc(tmp_path / "new.json")
    with pytest.raises(BadInput) as other_version:
        compare_files(write_doc(tmp_path / "v2.json", schema="agentcheck.results/2"), new)
    text = other_version.value.problems[0].render()
    assert "v2.json" in text and "'agentcheck.results/2', written by a newer agentcheck" in text
    assert "this one reads 'agentcheck.results/1'" in text and "upgrade agentcheck" in text
    with pytest.raises(BadInput) as other_suite:
        compare_files(write_doc(tmp_path / "other.json", ids=("x", "y")), new)
    assert "from another suite: none of its 2 scenarios" in other_suite.value.problems[0].render()
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(BadInput) as junk:
        compare_files(tmp_path / "junk.json", new)
    assert "not JSON" in junk.value.problems[0].render()
    with pytest.raises(BadInput) as missing:
        compare_files(tmp_path / "missing.json", new)
    assert "cannot read it" in missing.value.problems[0].render()
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(BadInput) as listed:
        compare_files(tmp_path / "list.json", new)
    assert "not an agentcheck results document" in listed.value.problems[0].render()


def test_a_reformatted_document_is_read_whole(tmp_path):
    """Indented JSON (not agentcheck's line layout) still reads, through the fallback."""
    path = write_doc(tmp_path / "base.json", ids=("a", "b"))
    comparison = compare_files(path, path)
    assert comparison.regressions == 0 and comparison.changes == []


def test_a_bad_segment_in_a_gate_selection_is_a_located_problem(tmp_path):
    from e2e_helpers import cli, write

    write(tmp_path, {"agentcheck.yaml": """
        version: 1
        agents:
          bot: {kind: python, entrypoint: bot:run}
        gates:
          - name: g
            select: {segments: [agent_version=bot@1, "versoin=2"]}
            min_pass_rate: 1
    """, "bot.py": "def run(task): return 'x'\n"})
    done = cli("validate", cwd=tmp_path)
    assert done.code == 2
    assert "agentcheck.yaml:6 at gates[0].select.segments: 'versoin=2' is not dimension=value" in done.err


def test_segments_read_only_the_fields_runs_are_grouped_by():
    """segment_table works out a run's segments once per kind of run (its `_ALIKE` fields): every
    dimension must read no other field, or runs would land in another run's segments."""
    import dataclasses

    from agentcheck.release import segments
    from agentcheck.release.dimensions import DIMENSIONS

    base = runs("s", P, tags=("a", "b"), version="2.0")[0]
    base = dataclasses.replace(base, model_route="fast")
    grouped = {"tags", "agent", "agent_version", "model_route"}
    assert segments._ALIKE(base) == tuple(getattr(base, name) for name in ("tags", "agent", "agent_version",
                                                                            "model_route"))
    others = {f.name: f for f in dataclasses.fields(base) if f.name not in grouped}
    changed = dataclasses.replace(base, index=7, scenario_id="other", outcome=F, cost_usd=9.0, latency_s=9.0,
                                  tokens=9, tool_calls=9, attack_succeeded=True, utility_under_attack=False,
                                  policy_violations=3, trial=2, file="x.yaml", line=3, tool_errors=2,
                                  shape=("x",), message="m", handoff=True)
    assert set(others) <= {"index", "scenario_id", "outcome", "cost_usd", "latency_s", "tokens", "tool_calls",
                           "attack_succeeded", "utility_under_attack", "policy_violations", "trial", "file", "line",
                           "tool_errors", "shape", "message", "handoff"}  # a new field: decide where it goes
    for name, values_of in DIMENSIONS.items():
        assert list(values_of(changed)) == list(values_of(base)), name


def _rows_one_run_at_a_time(metrics: list) -> list:
    """The segment rows of `metrics`, every run put into its segments one at a time, each row measured."""
    from agentcheck.release.dimensions import DIMENSIONS
    from agentcheck.release.segments import _row
    from agentcheck.release.trials import aggregate

    buckets: dict[tuple[str, str], list] = {}
    for m in metrics:
        if m.outcome.value == "skipped":
            continue
        for dimension, values_of in DIMENSIONS.items():
            for value in values_of(m):
                buckets.setdefault((dimension, value), []).append(m)
    by_id = {s.scenario_id: s for s in aggregate(metrics)}
    order = list(DIMENSIONS)
    return [_row(d, v, r, by_id) for (d, v), r in sorted(buckets.items(),
                                                         key=lambda kv: (order.index(kv[0][0]), kv[0][1]))]


def test_segment_table_equals_grouping_each_run_on_its_own():
    """The same rows, to the last bit, as putting every run into its segments one at a time."""
    metrics = []
    for i in range(60):
        outcome = (P, F, E, P)[i % 4]
        metrics += runs(f"s{i}", outcome, outcome, index=i, tags=(f"t{i % 3}", "all", "all")[: 1 + i % 3],
                        agent=("bot", "other")[i % 2], version=(None, "1.0", "2.0")[(i // 4) % 3], cost=0.1 * (i % 7),
                        latency=0.3 * (i % 5), tokens=i, tool_errors=i % 2)
    assert repr(segment_table(metrics)) == repr(_rows_one_run_at_a_time(metrics))


def test_segments_of_the_same_runs_are_measured_once_and_named_each(monkeypatch):
    """Segments holding the very same runs (one agent, one version, a tag on every run) share their
    figures, each row under its own dimension and value; runs that differ only in their objects
    (equal counts, other runs) are measured apart."""
    import dataclasses

    from agentcheck.release import segments

    metrics = []
    for i in range(12):
        tags = ("every", f"t{i % 2}") if i < 11 else ("every", "t1", "last")
        tags += ("x",) * (i in (0, 5, 11)) + ("y",) * (i in (0, 6, 11))  # as many runs, same first and last
        metrics += runs(f"s{i}", (P, F, E)[i % 3], index=i, tags=tags, version="1.0", cost=0.1 * i,
                        latency=0.2 * (i % 5), tokens=i, tool_errors=i % 2)
    metrics[3] = dataclasses.replace(metrics[3], cost_usd=float("nan"))  # (a NaN does not break the sharing)
    expected = _rows_one_run_at_a_time(metrics)
    measured = []
    real_row = segments._row
    monkeypatch.setattr(segments, "_row", lambda *args: measured.append(args[:2]) or real_row(*args))
    rows = segment_table(metrics)
    assert repr(rows) == repr(expected)
    names = [(r.dimension, r.value) for r in rows]
    assert ("tag", "every") in names and ("agent", "bot") in names and ("agent_version", "bot@1.0") in names
    assert len(measured) == len(rows) - 2  # the three segments of all 12 runs: measured once
    assert {("tag", "last"), ("tag", "x"), ("tag", "y")} <= set(measured)


def test_odd_run_values_are_segmented_one_by_one():
    """Runs whose grouped fields are not plain texts (a hand-edited file's number or list) are placed
    one by one: `1` and `True` are different segments, and a list does not crash the table."""
    import dataclasses

    base = runs("s", P)[0]
    odd = [dataclasses.replace(base, scenario_id="a", agent_version=1),  # type: ignore[arg-type]
           dataclasses.replace(base, scenario_id="b", agent_version=True),  # type: ignore[arg-type]
           dataclasses.replace(base, scenario_id="c", agent_version=["x"])]  # type: ignore[arg-type]
    rows = {(r.dimension, r.value): r.runs for r in segment_table(odd)}
    assert rows[("agent_version", "bot@1")] == 1 and rows[("agent_version", "bot@True")] == 1
    assert rows[("agent_version", "bot@['x']")] == 1
