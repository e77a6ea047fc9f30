"""YAML loading with positions: data, key-path lines, and problems for what YAML lets slip."""

from __future__ import annotations

import gc
from pathlib import Path

from agentcheck.collect.yamlsource import line_of, load_yaml_file, parse_yaml, render_path


def parse_one(text: str):
    docs, problems = parse_yaml(text, "s.yaml")
    assert not problems, [p.render() for p in problems]
    assert len(docs) == 1
    return docs[0]


def test_lines_of_keys_and_items_are_one_based():
    doc = parse_one(
        "id: a\n"  # 1
        "expect:\n"  # 2
        "  tools:\n"  # 3
        "    calls:\n"  # 4
        "      - lookup_order: {order_id: A1}\n"  # 5
        "      - tool: issue_refund\n"  # 6
        "        args: {amount: 3}\n"  # 7
    )
    assert doc.data["expect"]["tools"]["calls"][1] == {"tool": "issue_refund", "args": {"amount": 3}}
    assert doc.lines[()] == 1
    assert doc.lines[("id",)] == 1
    assert doc.lines[("expect", "tools")] == 3
    assert doc.lines[("expect", "tools", "calls", 0)] == 5
    assert doc.lines[("expect", "tools", "calls", 0, "lookup_order", "order_id")] == 5
    assert doc.lines[("expect", "tools", "calls", 1)] == 6
    assert doc.lines[("expect", "tools", "calls", 1, "args")] == 7


def test_missing_path_falls_back_to_nearest_ancestor():
    doc = parse_one("a:\n  b:\n    c: 1\n")
    assert doc.line(("a", "b", "zzz", 3)) == 2
    assert line_of(doc.lines, ("nope",)) == 1
    assert line_of({}, ("x",)) is None


def test_scalar_types_and_timestamps_stay_strings():
    doc = parse_one("i: 3\nf: 1.5\nb: true\nn: null\ne:\ns: '3'\nd: 2024-01-02\nh: 0x10\ny: yes\n")
    assert doc.data == {
        "i": 3,
        "f": 1.5,
        "b": True,
        "n": None,
        "e": None,
        "s": "3",
        "d": "2024-01-02",
        "h": 16,
        "y": True,
    }


def test_multi_document_files_skip_empty_documents():
    docs, problems = parse_yaml("---\nid: a\n---\n---\nid: b\n...\n", "s.yaml")
    assert not problems
    assert [d.data for d in docs] == [{"id": "a"}, {"id": "b"}]
    assert docs[1].lines[("id",)] == 5


def test_empty_text_has_no_documents_and_no_problems():
    assert parse_yaml("", "s.yaml") == ([], [])
    assert parse_yaml("# only a comment\n", "s.yaml") == ([], [])


def test_syntax_error_has_file_line_and_column():
    _, problems = parse_yaml("id: a\ninput: b: c\n", "scenarios/x.yaml")
    assert len(problems) == 1
    text = problems[0].render()
    assert text.startswith("scenarios/x.yaml:2: invalid YAML at column 9")
    assert "mapping values are not allowed" in text
    assert "must be quoted" in text


def test_tab_indentation_gets_a_hint():
    _, problems = parse_yaml("a:\n\t- b\n", "x.yaml")
    assert problems[0].line == 2
    assert "spaces, not tabs" in problems[0].render()


def test_unclosed_flow_collection_is_reported():
    _, problems = parse_yaml("a: [1, 2\nb: 3\n", "x.yaml")
    assert len(problems) == 1 and problems[0].line is not None
    assert "invalid YAML" in problems[0].message


def test_duplicate_keys_name_both_lines():
    _, problems = parse_yaml("id: a\ntags: [x]\nid: b\n", "x.yaml")
    assert len(problems) == 1
    assert problems[0].render().startswith("x.yaml:3: duplicate key 'id' (first at line 1)")


def test_nested_duplicate_key_reports_the_parent_path():
    _, problems = parse_yaml("expect:\n  tools:\n    mode: strict\n    mode: ordered\n", "x.yaml")
    assert problems[0].line == 4
    assert problems[0].key_path == "expect.tools"


def test_non_string_keys_are_rejected_with_a_quote_hint():
    _, problems = parse_yaml("a:\n  1: x\n  true: y\n  ~: z\n  [k]: w\n", "x.yaml")
    rendered = [p.render() for p in problems]
    assert rendered[0] == "x.yaml:2 at a: key 1 is a number, but keys must be strings (quote it: '1')"
    assert "key true is a boolean" in rendered[1]
    assert "is null" in rendered[2]
    assert "a sequence cannot be a key" in rendered[3]
    assert len(problems) == 4


def test_merge_keys_and_anchors():
    doc = parse_one(
        "base: &b\n"  # 1
        "  agent: bot\n"  # 2
        "  tags: [x]\n"  # 3
        "s:\n"  # 4
        "  <<: *b\n"  # 5
        "  agent: other\n"  # 6
        "copy: *b\n"  # 7
    )
    assert doc.data["s"] == {"agent": "other", "tags": ["x"]}
    assert doc.lines[("s", "agent")] == 6
    assert doc.lines[("s", "tags")] == 3  # inherited keys point at the anchor's line
    assert doc.data["copy"] == {"agent": "bot", "tags": ["x"]}
    assert doc.line(("copy", "agent")) == 7


def test_recursive_alias_is_a_problem_not_a_hang():
    _, problems = parse_yaml("a: &a [1, *a]\n", "x.yaml")
    assert "recursive" in problems[0].message


def test_alias_bomb_is_built_once_per_anchor():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    docs, problems = parse_yaml("\n".join(lines) + "\n", "x.yaml")
    assert not problems and docs
    data = docs[0].data
    assert data["a29"][0] is data["a29"][4] is data["a28"]  # shared, not 5**29 copies
    assert data["a1"][0] is data["a0"] and len(data["a29"]) == 5


def test_unknown_tag_is_a_problem():
    _, problems = parse_yaml("x: !include other.yaml\n", "x.yaml")
    assert problems[0].render().startswith("x.yaml:1 at x: unsupported YAML tag '!include'")


def test_gc_state_is_restored():
    assert gc.isenabled()
    parse_yaml("a: [\n", "x.yaml")
    parse_yaml("a: 1\n", "x.yaml")
    assert gc.isenabled()


def test_load_yaml_file_missing_and_not_utf8(tmp_path: Path):
    docs, problems = load_yaml_file(tmp_path / "nope.yaml", "nope.yaml")
    assert docs == [] and problems[0].render() == "nope.yaml: file not found"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"id: a\nx: \xff\xfe\n")
    _, problems = load_yaml_file(bad, "bad.yaml")
    assert problems[0].line == 2 and "UTF-8" in problems[0].message


def test_load_yaml_file_accepts_a_bom(tmp_path: Path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffid: a\n".encode())
    docs, problems = load_yaml_file(path, "bom.yaml")
    assert not problems and docs[0].data == {"id": "a"}


def test_render_path():
    assert render_path(()) == ""
    assert render_path(("expect", "tools", "calls", 1, "issue_refund")) == "expect.tools.calls[1].issue_refund"
    assert render_path(("scenarios", 0, "id")) == "scenarios[0].id"
    assert render_path(("a", "$lte")) == "a.$lte"
    assert render_path(("fixtures", "has space")) == "fixtures['has space']"


def test_a_big_file_loads_whole_with_every_line():
    item = (
        "  - id: s-{i}\n"
        "    tags: [a, b]\n"
        "    input: 'Order A{i} arrived broken'\n"
        "    expect:\n"
        "      tools:\n"
        "        calls:\n"
        "          - lookup_order: {{order_id: A{i}}}\n"
        "      output: {{contains: [refund]}}\n"
    )
    text = "scenarios:\n" + "".join(item.format(i=i) for i in range(2000))
    docs, problems = parse_yaml(text, "big.yaml")  # its speed is benchmarks/bench_run.py's to measure
    assert not problems and len(docs[0].data["scenarios"]) == 2000
    assert docs[0].lines[("scenarios", 1999, "id")] == 1 + 1999 * 8 + 1
    assert docs[0].lines[("scenarios", 1999, "expect", "output", "contains", 0)] == 1 + 1999 * 8 + 8
