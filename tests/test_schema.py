"""The JSON Schemas: generated from the models, committed in schemas/, and true to the loader."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from agentcheck.collect import collect, load_project
from agentcheck.collect.schema import SCHEMA_FILES, json_schema, render, write_schemas

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json_schema(kind))


def errors(kind: str, text: str) -> list[str]:
    data = yaml.safe_load(textwrap.dedent(text))
    return [e.message for e in validator(kind).iter_errors(data)]


@pytest.mark.parametrize("kind", list(SCHEMA_FILES))
def test_committed_schema_is_up_to_date(kind: str):
    committed = SCHEMAS / SCHEMA_FILES[kind]
    assert committed.read_text(encoding="utf-8") == render(kind), (
        f'{committed} is stale; regenerate with: python -c "from pathlib import Path; '
        f"from agentcheck.collect.schema import write_schemas; write_schemas(Path('schemas'))\""
    )


@pytest.mark.parametrize("kind", list(SCHEMA_FILES))
def test_schema_header_and_validity(kind: str):
    schema = json_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"] and schema["description"]
    Draft202012Validator.check_schema(schema)


def test_every_field_is_described():
    for kind in SCHEMA_FILES:
        for name, definition in json_schema(kind).get("$defs", {}).items():
            assert definition.get("description"), name
            for field, spec in definition.get("properties", {}).items():
                assert spec.get("description"), f"{name}.{field}"


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown schema kind"):
        json_schema("nope")


def test_write_schemas(tmp_path: Path):
    written = write_schemas(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(SCHEMA_FILES.values())
    assert json.loads((tmp_path / "out" / "scenario.schema.json").read_text()) == json_schema("scenario")


def test_the_cli_writes_one_named_kind_or_every_editor_schema(tmp_path: Path):
    from tests.e2e_helpers import cli

    one = cli("schema", "results", "--write", "only", cwd=tmp_path)
    assert one.code == 0 and [p.name for p in (tmp_path / "only").iterdir()] == ["results.schema.json"]
    assert cli("schema", "project", "--write", "only", cwd=tmp_path).code == 0
    assert (tmp_path / "only" / "agentcheck.schema.json").read_text() == render("project")
    every = cli("schema", "--write", "all", cwd=tmp_path)
    assert every.code == 0 and sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(SCHEMA_FILES.values())


def example_files() -> list[tuple[str, Path]]:
    found = [("project", p) for p in (REPO / "agentcheck.yaml",) if p.is_file()]
    found += [("scenario", p) for p in sorted((REPO / "scenarios").glob("*.y*ml"))]
    found += [("fixtures", p) for p in sorted((REPO / "fixtures").glob("*.y*ml"))]
    return found


def test_repo_examples_fit_the_committed_schemas():
    for kind, path in example_files():
        schema = json.loads((SCHEMAS / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))
        check = Draft202012Validator(schema)
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is None:
                continue
            problems = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in check.iter_errors(document)]
            assert not problems, f"{path.relative_to(REPO)}: {problems}"


def test_editor_schema_and_loader_agree_on_a_full_scenario(tmp_path: Path):
    scenario = """\
    id: refund-damaged-order
    description: d
    tags: [refunds]
    input: {messages: [{role: user, content: hi}], data: {x: 1}}
    fixtures:
      lookup_order:
        - when: {order_id: A123}
          returns: {amount: 42.0}
        - error: {class: NotFound, message: none, status: 404}
          latency_ms: 120
      issue_refund:
        match: [{when: {amount: 1}, returns: ok}]
        sequence: [{returns: 1}, {returns: 2}]
        default: {returns: null}
    expect:
      tools:
        mode: ordered
        args: partial
        calls:
          - lookup_order: {order_id: A123}
          - tool: issue_refund
            args: {order_id: A123}
            args_mode: exact
          - tool: lookup_order
          - lookup_order: null
        not_called: [update_payment_method]
        counts: {lookup_order: 2}
      output: {contains: refund, not_contains: [x], regex: "R-1", equals: null, json_schema: {type: object}}
      budget: {max_tool_calls: 4, max_prompt_tokens: 10}
      advisory: [output]
    timeout_s: 5
    skip: reason
    """
    assert errors("scenario", scenario) == []
    (tmp_path / "agentcheck.yaml").write_text(
        "version: 1\nagents: {a: {kind: python, entrypoint: 'm:run'}}\n"
        "tools: {lookup_order: {}, issue_refund: {}, update_payment_method: {}}\n"
    )
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s.yaml").write_text(textwrap.dedent(scenario))
    assert len(collect(load_project(None, cwd=tmp_path))) == 1


def test_editor_schema_rejects_what_the_loader_rejects():
    assert errors("scenario", "id: a\ninput: hi\nexpct: {}\n")
    assert errors("scenario", "id: a\ninput: 3\n")
    assert errors("scenario", "id: a\ninput: hi\nexpect: {tools: {calls: [{a: 1, b: 2}]}}\n")
    assert errors("scenario", "id: a\ninput: hi\nfixtures: {t: [{returns: 1, error: {class: E, message: m}}]}\n")
    assert errors("scenario", "id: a\ninput: hi\nfixtures: {t: [{latency_ms: 3}]}\n")
    assert errors("scenario", "id: -a\ninput: hi\n")
    assert errors("scenario", "scenarios: [{id: a, input: hi, bogus: 1}]\n")
    assert errors("scenario", "scenarios: [{id: a, input: hi}]\nagent: x\n") == []
    assert errors("project", "version: 2\n")
    assert errors("project", "version: 1\ngates: [{name: g, min_pass_rate: 2}]\n")
    assert errors("project", "version: 1\ngates: [{name: g}]\n")
    assert errors("scenario", "id: a\ninput: {}\n")
    assert errors("project", "version: 1\nreports: {junit: false, json: null}\n") == []
    assert errors("project", "version: 1\nbudget: {max_completion_tokens: 5}\n") == []
    assert errors("fixtures", "fixtures: {t: {default: {returns: 1}}}\n") == []
    assert errors("fixtures", "fixture: {}\n")
