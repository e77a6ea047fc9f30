"""Collecting scenario files: the Scenario objects built, and every problem found across the suite.

Matcher specs here are plain literals (plus one unknown operator), so these tests do not depend on
the details of the matcher language.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from agentcheck.collect import collect, load_project
from agentcheck.matchers import ArgMode
from agentcheck.problems import BadInput
from agentcheck.project import Project
from agentcheck.scenario import Budget, TrajectoryMode

PROJECT = """\
version: 1
agents:
  refund-assistant:
    kind: python
    entrypoint: examples.refund_assistant:run
tools:
  lookup_order: {}
  issue_refund: {}
  update_payment_method: {}
budget:
  max_steps: 20
  max_tool_calls: 10
"""

TWO_AGENTS = """\
version: 1
agents:
  refund-assistant: {kind: python, entrypoint: "m:run"}
  reader: {kind: python, entrypoint: "m:read", tools: [lookup_order]}
tools:
  lookup_order: {}
  issue_refund: {}
"""


def make(tmp_path: Path, files: dict[str, str], project: str = PROJECT) -> Project:
    (tmp_path / "agentcheck.yaml").write_text(project, encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_project(None, cwd=tmp_path)


def problems(project: Project, paths: list[Path] | None = None) -> list[str]:
    with pytest.raises(BadInput) as info:
        collect(project, paths)
    return [p.render() for p in info.value.problems]


# --- building scenarios ------------------------------------------------------------------------------


def test_single_scenario_file(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/one.yaml": """\
            # yaml-language-server: $schema=../schemas/scenario.schema.json
            id: refund-damaged-order
            description: A damaged order is refunded.
            tags: [refunds]
            input: "Order A123 arrived broken, please refund it."
            timeout_s: 5
            """
        },
    )
    (scenario,) = collect(project)
    assert scenario.id == "refund-damaged-order"
    assert scenario.agent == "refund-assistant"  # the only agent
    assert scenario.input.messages == [{"role": "user", "content": "Order A123 arrived broken, please refund it."}]
    assert scenario.input.data is None
    assert str(scenario.source) == "scenarios/one.yaml:2"
    assert scenario.tags == ("refunds",) and scenario.timeout_s == 5 and scenario.skip is None
    assert scenario.fixtures == {} and scenario.index == 0
    assert scenario.expect.tools is None and scenario.expect.output is None
    assert scenario.expect.budget == Budget(max_steps=20, max_tool_calls=10)


def test_suite_file_defaults_and_collection_order(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/b.yaml": """\
            agent: refund-assistant
            tags: [refunds, shared]
            scenarios:
              - id: b-1
                tags: [policy-critical, shared]
                input: one
              - id: b-2
                input: {messages: [{role: system, content: be nice}, {role: user, content: two}], data: {x: 1}}
            """,
            "scenarios/a.yaml": "id: a-1\ninput: first\n---\nid: a-2\ninput: {data: [1, 2]}\n",
        },
    )
    scenarios = collect(project)
    assert [(s.index, s.id) for s in scenarios] == [(0, "a-1"), (1, "a-2"), (2, "b-1"), (3, "b-2")]
    assert scenarios[1].input.messages == [] and scenarios[1].input.data == [1, 2]
    assert scenarios[2].tags == ("refunds", "shared", "policy-critical")
    assert str(scenarios[2].source) == "scenarios/b.yaml:4"
    assert scenarios[3].input.text == "two" and scenarios[3].input.data == {"x": 1}
    assert str(scenarios[1].source) == "scenarios/a.yaml:4"


def test_fixtures_forms_and_merge_order(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "fixtures/orders.yaml": """\
            fixtures:
              lookup_order:
                - when: {order_id: A123}
                  returns: {amount: 42.0}
                - error: {class: NotFound, message: no such order, status: 404}
                  latency_ms: 120
              issue_refund: [{returns: from-file}]
              update_payment_method: [{returns: from-file}]
            """,
            "fixtures/more.yaml": "fixtures:\n  issue_refund: [{returns: from-second-file}]\n",
            "scenarios/suite.yaml": """\
            fixture_files: [../fixtures/orders.yaml]
            fixtures:
              update_payment_method: [{returns: from-suite}]
            scenarios:
              - id: s
                input: hi
                fixture_files: [../fixtures/more.yaml]
                fixtures:
                  lookup_order:
                    match:
                      - when: {order_id: B1}
                        returns: null
                    sequence:
                      - {returns: {status: pending}}
                      - {returns: {status: delivered}, latency_ms: 5}
                    default: {returns: {status: unknown}}
            """,
        },
    )
    (scenario,) = collect(project)
    fixtures = scenario.fixtures
    assert fixtures["issue_refund"].rules[0].response.value == "from-second-file"
    assert fixtures["update_payment_method"].rules[0].response.value == "from-suite"
    lookup = fixtures["lookup_order"]
    assert lookup.tool == "lookup_order" and str(lookup.source) == "scenarios/suite.yaml:9"
    (rule,) = lookup.rules
    assert rule.when is not None and rule.when.matches({"order_id": "B1", "extra": 1})  # partial
    assert rule.response.value is None and rule.response.error is None
    assert [r.value for r in lookup.sequence] == [{"status": "pending"}, {"status": "delivered"}]
    assert lookup.sequence[1].latency_ms == 5
    assert str(lookup.sequence[1].source) == "scenarios/suite.yaml:15"
    assert lookup.default is not None and lookup.default.value == {"status": "unknown"}


def test_shared_fixture_file_rules(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "fixtures/orders.yaml": """\
            fixtures:
              lookup_order:
                - when: {order_id: A123}
                  returns: {amount: 42.0}
                - error: {class: NotFound, message: no such order, status: 404}
                  latency_ms: 120
            """,
            "scenarios/one.yaml": "id: s\ninput: hi\nfixture_files: [../fixtures/orders.yaml]\n",
        },
    )
    (scenario,) = collect(project)
    first, second = scenario.fixtures["lookup_order"].rules
    assert first.when is not None and first.when.matches({"order_id": "A123"})
    assert str(first.response.source) == "fixtures/orders.yaml:3"
    assert second.when is None
    assert second.response.error is not None
    assert (second.response.error.error_class, second.response.error.status) == ("NotFound", 404)
    assert second.response.error.message == "no such order" and second.response.latency_ms == 120


def test_expectations(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/one.yaml": """\
            id: s
            input: hi
            expect:
              tools:
                mode: strict
                args: exact
                calls:
                  - lookup_order: {order_id: A123}
                  - tool: issue_refund
                    args: {order_id: A123}
                    args_mode: partial
                  - lookup_order: null
                  - tool: lookup_order
                not_called: [update_payment_method]
                counts: {lookup_order: 2}
              output:
                contains: refund
                not_contains: [error, sorry]
                regex: "R-\\\\d+"
                equals: null
                json_schema: {type: object}
                case_sensitive: true
              budget: {max_tool_calls: 4, max_prompt_tokens: 100}
              advisory: [output]
            skip: flaky upstream
            """
        },
    )
    (scenario,) = collect(project)
    tools = scenario.expect.tools
    assert tools is not None and tools.mode is TrajectoryMode.STRICT and tools.arg_mode is ArgMode.EXACT
    assert tools.calls is not None
    exact, partial, any_args, no_args = tools.calls
    assert exact.tool == "lookup_order" and str(exact.source) == "scenarios/one.yaml:8"
    assert exact.args is not None and exact.args.matches({"order_id": "A123"})
    assert not exact.args.matches({"order_id": "A123", "extra": 1})
    assert partial.args is not None and partial.args.matches({"order_id": "A123", "amount": 1})
    assert any_args.args is None
    assert no_args.args is not None and no_args.args.matches({}) and not no_args.args.matches({"a": 1})
    assert tools.not_called == ("update_payment_method",)
    assert tools.counts["lookup_order"].matches(2) and not tools.counts["lookup_order"].matches(1)
    output = scenario.expect.output
    assert output is not None
    assert output.contains == ("refund",) and output.not_contains == ("error", "sorry")
    assert output.regex == ("R-\\d+",) and output.has_equals and output.equals is None
    assert output.json_schema == {"type": "object"} and output.case_sensitive
    assert scenario.expect.budget == Budget(max_steps=20, max_tool_calls=4, max_input_tokens=100)
    assert scenario.expect.advisory == frozenset({"output"})
    assert scenario.skip == "flaky upstream"


def test_ignore_mode_and_no_calls_key(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/one.yaml": """\
            id: s
            input: hi
            skip: true
            expect:
              tools:
                args: ignore
                calls: [{lookup_order: {order_id: A1}}]
              output: {equals: 3}
            ---
            id: t
            input: hi
            expect: {tools: {not_called: [issue_refund]}}
            """
        },
    )
    first, second = collect(project)
    assert first.expect.tools is not None and first.expect.tools.calls is not None
    assert first.expect.tools.calls[0].args is None and first.skip == "skipped"
    assert first.expect.output is not None and first.expect.output.has_equals and first.expect.output.equals == 3
    assert second.expect.tools is not None and second.expect.tools.calls is None


def test_agent_choice(tmp_path: Path):
    project = make(
        tmp_path,
        {"scenarios/one.yaml": "id: s\nagent: reader\ninput: hi\nexpect: {tools: {calls: [{lookup_order: {}}]}}\n"},
        TWO_AGENTS,
    )
    assert collect(project)[0].agent == "reader"


# --- finding files --------------------------------------------------------------------------------------


def test_directories_are_searched_recursively_sorted_skipping_hidden(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/z.yml": "id: z\ninput: hi\n",
            "scenarios/a/b.yaml": "id: ab\ninput: hi\n",
            "scenarios/a.yaml": "id: a\ninput: hi\n",
            "scenarios/.hidden/h.yaml": "id: hidden\ninput: hi\n",
            "scenarios/.h.yaml": "id: hidden2\ninput: hi\n",
            "scenarios/notes.txt": "not yaml",
            "scenarios/shared-fixtures.yaml": "fixtures: {lookup_order: [{returns: 1}]}\n",
        },
    )
    assert [s.id for s in collect(project)] == ["ab", "a", "z"]


def test_explicit_paths(tmp_path: Path):
    project = make(
        tmp_path,
        {"scenarios/a.yaml": "id: a\ninput: hi\n", "other/b.txt": "id: b\ninput: hi\n"},
    )
    assert [s.id for s in collect(project, [tmp_path / "other" / "b.txt", tmp_path / "scenarios"])] == ["b", "a"]
    # the same file twice, and the project root itself (agentcheck.yaml is not a scenario)
    assert [s.id for s in collect(project, [tmp_path / "scenarios/a.yaml", tmp_path])] == ["a"]


def test_missing_paths(tmp_path: Path):
    project = make(tmp_path, {})
    assert problems(project) == ["agentcheck.yaml at defaults.paths: scenario path 'scenarios' does not exist"]
    missing = tmp_path / "nope"
    assert problems(project, [missing]) == [f"{missing.as_posix()}: no such file or folder"]


# --- problems -----------------------------------------------------------------------------------------


def test_unknown_tool_in_expected_calls_matches_the_documented_example(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/refunds.yaml": """\
            id: s
            input: hi
            expect:
              tools:
                calls:
                  - lookup_order: {order_id: A1}
                  - issue_refnd: {order_id: A1}
            """
        },
    )
    assert problems(project) == [
        "scenarios/refunds.yaml:7 at expect.tools.calls[1]: unknown tool 'issue_refnd' (did you mean 'issue_refund'?)"
    ]


def test_unknown_tools_everywhere_and_tools_the_agent_cannot_see(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/one.yaml": """\
            id: s
            agent: reader
            input: hi
            fixtures:
              lookup_ordr: [{returns: 1}]
            expect:
              tools:
                calls:
                  - tool: issue_refund
                not_called: [delete_everything]
                counts: {lookup_order: 1, lookup_orders: 0}
            """
        },
        TWO_AGENTS,
    )
    assert problems(project) == [
        "scenarios/one.yaml:5 at fixtures.lookup_ordr: unknown tool 'lookup_ordr' (did you mean 'lookup_order'?)",
        "scenarios/one.yaml:9 at expect.tools.calls[0]: tool 'issue_refund' is not available to agent 'reader'"
        " (its tools (agents.reader.tools): lookup_order)",
        "scenarios/one.yaml:10 at expect.tools.not_called[0]: unknown tool 'delete_everything'"
        " (known tools: lookup_order)",
        "scenarios/one.yaml:11 at expect.tools.counts.lookup_orders: unknown tool 'lookup_orders'"
        " (did you mean 'lookup_order'?)",
    ]


def test_agent_problems(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/a.yaml": "id: a\ninput: hi\n",
            "scenarios/b.yaml": "id: b\nagent: refund-asistant\ninput: hi\n",
            "scenarios/c.yaml": "agent: nobody\nscenarios:\n  - {id: c1, input: hi}\n  - {id: c2, input: hi}\n",
        },
        TWO_AGENTS,
    )
    assert problems(project) == [
        "scenarios/a.yaml:1: no agent given, and the project has several: refund-assistant, reader"
        " (add `agent: <name>` to the scenario (or to the file, next to `scenarios:`))",
        "scenarios/b.yaml:2 at agent: unknown agent 'refund-asistant' (did you mean 'refund-assistant'?)",
        "scenarios/c.yaml:1 at agent: unknown agent 'nobody' (known agents: refund-assistant, reader)",
    ]


def test_shape_problems_with_lines_paths_and_hints(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/one.yaml": """\
            id: s
            input: hi
            timeout_s: abc
            tags: refunds
            expect:
              tools:
                mdoe: strict
                calls:
                  - {lookup_order: {}, issue_refund: {}}
              output:
                contains: 3
              advisory: [tool]
            fixtures:
              lookup_order:
                - {returns: 1, error: {class: E, message: m}}
                - {when: {a: 1}}
            """
        },
    )
    assert problems(project) == [
        "scenarios/one.yaml:3 at timeout_s: expected a number, got 'abc'",
        "scenarios/one.yaml:4 at tags: expected a list, got 'refunds'",
        "scenarios/one.yaml:7 at expect.tools: unknown key 'mdoe' (did you mean 'mode'?)",
        "scenarios/one.yaml:9 at expect.tools.calls[0]: an expected call is {tool_name: args} with exactly one key,"
        " got 2 keys (use {tool: name, args: ...} for the long form)",
        "scenarios/one.yaml:11 at expect.output.contains: expected a string or a list of strings, got 3",
        "scenarios/one.yaml:12 at expect.advisory[0]: expected 'tools', 'output', 'budget', 'contract',"
        " 'policy', 'resilience', 'state' or 'injection',"
        " got 'tool' (did you mean 'tools'?)",
        "scenarios/one.yaml:15 at fixtures.lookup_order[0]: give either `returns` or `error`, not both",
        "scenarios/one.yaml:16 at fixtures.lookup_order[1]: a response needs `returns: <value>`"
        ", `error: {class, message}` or `fault`",
    ]


def test_missing_id_and_input_and_a_misspelt_scenarios_key(tmp_path: Path):
    project = make(tmp_path, {"scenarios/one.yaml": "description: x\n", "scenarios/two.yaml": "senarios: []\n"})
    assert problems(project) == [
        "scenarios/one.yaml:1: missing required key 'id'",
        "scenarios/one.yaml:1: missing required key 'input'",
        "scenarios/two.yaml:1: missing required key 'id'",
        "scenarios/two.yaml:1: missing required key 'input'",
        "scenarios/two.yaml:1: unknown key 'senarios' (did you mean 'scenarios'?)",
    ]


def test_bad_id_regex_schema_and_matcher(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/one.yaml": """\
            id: -bad id
            input: hi
            ---
            id: ok
            input: hi
            expect:
              tools:
                calls:
                  - issue_refund:
                      amount: {$bogus: 1}
              output:
                regex: ["ok", "R-(\\\\d+"]
                json_schema: {type: objekt}
            """
        },
    )
    found = problems(project)
    assert found[0] == (
        "scenarios/one.yaml:1 at id: expected an id of letters, digits and . _ : - starting with a letter or digit,"
        " got '-bad id'"
    )
    assert found[1].startswith("scenarios/one.yaml:10 at expect.tools.calls[0].issue_refund.amount.$bogus: ")
    assert "$bogus" in found[1]
    assert found[2].startswith("scenarios/one.yaml:12 at expect.output.regex[1]: invalid regex 'R-(\\\\d+': ")
    assert found[3].startswith("scenarios/one.yaml:13 at expect.output.json_schema.type: invalid JSON Schema")
    assert len(found) == 4


def test_duplicate_ids_name_both_places(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/a.yaml": "id: same\ninput: hi\n",
            "scenarios/b.yaml": "scenarios:\n  - id: other\n    input: hi\n  - id: same\n    input: hi\n",
        },
    )
    assert problems(project) == [
        "scenarios/b.yaml:4 at scenarios[1].id: duplicate scenario id 'same' (also at scenarios/a.yaml:1)"
        " (scenario ids must be unique)"
    ]


def test_fixture_file_problems(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.yaml").write_text("fixtures: {lookup_order: [{returns: 1}]}\n")
    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    os.symlink(outside / "f.yaml", project_dir / "link.yaml")
    project = make(
        project_dir,
        {
            "fixtures/bad.yaml": "fixtures:\n  lookup_ordr: [{returns: 1}]\n  issue_refund: [{retruns: 1}]\n",
            "scenarios/a.yaml": """\
            fixture_files: [../fixtures/nope.yaml, ../../outside/f.yaml, ../link.yaml]
            scenarios:
              - id: a
                input: hi
                fixture_files: [../fixtures/bad.yaml]
              - id: b
                input: hi
                fixture_files: [../fixtures/bad.yaml]
            """,
        },
    )
    assert problems(project) == [
        "scenarios/a.yaml:1 at fixture_files[0]: fixture file '../fixtures/nope.yaml' not found"
        " (looked for fixtures/nope.yaml; paths are relative to the scenario file)",
        f"scenarios/a.yaml:1 at fixture_files[1]: fixture file '../../outside/f.yaml' is outside the project root"
        f" (keep fixture files under {project_dir.resolve()})",
        f"scenarios/a.yaml:1 at fixture_files[2]: fixture file '../link.yaml' is outside the project root"
        f" (keep fixture files under {project_dir.resolve()})",
        # the broken fixture file is reported once, though two scenarios use it
        "fixtures/bad.yaml:2 at fixtures.lookup_ordr: unknown tool 'lookup_ordr' (did you mean 'lookup_order'?)",
        "fixtures/bad.yaml:3 at fixtures.issue_refund[0]: unknown key 'retruns' (did you mean 'returns'?)",
    ]


def test_fixture_file_with_unknown_tool(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "fixtures/bad.yaml": "fixtures:\n  lookup_ordr: [{returns: 1}]\n",
            "scenarios/a.yaml": "id: a\ninput: hi\nfixture_files: [../fixtures/bad.yaml]\n",
        },
    )
    assert problems(project) == [
        "fixtures/bad.yaml:2 at fixtures.lookup_ordr: unknown tool 'lookup_ordr' (did you mean 'lookup_order'?)"
    ]


def test_every_file_is_checked_before_raising(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/1.yaml": "id: a\ninput: [\n",
            "scenarios/2.yaml": "",
            "scenarios/3.yaml": "- id: x\n",
            "scenarios/4.yaml": "id: d\ninput: hi\nid: e\n",
            "scenarios/5.yaml": "id: f\ninput: hi\nagent: nobody\n",
        },
    )
    found = problems(project)
    assert [p.split(":")[0] for p in found] == [
        "scenarios/1.yaml",
        "scenarios/2.yaml",
        "scenarios/3.yaml",
        "scenarios/4.yaml",
        "scenarios/5.yaml",
    ]
    assert "invalid YAML" in found[0]
    assert found[1] == ("scenarios/2.yaml: empty file (write a scenario, or `scenarios: [...]`, or delete it)")
    assert found[2] == (
        "scenarios/3.yaml:1: expected a scenario (a mapping with `id`) or a mapping with `scenarios: [...]`"
    )
    assert found[3].startswith("scenarios/4.yaml:3: duplicate key 'id' (first at line 1)")


def test_no_agents_at_all(tmp_path: Path):
    project = make(tmp_path, {"scenarios/a.yaml": "id: a\ninput: hi\n"}, "version: 1\n")
    assert problems(project) == [
        "scenarios/a.yaml:1: the project defines no agents (add one under `agents:` in agentcheck.yaml)"
    ]


def test_a_big_suite_collects(tmp_path: Path):
    item = (
        "  - id: s-{i}\n"
        "    input: 'Order A{i} arrived broken'\n"
        "    fixtures: {{lookup_order: [{{when: {{order_id: A{i}}}, returns: {{amount: 1}}}}]}}\n"
        "    expect:\n"
        "      tools: {{calls: [{{lookup_order: {{order_id: A{i}}}}}], not_called: [issue_refund]}}\n"
        "      output: {{contains: [refund]}}\n"
    )
    project = make(tmp_path, {"scenarios/big.yaml": "scenarios:\n" + "".join(item.format(i=i) for i in range(500))})
    scenarios = collect(project)
    assert len(scenarios) == 500 and scenarios[-1].index == 499
    assert str(scenarios[-1].source) == f"scenarios/big.yaml:{2 + 499 * 6}"


def test_shape_problems_do_not_hide_or_fake_cross_reference_problems(tmp_path: Path):
    project = make(
        tmp_path,
        {
            "scenarios/a.yaml": """\
            id: a
            agent: 3
            input: hi
            expect:
              tools:
                calls:
                  - lookpu: {id: "1"}
              outptu: {contains: x}
            """,
            "scenarios/b.yaml": """\
            agent: [reader]
            scenarios:
              - {input: hi, fixtures: {lookup_ordr: [{returns: 1}]}}
              - {id: a, input: hi}
            """,
        },
        TWO_AGENTS,
    )
    assert problems(project) == [
        "scenarios/a.yaml:2 at agent: expected a string, got 3 (quote it: '3')",
        "scenarios/a.yaml:7 at expect.tools.calls[0]: unknown tool 'lookpu' (known tools: issue_refund, lookup_order)",
        "scenarios/a.yaml:8 at expect: unknown key 'outptu' (did you mean 'output'?)",
        "scenarios/b.yaml:1 at agent: expected a string, got a list",
        "scenarios/b.yaml:3 at scenarios[0]: missing required key 'id'",
        "scenarios/b.yaml:3 at scenarios[0].fixtures.lookup_ordr: unknown tool 'lookup_ordr'"
        " (did you mean 'lookup_order'?)",
        "scenarios/b.yaml:4 at scenarios[1].id: duplicate scenario id 'a' (also at scenarios/a.yaml:1)"
        " (scenario ids must be unique)",
    ]


def test_naming_a_fixture_file_as_a_scenario_file(tmp_path: Path):
    project = make(tmp_path, {"fixtures/f.yaml": "fixtures: {lookup_order: [{returns: 1}]}\n"})
    assert problems(project, [tmp_path / "fixtures" / "f.yaml"]) == [
        "fixtures/f.yaml:1: this is a shared fixture file (only `fixtures:`), not a scenario file"
        " (list it in a scenario's `fixture_files` instead)"
    ]
