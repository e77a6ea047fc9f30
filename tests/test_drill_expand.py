"""`--drill` and `drills:` as a Scenario -> Scenario transformation: names, fixtures, default safety
expectations (original outcome or a hand-off), and a scenario's own expectations for a drill."""

from __future__ import annotations

from pathlib import Path

from tests.drill_helpers import calls_plan, failed_checks, make, run_all

ORDER = {"id": "A1", "amount": 10.0}


def refund_scenario(sid: str = "s", **extra) -> dict:
    return {
        "id": sid, "agent": "careful",
        "input": calls_plan(("lookup", {"id": "A1"}), ("refund", {"order_id": "A1", "amount": 10.0})),
        "fixtures": {"lookup": [{"returns": ORDER}], "refund": [{"returns": {"refund_id": "R-1"}}],
                     "handoff": [{"returns": "queued"}]},
        "expect": {"tools": {"mode": "strict", "calls": [{"lookup": {"id": "A1"}}, {"refund": {"order_id": "A1"}}],
                             "not_called": ["send_email"]},
                   "output": {"contains": "done"}},
        **extra,
    }


def test_every_drill_kind_runs_as_its_own_result(tmp_path: Path):
    results = run_all(make(tmp_path, [refund_scenario()]),
                      drills=["throttle", "timeout", "outage", "stale", "injection"]).results
    names = set(results)
    assert {"s", "s [drill: throttle]", "s [drill: timeout]", "s [drill: outage]", "s [drill: stale]"} <= names
    assert {n for n in names if n.startswith("s [drill: injection/")}
    for name, result in results.items():
        if "injection/" in name:  # its fixtures hold no free text: nothing planted, nothing attacked
            assert result.outcome.value == "skipped" and "injection.delivered" in result.message, name
        else:
            assert result.outcome.value == "passed", (name, result.message)
    throttled = results["s [drill: throttle]"].trace.tool_calls()
    assert [c.fault for c in throttled] == ["throttle", None, "throttle", None]  # the hand-off is never drilled
    assert "drill:throttle" in results["s [drill: throttle]"].tags
    stale = results["s [drill: stale]"].trace.tool_calls()
    assert stale[0].result["updated_at"].startswith("2025-12-25") and stale[0].fault == "stale"


def test_outage_ends_in_a_handoff_which_excuses_the_original_expectations(tmp_path: Path):
    result = run_all(make(tmp_path, [refund_scenario()]), drills=["outage"]).results["s [drill: outage]"]
    assert [c.tool for c in result.trace.tool_calls()] == ["lookup"] * 3 + ["handoff"]
    assert result.outcome.value == "passed"
    advisory = {c.check for c in result.checks if c.advisory and not c.passed}
    assert advisory == {"output.contains"}
    assert {c.check for c in result.checks} >= {"resilience.max_retries", "resilience.no_duplicate_writes",
                                                "resilience.no_policy_violation", "tools.not_called"}


def test_unbounded_retries_fail_the_default_expectations(tmp_path: Path):
    body = refund_scenario(drills={"outage": {"tools": ["lookup"], "status": 502}})
    body["agent"] = "impatient"
    result = run_all(make(tmp_path, [body])).results["s [drill: outage]"]
    assert result.trace.tool_calls()[0].error.status == 502
    assert result.outcome.value == "error"  # the impatient agent raises after 3 tries: harness saw a crash


def test_a_scenario_declares_its_own_drill_expectations(tmp_path: Path):
    body = refund_scenario(drills={"throttle": {"retry_after": 45, "tools": ["refund"],
                                                "expect": {"max_retries": 0, "output": {"contains": "done"}}}})
    results = run_all(make(tmp_path, [body])).results
    drilled = results["s [drill: throttle]"]
    assert failed_checks(drilled) == ["resilience.max_retries"]
    refund_calls = [c for c in drilled.trace.tool_calls() if c.tool == "refund"]
    assert refund_calls[0].error.retry_after == "45" and refund_calls[1].at_ms >= 45_000
    assert results["s"].outcome.value == "passed"


def test_drill_tools_are_checked_against_the_catalog(tmp_path: Path):
    from tests.e2e_helpers import cli

    root = make(tmp_path, [])
    (root / "scenarios" / "s.yaml").write_text(
        "id: s\nagent: careful\ninput: x\n"
        "drills:\n  outage:\n    tools: [lokup]\n"
        "  injection:\n    plant: [{tool: get_dc}]\n"
    )
    done = cli("validate", cwd=root)
    assert done.code == 2
    assert "s.yaml:6 at drills.outage.tools[0]: unknown tool 'lokup' (did you mean 'lookup'?)" in done.err
    assert "drills.injection.plant[0].tool: unknown tool 'get_dc' (did you mean 'get_doc'?)" in done.err
    (root / "scenarios" / "s.yaml").write_text("id: s\nagent: careful\ninput: x\ndrills:\n  flod: {}\n")
    done = cli("validate", cwd=root)
    assert done.code == 2 and "s.yaml:5 at drills: unknown key 'flod' (allowed keys: throttle, timeout" in done.err
