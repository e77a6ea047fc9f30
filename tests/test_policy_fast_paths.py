"""The shortcuts that keep the policy cheap decide exactly as the general code would.

Each fast path here (the usual key of a `requires_prior` flow built inline, the one-pass intent
check, `run.*` fields read one by one, the redactor's one-character gates before its longer
searches) has a general form beside it; these tests hold the two to the same answers, and the
redaction gates to never vouching for text that holds a secret.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agentcheck.policy.evidence import SeenIds, intent_problem
from agentcheck.policy.expr import RUN_FIELDS
from agentcheck.policy.history import RunHistory, args_key
from agentcheck.redact import MASK, Redactor
from agentcheck.scenario import AgentInput
from tests.policy_helpers import Run, project_with

BASE = """
agents:
  bot: {scopes: ["data:read", "data:write"]}
tools:
  read: {scopes: [data:read]}
  note: {scopes: [data:write]}
rules: [{id: notes, tools: [note], decision: allow}]
flows: [{id: read-first, tools: [note], requires_prior: read, same_args: [id]}]
"""

IDS = ["A", "", "1", 1, 1.0, True, None, ["A"], {"k": "A"}]
"""Values of the flow's `same_args` argument: text (the inline key) and every other JSON shape."""


@pytest.mark.parametrize("read_id", IDS, ids=repr)
@pytest.mark.parametrize("note_id", IDS, ids=repr)
def test_a_prior_read_matches_exactly_when_the_general_key_matches(tmp_path: Path, read_id, note_id):
    run = Run(project_with(tmp_path, BASE))
    run.call("read", {"id": read_id}, result={"ok": True})
    verdict = run.call("note", {"id": note_id})
    same = args_key({"id": read_id}, ("id",)) == args_key({"id": note_id}, ("id",))
    assert verdict.allowed == same, (read_id, note_id, verdict.reason)
    if not same:
        assert verdict.record["rule"] == "read-first" and verdict.record["values"] == {"id": note_id}


def test_a_missing_argument_keys_as_null_on_both_sides(tmp_path: Path):
    run = Run(project_with(tmp_path, BASE))
    run.call("read", {}, result={"ok": True})
    assert run.call("note", {}).allowed
    assert not run.call("note", {"id": "A"}).allowed


def _general_intent_problem(intent: object) -> str | None:
    """The intent check without its one-pass shortcut (a mapping in another shape skips it)."""

    class Other(dict):  # type: ignore[type-arg]
        pass

    return intent_problem(Other(intent) if type(intent) is dict else intent)


@pytest.mark.parametrize(
    "evidence",
    [["A1"], ["A1", "T-7"], [" "], ["A1", ""], ["A1", 7], ["A1", {"id": "C-9"}], [{"id": 3}], [{"id": ""}], [None]],
    ids=repr,
)
def test_the_one_pass_intent_check_agrees_with_the_general_one(evidence):
    intent = {"action": "refund", "justification": "damaged", "evidence": evidence}
    assert intent_problem(intent) == _general_intent_problem(intent)


def test_run_fields_read_one_by_one_equal_the_whole_run(tmp_path: Path):
    project = project_with(tmp_path, BASE)
    run = Run(project)
    run.call("read", {"id": "A"}, result={"ok": True})
    run.model_spend(0.25)
    run.recorder.clock.advance(1500)
    run.recorder.begin_tool_call("note", {"id": "A"})
    assert project.policy is not None
    history = RunHistory(project.policy, AgentInput([], None))
    history.catch_up(run.trace.events)
    whole = history.run_vars(run.recorder, 3)
    assert set(whole) == RUN_FIELDS
    elapsed = pytest.approx(whole["elapsed_s"], abs=0.5)  # the virtual clock also counts real time
    for name in RUN_FIELDS:
        expected = elapsed if name == "elapsed_s" else whole[name]
        assert history.run_vars(run.recorder, 3, (name,)) == {name: expected}
    names = tuple(sorted(RUN_FIELDS))
    expected_all = {name: elapsed if name == "elapsed_s" else whole[name] for name in names}
    assert history.run_vars(run.recorder, 3, names) == expected_all
    with pytest.raises(KeyError):
        history.run_vars(run.recorder, 3, ("no_such_field",))


def test_seen_ids_start_from_the_values_given():
    seen = SeenIds([{"ticket": "T-7"}, []])
    assert "T-7" in seen and "T-8" not in seen


SECRETS = [
    "AKIAABCDEFGHIJKLMNOP",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
    "sk-proj-abcdefghijklmnop1234",
    "ghp_" + "a" * 36,
    "xoxb-1234567890-abcdef",
    "Bearer abcdefgh12345678",
    "4111 1111 1111 1111",
]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("where", ["args", "policy.values", "policy.intent", "result"])
def test_the_json_check_never_vouches_for_a_result_holding_a_built_in_secret(secret: str, where: str):
    """The one-character gates (`K` before `AKIA`, `B` before `-----BEGIN `, a backslash before the
    escapes) only skip a search the text cannot match; a secret anywhere is still seen."""
    event = {
        "tool": "pay",
        "args": {"amount": 5},
        "result": {"ok": True},
        "policy": {"decision": "allowed", "values": {"args.amount": 5}, "intent": {"evidence": ["A1"]}},
    }
    if where == "args":
        event["args"]["note"] = f"use {secret} now"
    elif where == "result":
        event["result"]["note"] = secret
    elif where == "policy.values":
        event["policy"]["values"]["args.note"] = secret
    else:
        event["policy"]["intent"]["evidence"].append(secret)
    data = {"trace": {"events": [event]}}
    redactor = Redactor()
    assert redactor.data(data) != data  # the walk masks it...
    assert not redactor.leaves_json_alone(orjson.dumps(data).decode())  # ...so the check must not vouch


@pytest.mark.parametrize("text", ['{"a":"\\u0041KIA"}', '{"x\\/pin":"1"}', '{"a":"\\\\u"}'])
def test_escapes_are_still_refused_behind_the_backslash_gate(text: str):
    assert not Redactor().leaves_json_alone(text)


def test_plain_text_with_the_gate_characters_alone_is_still_vouched_for():
    redactor = Redactor()
    text = orjson.dumps({"Key": "BKA", "path": "a\\b", "note": "AKI A -----BEGIN"}).decode()
    assert redactor.data(orjson.loads(text)) == orjson.loads(text)
    assert redactor.leaves_json_alone(text)
    assert redactor.data({"api_key": "x"}) == {"api_key": MASK}


# --- the shortcut (policy/shortcut.py) against the engine's long way --------------------------------

SHORTCUT_POLICY = """
agents:
  bot: {scopes: ["data:read", "data:write", "money:move"]}
tools:
  read: {scopes: [data:read]}
  note: {scopes: [data:write], idempotency_key: key}
  pay: {scopes: [money:move], intent: true, spends: amount}
rules:
  - {id: notes, tools: [note], decision: allow}
  - {id: small, tools: [pay], when: "args.amount <= 100.0", reason: small refunds, decision: allow}
  - {id: mid, tools: [pay], when: "args.amount > 100.0 && args.amount <= 500.0", decision: approval_required}
  - {id: huge, tools: [pay], when: "run.money_moved + args.amount > 2000.0", decision: block}
flows:
  - {id: read-first, tools: [note, pay], requires_prior: read, same_args: [id]}
spend: {max_money_moved: 1000.0, max_model_cost_usd: 1.0}
"""

SHORTCUT_TOOLS = """
tools:
  read: {parameters: {type: object}, risk: low}
  note:
    parameters: {type: object, properties: {id: {}, key: {type: string}}}
    writes: true
    risk: medium
  pay:
    parameters: {type: object, properties: {id: {}, amount: {}, intent: {type: object}}}
    writes: true
    risk: high
"""


def _intent_args(amount: object, *evidence: object, **extra: object) -> dict:
    intent = {"action": "refund", "justification": "damaged", "evidence": list(evidence)}
    return {"id": "A", "amount": amount, "intent": intent, **extra}


CALLS: list[tuple[str, dict, object]] = [
    ("pay", _intent_args(5, "A"), None),  # no read yet: the flow refuses
    ("read", {"id": "A"}, {"id": "A", "ticket": "T-7"}),
    ("note", {"id": "A"}, None),  # no idempotency key
    ("note", {"id": "A", "key": "k1"}, None),
    ("note", {"id": 1, "key": "k1"}, None),
    ("pay", _intent_args(5, "A"), None),
    ("pay", _intent_args(5, "A"), None),  # the same input again: remembered outcome
    ("pay", _intent_args(5.0, "A", "T-7"), None),  # 5.0 is not 5: keyed apart
    ("pay", _intent_args(True, "A"), None),  # a bool is not a number
    ("pay", _intent_args(50, "A", "INVENTED"), None),
    ("pay", _intent_args(50, "A", {"id": "T-7"}), None),  # a mapping id: the engine's general check
    ("pay", _intent_args(50, "A", " "), None),
    ("pay", {"id": "A", "amount": 50}, None),  # no intent
    ("pay", _intent_args(300, "A"), None),  # approval
    ("pay", _intent_args(90, "A"), None),
    ("pay", _intent_args(90, "A"), None),
    ("pay", _intent_args(90, "A"), None),
    ("pay", _intent_args(90, "A"), None),
    ("pay", _intent_args(90, "A"), None),
    ("pay", _intent_args(90, "A"), None),  # over the money cap by now
    ("pay", {"id": "A", "intent": _intent_args(1, "A")["intent"]}, None),  # no amount: condition fails
    ("read", {"id": "B"}, {"id": "B"}),
    ("pay", {**_intent_args(1, "B"), "id": "B"}, None),
    ("pay", _intent_args([1], "A"), None),  # unhashable input
    ("pay", _intent_args(1, "A"), None),
]


def _verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shortcuts: bool, spend_at: int) -> list:
    from agentcheck.policy import plan as plan_module

    real = plan_module.compile_shortcut

    def counted(policy, plan):  # counts the allows each shortcut proved
        shortcut = real(policy, plan)
        if shortcut is None:
            return None

        def run(*args):
            verdict = shortcut(*args)
            SHORTCUT_ALLOWS[0] += verdict is not None
            return verdict

        return run

    monkeypatch.setattr(plan_module, "compile_shortcut", counted if shortcuts else lambda policy, plan: None)
    tmp_path.mkdir()
    project = project_with(tmp_path, SHORTCUT_POLICY, SHORTCUT_TOOLS)
    out = []
    for _ in range(2):  # a second run meets the plans and outcomes the first one left behind
        run = Run(project, approver=("approved", "denied"), data={"order": "A"})
        for index, (tool, args, result) in enumerate(CALLS):
            if index == spend_at:
                run.model_spend(2.0)  # over the model cost cap from here on
            verdict = run.call(tool, args, result)
            out.append((tool, verdict.allowed, verdict.reason, orjson.dumps(verdict.record, default=str)))
    monkeypatch.undo()
    return out


SHORTCUT_ALLOWS = [0]


@pytest.mark.parametrize("spend_at", [len(CALLS), 15])
def test_the_shortcut_gives_the_engines_verdicts_and_records(tmp_path: Path, monkeypatch, spend_at: int):
    SHORTCUT_ALLOWS[0] = 0
    fast = _verdicts(tmp_path / "fast", monkeypatch, True, spend_at)
    assert SHORTCUT_ALLOWS[0] >= 3  # the shortcut did prove allows (the rest took the long way)
    slow = _verdicts(tmp_path / "slow", monkeypatch, False, spend_at)
    assert fast == slow
    assert sum(allowed for _, allowed, _, _ in fast) >= 8  # the shortcut had allows to prove
    assert any(not allowed for _, allowed, _, _ in fast)


def test_the_shortcut_is_built_for_the_usual_plan_only(tmp_path: Path):
    from agentcheck.policy.plan import build_plan

    project = project_with(tmp_path, SHORTCUT_POLICY, SHORTCUT_TOOLS)
    assert project.policy is not None
    assert build_plan(project.policy, "bot", None, "pay").shortcut is not None
    assert build_plan(project.policy, "stranger", None, "pay").shortcut is None  # not a principal
    assert build_plan(project.policy, "bot", None, "unknown").shortcut is None  # fail closed, the long way
    assert build_plan(project.policy, "bot", None, "read").shortcut is not None  # a tier default, model cap


def test_the_shortcut_never_runs_once_the_kill_switch_is_reached(tmp_path: Path):
    from agentcheck.policy.spec import KillSwitch

    project = project_with(tmp_path, SHORTCUT_POLICY, SHORTCUT_TOOLS)
    run = Run(project, kill=KillSwitch(at_step=3, revoke=("pay",)))
    run.call("read", {"id": "A"}, {"id": "A"})
    assert run.call("pay", _intent_args(5, "A")).allowed  # step 2: before the kill
    refused = run.call("pay", _intent_args(5, "A"))  # step 3: the same input, now revoked
    assert not refused.allowed and refused.record["rule"] == "kill_switch"


# --- least-privilege accounting ----------------------------------------------------------------------


def test_least_privilege_counts_the_scopes_of_calls_the_policy_let_through(tmp_path: Path):
    from agentcheck.report.least_privilege import LeastPrivilegeReporter
    from agentcheck.trace import ModelCallEvent, ToolCallEvent, ToolStatus, Trace
    from agentcheck.verdict import Outcome, ScenarioResult

    def call(step: int, record: dict | None) -> ToolCallEvent:
        event = ToolCallEvent(step, f"c{step}", "t", {}, ToolStatus.OK)
        event.policy = record
        return event

    trace = Trace("t", "s", 1, "bot", None, "now")
    trace.events += [
        call(1, {"decision": "allowed", "agent": "bot", "scopes": ["a:read"]}),
        call(2, {"decision": "blocked", "agent": "bot", "scopes": ["b:write"]}),
        call(3, {"decision": "approval_required", "outcome": "denied", "scopes": ["c:write"]}),
        call(4, {"decision": "approval_required", "outcome": "approved", "scopes": ["d:write"]}),
        call(5, {"decision": "allowed", "agent": "other", "scopes": ["e:read", "a:read"]}),
        call(6, {"decision": "allowed", "scopes": []}),
        call(7, None),
        call(8, {}),
        ModelCallEvent(9, "m"),
    ]
    reporter = LeastPrivilegeReporter(tmp_path / "lp.md", None)  # type: ignore[arg-type]
    reporter.result(ScenarioResult(0, "s", "s.yaml", 1, "bot", (), Outcome.PASSED, "", trace=trace))
    reporter.result(ScenarioResult(1, "s2", "s.yaml", 2, "bot", (), Outcome.PASSED, "", trace=None))
    assert reporter.used == {"bot": {"a:read", "d:write"}, "other": {"e:read", "a:read"}}
