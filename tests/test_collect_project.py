"""Loading agentcheck.yaml: the Project built, and every problem reported at its line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentcheck.collect import find_config, load_project
from agentcheck.problems import BadInput
from agentcheck.project import GATE_METRICS, RiskTier
from agentcheck.scenario import BUDGET_FIELDS, Budget

FULL = """\
version: 1
agents:
  refund-assistant:
    kind: python
    entrypoint: examples.refund_assistant:run
    version: "1.0.0"
    tools: [lookup_order, issue_refund]
    options: {refund_limit: 100}
    timeout_s: 10
    description: Refunds things.
tools:
  lookup_order:
    description: Look up an order by id.
    parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
    writes: false
    risk: low
  issue_refund:
    writes: true
    risk: high
defaults:
  timeout_s: 30
  concurrency: 4
  paths: [scenarios, more]
  exclude_tags: [demo-failure]
budget:
  max_steps: 20
  max_prompt_tokens: 1000
  max_completion_tokens: 200
  max_cost_usd: 0.5
gates:
  - name: critical
    select: {tags: [policy-critical], agents: [refund-assistant], scenarios: ["refund-*"]}
    min_pass_rate: 1.0
    max_p95_cost_usd: 0.05
  - name: failures
    max_failures: 0
reports:
  dir: out
  junit: out/j.xml
  json: false
  junit_strict: true
policy: {rules: []}
"""


def write(tmp_path: Path, text: str, name: str = "agentcheck.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        load_project(None, cwd=tmp_path)
    return [p.render() for p in info.value.problems]


# --- find_config -----------------------------------------------------------------------------------


def test_find_config_in_start_or_parents(tmp_path: Path):
    config = write(tmp_path, "version: 1\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == config
    assert find_config(tmp_path) == config
    assert find_config(config) == config


def test_find_config_accepts_yml_and_returns_none_when_absent(tmp_path: Path):
    found = find_config(tmp_path)
    assert found is None or tmp_path not in found.parents  # nothing here (a stray file above is not ours)
    write(tmp_path, "version: 1\n", "agentcheck.yml")
    assert find_config(tmp_path) == tmp_path / "agentcheck.yml"


# --- loading ---------------------------------------------------------------------------------------


def test_minimal_project_gets_defaults(tmp_path: Path):
    write(tmp_path, "version: 1\n")
    project = load_project(None, cwd=tmp_path)
    assert project.root == tmp_path.resolve()
    assert project.config_file == tmp_path / "agentcheck.yaml"
    assert project.agents == {} and project.tools == {} and project.gates == []
    assert project.defaults.timeout_s == 60 and project.defaults.concurrency == 8
    assert project.defaults.paths == ("scenarios",)
    assert project.budget == Budget()
    assert project.reports is not None
    assert project.reports.dir == project.root / "reports"
    assert project.reports.junit == project.root / "reports" / "junit.xml"
    assert project.reports.json == project.root / "reports" / "results.json"
    assert project.reports.junit_strict is False


def test_full_project(tmp_path: Path):
    write(tmp_path, FULL)
    sub = tmp_path / "scenarios"
    sub.mkdir()
    project = load_project(None, cwd=sub)
    agent = project.agents["refund-assistant"]
    assert agent.kind == "python" and agent.entrypoint == "examples.refund_assistant:run"
    assert agent.version == "1.0.0" and agent.tools == ("lookup_order", "issue_refund")
    assert agent.options == {"refund_limit": 100} and agent.timeout_s == 10
    assert str(agent.source) == "agentcheck.yaml:5"  # its entrypoint, what loading it can find wrong
    lookup = project.tools["lookup_order"]
    assert lookup.parameters["required"] == ["order_id"] and lookup.risk is RiskTier.LOW
    refund = project.tools["issue_refund"]
    assert refund.writes and refund.risk is RiskTier.HIGH and refund.parameters == {"type": "object"}
    assert project.defaults.timeout_s == 30 and project.defaults.paths == ("scenarios", "more")
    assert project.defaults.exclude_tags == ("demo-failure",)
    assert project.budget == Budget(max_steps=20, max_input_tokens=1000, max_output_tokens=200, max_cost_usd=0.5)
    critical, failures = project.gates
    assert critical.select.tags == ("policy-critical",) and critical.select.scenarios == ("refund-*",)
    assert critical.thresholds == {"min_pass_rate": 1.0, "max_p95_cost_usd": 0.05}
    assert failures.thresholds == {"max_failures": 0} and failures.select.agents == ()
    assert str(failures.source) == "agentcheck.yaml:35"
    assert project.reports is not None
    assert project.reports.dir == project.root / "out"
    assert project.reports.junit == project.root / "out" / "j.xml"
    assert project.reports.json is None and project.reports.junit_strict
    assert project.extensions == {}
    assert project.policy is not None and project.policy.rules == ()


def test_null_report_disables_it(tmp_path: Path):
    write(tmp_path, "version: 1\nreports: {junit: null}\n")
    project = load_project(None, cwd=tmp_path)
    assert project.reports is not None and project.reports.junit is None


def test_explicit_config_path_relative_to_cwd_or_a_folder(tmp_path: Path):
    write(tmp_path, "version: 1\n", "custom.yaml")
    project = load_project(Path("custom.yaml"), cwd=tmp_path)
    assert project.config_file == tmp_path / "custom.yaml"
    write(tmp_path, "version: 1\n")
    assert load_project(tmp_path, cwd=Path("/")).config_file == tmp_path / "agentcheck.yaml"


def test_no_config_found_tells_how_to_fix(tmp_path: Path):
    with pytest.raises(BadInput) as info:
        load_project(None, cwd=tmp_path)
    (problem,) = info.value.problems
    assert "no agentcheck.yaml found" in problem.message
    assert "agentcheck init" in (problem.hint or "") and "--config" in (problem.hint or "")


def test_explicit_config_missing(tmp_path: Path):
    with pytest.raises(BadInput) as info:
        load_project(tmp_path / "nope.yaml", cwd=tmp_path)
    assert "config file not found" in info.value.problems[0].render()


# --- problems ----------------------------------------------------------------------------------------


def test_unknown_keys_get_did_you_mean_with_lines(tmp_path: Path):
    problems = problems_of(
        tmp_path,
        """\
        version: 1
        agent:
          x: {kind: python}
        defaults:
          timout_s: 3
        """,
    )
    assert "agentcheck.yaml:2: unknown key 'agent' (did you mean 'agents'?)" in problems
    assert "agentcheck.yaml:5 at defaults: unknown key 'timout_s' (did you mean 'timeout_s'?)" in problems


def test_wrong_types_say_what_was_expected(tmp_path: Path):
    problems = problems_of(
        tmp_path,
        """\
        version: 2
        defaults:
          timeout_s: abc
          concurrency: 2.5
          paths: scenarios
        tools:
          t: {risk: extreme, writes: "yes"}
        """,
    )
    assert "agentcheck.yaml:1 at version: expected 1, got 2" in problems
    assert "agentcheck.yaml:3 at defaults.timeout_s: expected a number, got 'abc'" in problems
    assert "agentcheck.yaml:4 at defaults.concurrency: expected a whole number, got 2.5" in problems
    assert "agentcheck.yaml:5 at defaults.paths: expected a list, got 'scenarios'" in problems
    assert any(p.startswith("agentcheck.yaml:7 at tools.t.risk: expected 'low', 'medium' or 'high'") for p in problems)
    assert "agentcheck.yaml:7 at tools.t.writes: expected true or false, got 'yes'" in problems


def test_missing_version(tmp_path: Path):
    assert problems_of(tmp_path, "agents: {}\n") == ["agentcheck.yaml:1: missing required key 'version'"]


def test_agent_problems(tmp_path: Path):
    problems = problems_of(
        tmp_path,
        """\
        version: 1
        agents:
          a: {kind: pyhton, entrypoint: "m:run"}
          b: {kind: python}
          c: {kind: python, entrypoint: "not a path"}
          d:
            kind: python
            entrypoint: m:run
            tools: [lookup_ordr]
        tools:
          lookup_order: {}
        """,
    )
    # shape problems and cross-references together, with no follow-on noise about c's entrypoint
    assert problems == [
        "agentcheck.yaml:3 at agents.a.kind: unknown agent kind 'pyhton' (did you mean 'python'?)",
        "agentcheck.yaml:4 at agents.b: agent 'b' of kind python needs an entrypoint"
        " (add `entrypoint: module:function`)",
        "agentcheck.yaml:5 at agents.c.entrypoint: expected 'module:function', e.g. 'examples.refund_assistant:run',"
        " got 'not a path'",
        "agentcheck.yaml:9 at agents.d.tools[0]: unknown tool 'lookup_ordr' (did you mean 'lookup_order'?)",
    ]


def test_shape_problems_do_not_hide_or_fake_cross_reference_problems(tmp_path: Path):
    problems = problems_of(
        tmp_path,
        """\
        version: 1
        agents:
          bot: {kind: python, entrypoint: "m:run", timeout_s: fast, tools: [lookup_ordr]}
        tools:
          lookup_order: {risk: extreme}
        gates:
          - {name: g, select: {agents: [bot]}, min_pass_rate: 1}
        """,
    )
    assert problems == [
        "agentcheck.yaml:3 at agents.bot.timeout_s: expected a number, got 'fast'",
        "agentcheck.yaml:3 at agents.bot.tools[0]: unknown tool 'lookup_ordr' (did you mean 'lookup_order'?)",
        "agentcheck.yaml:5 at tools.lookup_order.risk: expected 'low', 'medium' or 'high', got 'extreme'",
    ]


def test_tool_parameters_must_be_a_valid_json_schema(tmp_path: Path):
    problems = problems_of(
        tmp_path,
        """\
        version: 1
        tools:
          t:
            parameters:
              type: object
              properties:
                a: {type: strng}
        """,
    )
    assert len(problems) == 1
    assert problems[0].startswith("agentcheck.yaml:7 at tools.t.parameters.properties.a.type: invalid JSON Schema")


def test_gate_problems(tmp_path: Path):
    problems = problems_of(
        tmp_path,
        """\
        version: 1
        agents: {bot: {kind: python, entrypoint: "m:run"}}
        gates:
          - name: g
            min_pass_rate: 1.5
            max_p95_cost_usd: -1
            max_p95_cost: 1
          - name: h
        """,
    )
    assert "agentcheck.yaml:5 at gates[0].min_pass_rate: must be at most 1, got 1.5" in problems
    assert "agentcheck.yaml:6 at gates[0].max_p95_cost_usd: must be at least 0, got -1" in problems
    assert "agentcheck.yaml:7 at gates[0]: unknown key 'max_p95_cost' (did you mean 'max_p95_cost_usd'?)" in problems
    assert any(p.startswith("agentcheck.yaml:8 at gates[1]: a gate needs at least one threshold") for p in problems)
    problems = problems_of(
        tmp_path,
        """\
        version: 1
        agents: {bot: {kind: python, entrypoint: "m:run"}}
        gates:
          - {name: g, min_pass_rate: 1}
          - {name: g, max_failures: 0, select: {agents: [bto]}}
        """,
    )
    assert problems == [
        "agentcheck.yaml:5 at gates[1].name: duplicate gate name 'g' (first at line 4)",
        "agentcheck.yaml:5 at gates[1].select.agents[0]: unknown agent 'bto' (did you mean 'bot'?)",
    ]


def test_budget_alias_and_name_together(tmp_path: Path):
    problems = problems_of(tmp_path, "version: 1\nbudget:\n  max_input_tokens: 1\n  max_prompt_tokens: 2\n")
    assert problems == [
        "agentcheck.yaml:2 at budget: give either max_input_tokens or its alias max_prompt_tokens, not both"
    ]


def test_reports_true_is_not_a_path(tmp_path: Path):
    problems = problems_of(tmp_path, "version: 1\nreports:\n  junit: true\n")
    assert problems == [
        "agentcheck.yaml:3 at reports.junit: expected a file path, or false to turn this report off, got true"
    ]


def test_file_level_problems(tmp_path: Path):
    assert problems_of(tmp_path, "") == ["agentcheck.yaml: the project file is empty (it needs at least `version: 1`)"]
    assert problems_of(tmp_path, "- version: 1\n") == ["agentcheck.yaml:1: expected a mapping (key: value) at the top"]
    assert problems_of(tmp_path, "version: 1\n---\nversion: 1\n") == [
        "agentcheck.yaml:3: expected one YAML document, found several"
    ]
    (problem,) = problems_of(tmp_path, "version: 1\nagents: {a: [}\n")
    assert problem.startswith("agentcheck.yaml:2: invalid YAML")


def test_all_problems_are_reported_at_once(tmp_path: Path):
    problems = problems_of(tmp_path, "version: 1\nfoo: 1\nbar: 2\ndefaults: {concurrency: 0}\n")
    assert len(problems) == 3
    assert "agentcheck.yaml:4 at defaults.concurrency: must be at least 1, got 0" in problems


# --- the models stay in step with the domain -----------------------------------------------------------


def test_gate_model_has_exactly_the_gate_metrics():
    from agentcheck.collect.models import GateModel

    assert set(GateModel.model_fields) - {"name", "select", "k"} == set(GATE_METRICS)


def test_budget_model_has_the_budget_fields_plus_aliases():
    from agentcheck.collect.models import BudgetModel

    assert set(BudgetModel.model_fields) == {*BUDGET_FIELDS, "max_prompt_tokens", "max_completion_tokens"}


def test_importing_the_package_does_not_import_pydantic_yaml_or_jsonschema():
    code = (
        "import sys, agentcheck.collect as c\n"
        "heavy = [m for m in ('pydantic', 'yaml', 'jsonschema') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(c.select) and callable(c.collect)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_duplicate_keys_are_reported_with_the_other_problems(tmp_path: Path):
    problems = problems_of(tmp_path, "version: 1\ndefaults: {concurrency: 2}\ndefaults: {concurrency: 3}\nfoo: 1\n")
    assert problems == [
        "agentcheck.yaml:3: duplicate key 'defaults' (first at line 2)"
        " (remove one of them; YAML would silently keep only the last)",
        "agentcheck.yaml:4: unknown key 'foo' (allowed keys: version, agents, tools, defaults, budget, gates,"
        " reports, redact, policy, pricing, cassettes, regressions)",
    ]


def test_known_agent_kinds_match_the_adapters():
    from agentcheck.agents.base import ADAPTERS
    from agentcheck.collect.models import KNOWN_AGENT_KINDS

    assert set(KNOWN_AGENT_KINDS) == set(ADAPTERS)
