"""Collecting scenario files: the Scenario objects built, and the files found.

Matcher specs here are plain literals, so these tests do not depend on the details of the matcher
language. The problems collection finds are in test_collect_problems.py.
"""

from __future__ import annotations

from pathlib import Path

from agentcheck.collect import collect
from agentcheck.matchers import ArgMode
from agentcheck.scenario import Budget, TrajectoryMode
from tests.collect_helpers import PROJECT, TWO_AGENTS, make, problems

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
    assert problems(project) == ["agentcheck.yaml at defaults.paths: scenario path 'scenarios' does not exist"
                                 " (list folders or files under the project root)"]
    (tmp_path / "typo").mkdir()
    typo = make(tmp_path / "typo", {"scenarios/a.yaml": "id: a\ninput: hi\n"},
                PROJECT + "defaults:\n  paths: [scenario]\n")
    assert problems(typo) == ["agentcheck.yaml:14 at defaults.paths: scenario path 'scenario' does not exist"
                              " (did you mean 'scenarios'?)"]
    missing = tmp_path / "nope"
    assert problems(project, [missing]) == [f"{missing.as_posix()}: no such file or folder"]
