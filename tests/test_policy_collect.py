"""A policy is checked when it loads: shapes, names and CEL conditions, each problem at its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_helpers import project_with

from agentcheck.policy.expr import ConditionFailed, ExprError, as_cel, compile_condition
from agentcheck.problems import BadInput


def problems(tmp_path: Path, policy: str) -> list[str]:
    with pytest.raises(BadInput) as caught:
        project_with(tmp_path, policy)
    return [p.render() for p in caught.value.problems]


def test_condition_errors_point_at_file_and_line(tmp_path: Path):
    found = problems(
        tmp_path,
        """
        agents:
          bot: {scopes: [data:read]}
        tools:
          read: {scopes: [data:read]}
        rules:
          - {id: a, tools: [read], when: "args.amount >", decision: allow}
          - {id: b, tools: [read], when: "budget.left > 3", decision: allow}
          - {id: c, tools: [read], when: "run.monies > 3.0", decision: allow}
          - {id: d, tools: [read], when: "sh('rm -rf /')", decision: allow}
          - {id: e, tools: [reed], decision: allow}
          - {id: a, decision: block}
        """,
    )
    assert found[0].startswith("agentcheck.yaml:20 at policy.rules[0].when: CEL syntax error")
    assert "(column 14 of the expression)" in found[0]
    assert found[1] == (
        "agentcheck.yaml:21 at policy.rules[1].when: unknown variable 'budget' (conditions can use agent, args, "
        "run, tool) (see docs/policy.md for the variables and functions conditions can use)"
    )
    assert "agentcheck.yaml:22 at policy.rules[2].when: unknown field 'run.monies'" in found[2]
    assert "agentcheck.yaml:23 at policy.rules[3].when: unknown function 'sh'" in found[3]
    assert "agentcheck.yaml:24 at policy.rules[4].tools[0]: unknown tool 'reed' (did you mean 'read'?)" in found[4]
    assert "agentcheck.yaml:25 at policy.rules[5].id: duplicate rule id 'a'" in found[5]


def test_shape_and_reference_problems(tmp_path: Path):
    found = problems(
        tmp_path,
        """
        agents:
          robot: {scopes: [data:read]}
        tools:
          pay: {intent: true, spends: amt}
          read: {idempotency_key: key}
          nope: {}
        rules:
          - {id: x, decision: maybe}
        flows:
          - {id: f, tools: [pay]}
        """,
    )
    text = "\n".join(found)
    assert "policy.agents.robot: unknown agent 'robot'" in text
    assert "policy.tools.read.idempotency_key: tool 'read' has no argument 'key'" in text
    assert "policy.tools.pay.spends: tool 'pay' has no argument 'amt'" in text
    assert "policy.tools.nope: unknown tool 'nope'" in text
    assert "policy.rules[0].decision" in text
    assert "a flow rule needs `after`, `after_untrusted` or `requires_prior`" in text


def test_numbers_are_doubles_so_sums_never_mix_int_and_double():
    condition = compile_condition("run.money_moved + args.amount > 1000")
    assert condition.holds({"run": {"money_moved": 700.0}, "args": as_cel({"amount": 400})})
    assert condition.paths == ("run.money_moved", "args.amount")


def test_macro_variables_are_not_unknown_variables():
    condition = compile_condition("run.tools_called.exists(t, t == 'read')")
    assert condition.holds({"run": {"tools_called": ["read"]}})


def test_a_non_boolean_result_is_a_failure_not_a_truthy_value():
    with pytest.raises(ConditionFailed, match="not true or false"):
        compile_condition("args.amount").holds({"args": {"amount": 1.0}})


def test_syntax_error_position_is_reported():
    with pytest.raises(ExprError) as caught:
        compile_condition("args.a &&\n  (args.b")
    assert (caught.value.line, caught.value.column) == (2, 10)


def test_scenario_policy_sections_are_checked(tmp_path: Path):
    from agentcheck.collect import collect

    project = project_with(tmp_path, "agents:\n  bot: {scopes: [data:read]}\ntools:\n  read: {scopes: [data:read]}")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s.yaml").write_text(
        "id: s\ninput: hi\npolicy:\n  approver: [approved]\n  kill_switch: {at_step: 2, revoke: [raed, 'data:*']}\n"
        "  expect:\n    decisions: [{read: allowed}, {nope: blocked}]\n    handoff: true\n"
    )
    with pytest.raises(BadInput) as caught:
        collect(project)
    text = "\n".join(p.render() for p in caught.value.problems)
    assert "scenarios/s.yaml:5 at policy.kill_switch.revoke[0]: unknown tool 'raed'" in text
    assert "at policy.expect.decisions[1].nope: unknown tool 'nope'" in text
    assert "policy.expect.handoff: the project policy declares no hand-off tools or markers" in text


def test_a_bad_approver_names_the_form_meant(tmp_path: Path):
    from agentcheck.collect import collect

    project = project_with(tmp_path, "agents:\n  bot: {scopes: [data:read]}\ntools:\n  read: {scopes: [data:read]}")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s.yaml").write_text("id: s\ninput: hi\npolicy:\n  approver: maybe\n")
    with pytest.raises(BadInput) as caught:
        collect(project)
    assert [p.render() for p in caught.value.problems] == [
        "scenarios/s.yaml:4 at policy.approver: expected 'approved' or 'denied', got 'maybe'"
    ]


def test_remembered_results_tell_apart_what_cel_tells_apart():
    equal_one = compile_condition("args.x == 1.0")
    assert equal_one.holds({"args": {"x": 1}}) and equal_one.holds({"args": {"x": 1.0}})
    assert not equal_one.holds({"args": {"x": True}})  # true is not 1.0 in CEL, whatever Python says
    with pytest.raises(ConditionFailed, match="no field"):
        equal_one.holds({"args": {}})
    with pytest.raises(ConditionFailed, match="no field"):
        equal_one.holds({"args": {}})  # a remembered failure still fails
    present = compile_condition("has(args.x)")
    assert not present.holds({"args": {}}) and present.holds({"args": {"x": None}})
    assert len(equal_one.memo) == 3 and len(present.memo) == 2


def test_unkeyable_values_are_evaluated_every_time():
    condition = compile_condition("args.x.y == 'z'")
    assert condition.holds({"args": {"x": {"y": "z"}}}) and len(condition.memo) == 1
    assert not condition.holds({"args": {"x": {"y": object()}}})  # passed on as text, never remembered
    assert len(condition.memo) == 1
