"""What the engine remembers across the runs of one policy (per-tool rule and flow lists, scopes
that cannot change within a run) never changes a decision: each run decides as a fresh engine would."""

from __future__ import annotations

from pathlib import Path

from agentcheck.policy.engine import policy_factory
from agentcheck.policy.spec import KillSwitch, ScenarioPolicy
from agentcheck.scenario import AgentInput, Scenario, SourceRef
from tests.policy_helpers import TOOLS, Run, project_with

TWO_AGENTS = "  other: {kind: python, entrypoint: bot:run}\n" + TOOLS.lstrip("\n")
"""The helper's tools, after a second agent `other` (the helper writes the `agents:` header and `bot`)."""

POLICY = """
agents:
  bot: {scopes: ["data:*", {scope: "money:move", expires_after_steps: 1}]}
  other: {scopes: ["data:read"]}
tools:
  read: {scopes: [data:read]}
  note: {scopes: [data:write]}
  pay: {scopes: [money:move]}
rules:
  - {id: bot-notes, tools: [note], agents: [bot], decision: allow}
  - {id: small, tools: [pay], when: "args.amount <= 10.0", decision: allow}
flows:
  - {id: read-first, tools: [note], requires_prior: read}
"""


def _run(project, factory, agent: str = "bot", kill: KillSwitch | None = None) -> Run:
    run = Run(project, agent=agent, kill=kill)
    policy = ScenarioPolicy(kill_switch=kill) if kill else None
    run.engine = factory(Scenario("s", agent, AgentInput([]), SourceRef("s.yaml"), policy=policy))
    return run


def test_remembered_scopes_never_skip_the_kill_switch(tmp_path: Path):
    project = project_with(tmp_path, POLICY, TWO_AGENTS)
    factory = policy_factory(project.policy)
    calm = _run(project, factory)
    assert calm.call("read").allowed and calm.call("note").allowed  # scopes of read and note remembered
    killed = _run(project, factory, kill=KillSwitch(at_step=2, revoke=("data:write",)))
    assert killed.call("read").allowed
    refused = killed.call("note")
    assert not refused.allowed and refused.record["rule"] == "kill_switch"
    assert "scope 'data:write' was revoked" in refused.reason


def test_expiring_grants_are_checked_on_every_call_of_every_run(tmp_path: Path):
    project = project_with(tmp_path, POLICY, TWO_AGENTS)
    factory = policy_factory(project.policy)
    for _ in range(2):
        run = _run(project, factory)
        first = run.call("pay", {"amount": 5})
        assert first.allowed and first.record["scopes"] == ["money:move"]
        later = run.call("pay", {"amount": 5})
        assert not later.allowed and "expired" in later.reason


def test_rules_remembered_per_agent_and_tool(tmp_path: Path):
    project = project_with(tmp_path, POLICY, TWO_AGENTS)
    factory = policy_factory(project.policy)
    bot = _run(project, factory)
    bot.call("read", {}, result={})
    assert bot.call("note").record["rule"] == "bot-notes"
    other = _run(project, factory, agent="other")
    other.call("read", {}, result={})
    refused = other.call("note")  # the rule for bot does not apply, and other lacks data:write
    assert not refused.allowed and "lacks scope 'data:write'" in refused.reason


def test_remembered_flows_still_read_each_runs_history(tmp_path: Path):
    project = project_with(tmp_path, POLICY, TWO_AGENTS)
    factory = policy_factory(project.policy)
    first = _run(project, factory)
    first.call("read", {}, result={})
    assert first.call("note").allowed
    fresh = _run(project, factory)
    refused = fresh.call("note")
    assert not refused.allowed and refused.record["rule"] == "read-first"


def test_scope_records_are_fresh_lists(tmp_path: Path):
    project = project_with(tmp_path, POLICY, TWO_AGENTS)
    factory = policy_factory(project.policy)
    run = _run(project, factory)
    one, two = run.call("read"), run.call("read")
    assert one.record["scopes"] == two.record["scopes"] == ["data:read"]


def test_remembered_rule_outcomes_tell_apart_what_cel_tells_apart(tmp_path: Path):
    """The rules stage is remembered by its exact inputs: `1`, `1.0` and `true` are different inputs
    (in CEL `true == 1.0` is false), a missing field is not null, and the values a decision records
    are the call's own, never an earlier call's."""
    policy = """
    agents:
      bot: {scopes: ["data:*"]}
    tools:
      read: {scopes: [data:read]}
    rules:
      - {id: one, tools: [read], when: "args.x == 1.0", decision: allow}
    """
    project = project_with(tmp_path, policy, TOOLS)
    factory = policy_factory(project.policy)
    run = _run(project, factory)
    first = run.call("read", {"x": 1})
    assert first.allowed and first.record["rule"] == "one" and first.record["values"] == {"args.x": 1}
    again = _run(project, factory).call("read", {"x": 1.0})
    assert again.allowed and again.record["values"] == {"args.x": 1.0}
    assert type(again.record["values"]["args.x"]) is float
    as_bool = _run(project, factory).call("read", {"x": True})
    assert as_bool.record["rule"] == "tier.low" and as_bool.record["values"] == {"risk": "low"}
    missing = _run(project, factory).call("read", {})
    assert not missing.allowed and "condition failed" in missing.reason
