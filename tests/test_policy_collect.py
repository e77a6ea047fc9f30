"""A policy is checked when it loads: shapes, names and CEL conditions, each problem at its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_helpers import project_with

from agentcheck.policy.expr import ConditionFailed, ExprError, as_cel, compile_condition
from agentcheck.problems import BadInput
from agentcheck.project import Project


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


@pytest.mark.parametrize(("text", "said"), [
    ("args.x >", "CEL syntax error: the expression ends where a value was expected (a name, number, string"),
    ("args.y + + 1", "CEL syntax error: unexpected '+' where a value was expected"),
])
def test_syntax_errors_say_what_was_expected_in_words(text: str, said: str):
    """Not the parser's list of token names ({'[', '{', ..., NUM_FLOAT, IDENTIFIER})."""
    with pytest.raises(ExprError) as caught:
        compile_condition(text)
    assert caught.value.message.startswith(said) and "IDENTIFIER" not in caught.value.message
    assert "Syntax error: " not in caught.value.message  # said once


def _reader_project(tmp_path: Path, scenarios: str) -> Project:
    """A project whose agent may read, and one scenario file holding `scenarios` (YAML text)."""
    project = project_with(tmp_path, "agents:\n  bot: {scopes: [data:read]}\ntools:\n  read: {scopes: [data:read]}")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s.yaml").write_text(scenarios)
    return project


def test_scenario_policy_sections_are_checked(tmp_path: Path):
    from agentcheck.collect import collect

    project = _reader_project(
        tmp_path,
        "id: s\ninput: hi\npolicy:\n  approver: [approved]\n  kill_switch: {at_step: 2, revoke: [raed, 'data:*']}\n"
        "  expect:\n    decisions: [{read: allowed}, {nope: blocked}]\n    handoff: true\n",
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


POLICY_FILE = """\
agents:
  bot: {scopes: [data:read]}
tools:
  read: {scopes: [data:read]}
rules:
  - {id: small-reads, tools: [read], when: "args.n <= 3.0", decision: allow}
"""


def _split_project(tmp_path: Path, policy_text: str, ref: str = "policies/agents.yaml") -> Path:
    from policy_helpers import TOOLS

    config = "version: 1\nagents:\n  bot: {kind: python, entrypoint: bot:run}\n" + TOOLS.lstrip("\n")
    config += f"policy: {ref}\n"
    (tmp_path / "agentcheck.yaml").write_text(config)
    (tmp_path / "policies").mkdir(exist_ok=True)
    (tmp_path / "policies" / "agents.yaml").write_text(policy_text)
    return tmp_path


def test_a_policy_in_its_own_file_is_enforced_and_decisions_point_into_it(tmp_path: Path):
    from policy_helpers import Run

    from agentcheck.collect import load_project

    project = load_project(None, cwd=_split_project(tmp_path, POLICY_FILE))
    run = Run(project)
    allowed = run.call("read", {"n": 2})
    assert allowed.allowed and allowed.record["rule"] == "small-reads"
    assert allowed.record["source"] == "policies/agents.yaml:6"
    refused = run.call("note")
    assert not refused.allowed and refused.record["rule"] == "default-deny"


def test_problems_in_a_policy_file_name_that_file_its_lines_and_its_own_key_paths(tmp_path: Path):
    from agentcheck.collect import load_project

    broken = POLICY_FILE.replace("tools: [read], when", "tools: [reed], when").replace("<= 3.0", "<=")
    broken += "spend: {max_money: 3}\n"
    with pytest.raises(BadInput) as caught:
        load_project(None, cwd=_split_project(tmp_path, broken))
    found = [p.render() for p in caught.value.problems]
    assert "policies/agents.yaml:7 at spend: unknown key 'max_money' (did you mean 'max_money_moved'?)" in found
    # the well-formed rest is checked in the same pass: every problem at once
    assert "policies/agents.yaml:6 at rules[0].tools[0]: unknown tool 'reed' (did you mean 'read'?)" in found
    with pytest.raises(BadInput) as caught:
        load_project(None, cwd=_split_project(tmp_path, broken.rsplit("spend:", 1)[0]))
    found = [p.render() for p in caught.value.problems]
    assert any(f.startswith("policies/agents.yaml:6 at rules[0].when: CEL syntax error") for f in found)
    assert "policies/agents.yaml:6 at rules[0].tools[0]: unknown tool 'reed' (did you mean 'read'?)" in found


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("policies/missing.yaml", "agentcheck.yaml:14 at policy: policy file 'policies/missing.yaml' not found"),
        ("../outside.yaml", "agentcheck.yaml:14 at policy: policy file '../outside.yaml' is outside the project root"),
    ],
)
def test_a_policy_file_that_is_missing_or_outside_the_project_is_bad_input(tmp_path: Path, ref: str, expected: str):
    from agentcheck.collect import load_project

    (tmp_path / "outside.yaml").write_text(POLICY_FILE)
    project = tmp_path / "project"
    project.mkdir()
    with pytest.raises(BadInput) as caught:
        load_project(None, cwd=_split_project(project, POLICY_FILE, ref))
    assert caught.value.problems[0].render().startswith(expected)


def test_a_policy_file_must_hold_one_mapping(tmp_path: Path):
    from agentcheck.collect import load_project

    with pytest.raises(BadInput) as caught:
        load_project(None, cwd=_split_project(tmp_path, "- just\n- a list\n"))
    assert "policies/agents.yaml:1: expected one mapping: the policy section" in caught.value.problems[0].render()


def test_autonomy_off_loads_written_bare_as_the_docs_show_it(tmp_path: Path):
    """PyYAML reads a bare `off` as false: `autonomy: off` still means off (and `on` on)."""
    from agentcheck.collect import collect

    project = _reader_project(
        tmp_path,
        "scenarios:\n"
        "  - {id: a, input: hi, policy: {autonomy: off}}\n"
        "  - {id: b, input: hi, policy: {kill_switch: {at_step: 3, autonomy: off}}}\n"
        "  - {id: c, input: hi, policy: {autonomy: on}}\n"
        "  - {id: d, input: hi, policy: {autonomy: 'off'}}\n",
    )
    policies = {s.id: s.policy for s in collect(project)}
    assert policies["a"].kill_switch is not None and policies["a"].kill_switch.autonomy_off
    assert policies["a"].kill_switch.at_step == 1
    assert policies["b"].kill_switch.autonomy_off and policies["b"].kill_switch.at_step == 3
    assert policies["c"].kill_switch is None
    assert policies["d"].kill_switch.autonomy_off
