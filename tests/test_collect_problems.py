"""Collecting scenario files: every problem found across the suite, with its file, line, key path and fix.

Matcher specs here are plain literals (plus one unknown operator), so these tests do not depend on
the details of the matcher language.
"""

from __future__ import annotations

import os
from pathlib import Path

from agentcheck.collect import collect
from tests.collect_helpers import TWO_AGENTS, make, problems

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


def test_call_arguments_that_are_not_a_mapping_are_refused_where_written(tmp_path: Path):
    """Tool calls always carry an object: a list or a scalar as expected arguments could never match."""
    project = make(tmp_path, {"scenarios/a.yaml": """\
        id: a
        input: hi
        expect:
          tools:
            calls:
              - lookup_order: [1, 2]
              - {tool: issue_refund, args: refund it}
              - lookup_order: null
              - {tool: issue_refund, args: {amount: {$lte: 5}}}
        """})
    assert problems(project) == [
        "scenarios/a.yaml:6 at expect.tools.calls[0]: a call's arguments are a mapping ({name: value}) or null"
        " for any arguments, got a list",
        "scenarios/a.yaml:7 at expect.tools.calls[1].args: a call's arguments are a mapping ({name: value}) or"
        " null for any arguments, got the text 'refund it'",
    ]


def test_a_fixture_file_that_is_a_folder_says_so(tmp_path: Path):
    project = make(tmp_path, {"fixtures/orders.yaml": "fixtures: {}\n",
                              "scenarios/a.yaml": "id: a\ninput: hi\nfixture_files: [../fixtures]\n"})
    assert problems(project) == ["scenarios/a.yaml:3 at fixture_files[0]: fixture file '../fixtures' is a folder"
                                 " (name a fixtures file in it, e.g. '../fixtures/orders.yaml')"]
