"""The real `agentcheck` command on the example suite and small projects: decisions in every report."""

from __future__ import annotations

import json
from pathlib import Path

from e2e_helpers import REPO, cli, copy_example, write
from jsonschema import Draft202012Validator


def _results(root: Path) -> dict[str, dict]:
    data = json.loads((root / "reports" / "results.json").read_text())
    return {r["scenario_id"]: r for r in data["results"]}


def _decisions(result: dict) -> list[tuple[str, str | None, str | None]]:
    return [
        (e["tool"], e["policy"]["decision"], e["policy"].get("outcome"))
        for e in result["trace"]["events"]
        if e.get("kind") == "tool_call" and e.get("policy")
    ]


def test_example_suite_runs_every_policy_path(tmp_path: Path):
    root = copy_example(tmp_path)
    done = cli("run", cwd=root)
    assert done.code == 0, done.out + done.err
    assert "no policy violations outside the policy drills" in done.out
    results = _results(root)
    assert all(r["outcome"] == "passed" for r in results.values())
    schema = json.loads((REPO / "agentcheck" / "schemas" / "results.schema.json").read_text())
    Draft202012Validator(schema).validate(json.loads((root / "reports" / "results.json").read_text()))
    assert ("issue_refund", "approval_required", "approved") in _decisions(
        results["policy-refund-above-limit-approved"]
    )
    assert ("issue_refund", "approval_required", "denied") in _decisions(results["policy-refund-above-limit-denied"])
    blocked = results["policy-payment-change-blocked"]["trace"]["events"][1]
    assert blocked["tool"] == "update_payment_method" and blocked["status"] == "refused"
    assert blocked["policy"]["rule"] == "agents.refund-assistant.scopes"  # scope comes before the block list
    assert blocked["policy"]["reason"] == "agent lacks scope 'payments:write:C-7'"
    assert blocked["policy"]["source"].startswith("agentcheck.yaml:")
    assert blocked["error"]["error_class"] == "PolicyRefused" and blocked["error"]["status"] == 403
    invented = next(
        e for e in results["policy-refund-invented-evidence-blocked"]["trace"]["events"] if e["tool"] == "issue_refund"
    )
    assert invented["policy"]["values"]["ungrounded"] == ["T-90210"]
    kill = _decisions(results["policy-kill-switch-mid-run"])
    assert ("issue_refund", "blocked", None) in kill and kill[-1][0] == "handoff_to_human"
    junit = (root / "reports" / "junit.xml").read_text()
    assert "policy-kill-switch-mid-run" in junit
    report = json.loads((root / "reports" / "least-privilege.json").read_text())
    assert report["agents"][0]["used"] == ["handoff:create", "orders:read", "refunds:write"]
    assert "least-privilege report" in done.out
    assert "# Least-privilege report" in (root / "reports" / "least-privilege.md").read_text()
    printed = cli("policy", "report", cwd=root)
    assert printed.code == 0
    assert (
        "agent refund-assistant: granted orders:read, refunds:write, handoff:create; used: handoff:create"
        in printed.out
    )


def test_a_wrong_expected_decision_fails_with_the_rule_that_decided(tmp_path: Path):
    root = copy_example(tmp_path)
    path = root / "scenarios" / "policy.yaml"
    path.write_text(
        path.read_text().replace("decisions: [{issue_refund: denied}]", "decisions: [{issue_refund: approved}]")
    )
    done = cli("run", "-k", "policy-refund-above-limit-denied", cwd=root)
    assert done.code == 1
    assert "policy.decision: call 1 of issue_refund → approval_required (denied), expected approved" in done.out
    junit = (root / "reports" / "junit.xml").read_text()
    assert "step 2 issue_refund → approval_required (denied) by refunds-above-limit (agentcheck.yaml:" in junit
    show = cli("show", "policy-refund-above-limit-denied", cwd=root)
    assert "refunds-above-limit" in show.out and "denied" in show.out


MINI = """
version: 1
agents:
  bot: {kind: python, entrypoint: bot:run}
tools:
  lookup: {parameters: {type: object}}
  wipe: {parameters: {type: object}, writes: true, risk: high}
policy:
  agents:
    bot: {scopes: [db:read, "admin:*"]}
  tools:
    lookup: {scopes: [db:read]}
    wipe: {scopes: [admin:wipe]}
  rules:
    - {id: wipe-ok, tools: [wipe], decision: allow}
"""


def test_policy_lint_exits_1_on_severe_findings(tmp_path: Path):
    write(tmp_path, {"agentcheck.yaml": MINI, "bot.py": "def run(task, tools, context):\n    return 'ok'\n"})
    done = cli("policy", "lint", "--markdown", "lp.md", "--json", "lp.json", cwd=tmp_path)
    assert done.code == 1, done.out + done.err
    assert "severe: admin-wildcard: agent 'bot': scope 'admin:*' grants everything" in done.out
    assert (
        "severe: high-risk-unattended: high-tier tool 'wipe' is allowed without approval by rule 'wipe-ok'" in done.out
    )
    assert "no-idempotency-key" in (tmp_path / "lp.md").read_text()
    assert json.loads((tmp_path / "lp.json").read_text())["counts"]["severe"] == 2


def test_policy_lint_on_the_example_is_clean_enough(tmp_path: Path):
    done = cli("policy", "lint", cwd=copy_example(tmp_path))
    assert done.code == 0 and "0 severe" in done.out


def test_a_bad_condition_is_bad_input_exit_2(tmp_path: Path):
    config = MINI.replace("decision: allow}", "decision: allow, when: 'args.x >'}")
    write(tmp_path, {"agentcheck.yaml": config, "bot.py": "def run(task, tools, context):\n    return 'ok'\n"})
    done = cli("run", cwd=tmp_path)
    assert done.code == 2
    assert "agentcheck.yaml:14 at policy.rules[0].when: CEL syntax error" in done.err
    assert "Traceback" not in done.err


def test_the_example_policy_kept_in_its_own_file_runs_the_same_and_points_into_it(tmp_path: Path):
    import yaml

    root = copy_example(tmp_path)
    config = yaml.safe_load((root / "agentcheck.yaml").read_text())
    (root / "policies").mkdir()
    (root / "policies" / "refunds.yaml").write_text(yaml.safe_dump(config.pop("policy"), sort_keys=False))
    config["policy"] = "policies/refunds.yaml"
    (root / "agentcheck.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    done = cli("run", cwd=root)
    assert done.code == 0, done.out + done.err
    results = _results(root)
    assert all(r["outcome"] == "passed" for r in results.values())
    sources = {
        e["policy"]["source"]
        for r in results.values()
        for e in r["trace"]["events"]
        if e.get("kind") == "tool_call" and e.get("policy") and e["policy"].get("source")
    }
    assert any(s.startswith("policies/refunds.yaml:") for s in sources), sources
    assert not [s for s in sources if s.startswith("agentcheck.yaml")], sources  # rules live in the policy file now
    schema = cli("schema", "policy", cwd=root)
    assert schema.code == 0
    policy = yaml.safe_load((root / "policies" / "refunds.yaml").read_text())
    assert not list(Draft202012Validator(json.loads(schema.out)).iter_errors(policy))
