"""Stateful fixtures (get, list, insert, update, delete, a Python handler), end-state checks with a
deepdiff, idempotent writes and duplicate writes, retries and hand-offs."""

from __future__ import annotations

from pathlib import Path

from tests.drill_helpers import calls_plan, failed_checks, make, run_all

STATE = {
    "orders": {"key": "id", "rows": [{"id": "A1", "amount": 10.0, "status": "delivered"},
                                     {"id": "B2", "amount": 99.0, "status": "in_transit"}]},
    "refunds": {"key": "refund_id", "rows": []},
}
FIXTURES = {
    "lookup": {"state": {"get": "orders"}},
    "get_doc": {"state": {"list": "orders", "where": ["status"]}},
    "refund": {"state": {"insert": "refunds", "id_template": "R-{n}"}},
    "send_email": {"state": {"update": "orders", "key": "to"}},
    "handoff": {"state": {"delete": "orders", "key": "reason"}},
}


def scenario(sid: str, *calls, expect=None, fixtures=None) -> dict:
    return {"id": sid, "agent": "careful", "input": calls_plan(*calls), "state": STATE,
            "fixtures": fixtures or FIXTURES, "expect": expect or {}}


def test_state_operations_and_end_state(tmp_path: Path):
    body = scenario(
        "s",
        ("lookup", {"id": "A1"}),
        ("get_doc", {"id": "x", "status": "in_transit"}),
        ("refund", {"order_id": "A1", "amount": 10.0}),
        ("send_email", {"to": "B2", "body": "shipped"}),
        ("handoff", {"reason": "A1"}),
        expect={"state": {
            "refunds": {"equals": [{"refund_id": "R-1", "order_id": "A1", "amount": 10.0}], "count": 1},
            "orders": {"contains": [{"id": "B2", "body": "shipped"}], "absent": [{"id": "A1"}]},
        }},
    )
    result = run_all(make(tmp_path, [body])).results["s"]
    calls = result.trace.tool_calls()
    assert calls[0].result == {"id": "A1", "amount": 10.0, "status": "delivered"}
    assert calls[1].result == [{"id": "B2", "amount": 99.0, "status": "in_transit"}]
    assert calls[2].result["refund_id"] == "R-1"
    assert calls[4].result == {"deleted": "A1"}
    assert result.outcome.value == "passed", result.message
    assert result.trace.state["orders"] == [{"id": "B2", "amount": 99.0, "status": "in_transit", "body": "shipped"}]


def test_end_state_differences_are_a_deepdiff(tmp_path: Path):
    body = scenario("s", ("refund", {"order_id": "A1", "amount": 12.5}),
                    expect={"state": {"refunds": {"equals": [{"refund_id": "R-1", "order_id": "A1", "amount": 10.0}]},
                                      "orders": {"unchanged": True}}})
    result = run_all(make(tmp_path, [body])).results["s"]
    assert failed_checks(result) == ["state.refunds.equals"]
    check = next(c for c in result.checks if c.check == "state.refunds.equals")
    assert "amount" in check.explanation and "10.0" in check.explanation and "12.5" in check.explanation


def test_get_of_a_missing_row_is_not_found(tmp_path: Path):
    body = scenario("s", ("lookup", {"id": "Z9"}), expect={"handoff": True},
                    fixtures={**FIXTURES, "handoff": [{"returns": "ok"}]})
    result = run_all(make(tmp_path, [body])).results["s"]
    assert result.trace.tool_calls()[0].error.status == 404
    assert result.outcome.value == "passed"


def test_python_handler_answers_from_the_tables(tmp_path: Path):
    handler = """
    def refund(args, tables):
        tables["refunds"].append({"refund_id": "H-1", **args})
        return {"refund_id": "H-1", "open": len(tables["refunds"])}
    """
    body = scenario("s", ("refund", {"order_id": "A1", "amount": 1.0}),
                    fixtures={"refund": {"handler": "handlers:refund"}},
                    expect={"state": {"refunds": {"count": 1}}})
    result = run_all(make(tmp_path, [body], {"handlers.py": handler})).results["s"]
    assert result.trace.tool_calls()[0].result == {"refund_id": "H-1", "open": 1}
    assert result.outcome.value == "passed", result.message


def test_idempotent_retry_is_replayed_and_applied_once(tmp_path: Path):
    write = ("refund", {"order_id": "A1", "amount": 10.0, "key": "k1"})
    body = scenario("s", write, write, expect={"no_duplicate_writes": True, "state": {"refunds": {"count": 1}}})
    result = run_all(make(tmp_path, [body])).results["s"]
    first, second = result.trace.tool_calls()
    assert second.replay_of == first.step and second.result == first.result
    assert result.outcome.value == "passed", result.message


def test_same_write_with_a_new_key_is_a_duplicate_write(tmp_path: Path):
    body = scenario("s", ("refund", {"order_id": "A1", "amount": 10.0, "key": "k1"}),
                    ("refund", {"order_id": "A1", "amount": 10.0, "key": "k2"}),
                    expect={"no_duplicate_writes": True})
    result = run_all(make(tmp_path, [body])).results["s"]
    assert failed_checks(result) == ["resilience.no_duplicate_writes"]
    assert "step 2 repeated the write of step 1" in result.checks[0].explanation
    assert result.trace.state["refunds"][1]["refund_id"] == "R-2"


def test_handoff_expectations(tmp_path: Path):
    outage = {"lookup": {"default": {"fault": {"kind": "http_error", "status": 503}}}, "handoff": [{"returns": "ok"}]}
    bodies = [
        scenario("must", ("lookup", {"id": "A1"}), fixtures=outage, expect={"handoff": True, "max_retries": 2}),
        scenario("must-not", ("lookup", {"id": "A1"}), fixtures=outage, expect={"handoff": False}),
    ]
    results = run_all(make(tmp_path, bodies)).results
    assert results["must"].outcome.value == "passed", results["must"].message
    assert failed_checks(results["must-not"]) == ["resilience.handoff"]
    calls = results["must"].trace.tool_calls()
    assert [c.tool for c in calls] == ["lookup", "lookup", "lookup", "handoff"]


def test_unknown_tables_are_bad_input(tmp_path: Path):
    from tests.e2e_helpers import cli

    root = make(tmp_path, [])
    (root / "scenarios" / "s.yaml").write_text(
        "id: s\nagent: careful\ninput: x\n"
        "state:\n  refunds: {key: refund_id}\n"
        "fixtures:\n  refund:\n    state: {insert: refund}\n"
        "expect:\n  state:\n    refnds: {count: 0}\n"
    )
    done = cli("validate", cwd=root)
    assert done.code == 2, done.out
    assert "s.yaml:7 at fixtures.refund.state: unknown state table 'refund' (did you mean 'refunds'?)" in done.err
    assert "s.yaml:11 at expect.state.refnds: unknown state table 'refnds' (did you mean 'refunds'?)" in done.err


def test_a_failing_handler_is_a_harness_error_not_an_agent_fault(tmp_path: Path):
    handler = """
    def refund(args, tables):
        raise KeyError("no such table")
    """
    body = scenario("s", ("refund", {"order_id": "A1", "amount": 1.0}),
                    fixtures={"refund": {"handler": "handlers2:refund"}})
    result = run_all(make(tmp_path, [body], {"handlers2.py": handler})).results["s"]
    assert result.outcome.value == "error"
    assert "fixture handler of 'refund' raised KeyError" in result.message
