"""Scenario selection: -k keywords, --tag, and the project's excluded tags."""

from __future__ import annotations

from agentcheck.collect import select
from agentcheck.scenario import AgentInput, Scenario, SourceRef


def scenario(index: int, scenario_id: str, *tags: str) -> Scenario:
    return Scenario(
        id=scenario_id,
        agent="bot",
        input=AgentInput(messages=[]),
        source=SourceRef("s.yaml", index + 1),
        tags=tags,
        index=index,
    )


SUITE = [
    scenario(0, "refund-damaged-order", "refunds", "policy-critical"),
    scenario(1, "refund-over-limit", "refunds"),
    scenario(2, "lookup-only", "lookup"),
    scenario(3, "demo-refund-fails", "refunds", "demo-failure"),
    scenario(4, "Refund-Caps"),
]


def ids(scenarios: list[Scenario]) -> list[str]:
    return [s.id for s in scenarios]


def test_no_criteria_keeps_everything_in_order():
    assert ids(select(SUITE)) == ids(SUITE)
    assert select([]) == []


def test_keyword_substring_is_case_insensitive():
    assert ids(select(SUITE, keywords=["damaged"])) == ["refund-damaged-order"]
    assert ids(select(SUITE, keywords=["refund-c"])) == ["Refund-Caps"]


def test_keyword_glob_matches_the_whole_id():
    assert ids(select(SUITE, keywords=["refund-*"])) == [
        "refund-damaged-order",
        "refund-over-limit",
        "Refund-Caps",
    ]
    assert ids(select(SUITE, keywords=["*-only"])) == ["lookup-only"]
    assert ids(select(SUITE, keywords=["lookup"])) == ["lookup-only"]
    assert ids(select(SUITE, keywords=["look?p-only"])) == ["lookup-only"]
    assert ids(select(SUITE, keywords=["[l]ookup*"])) == ["lookup-only"]
    assert select(SUITE, keywords=["lookup*x"]) == []


def test_several_keywords_are_or():
    assert ids(select(SUITE, keywords=["lookup", "over"])) == ["refund-over-limit", "lookup-only"]


def test_tags_select_any_of_them():
    assert ids(select(SUITE, tags=["lookup", "policy-critical"])) == ["refund-damaged-order", "lookup-only"]


def test_exclude_tags_drop_unless_named():
    assert ids(select(SUITE, exclude_tags=("demo-failure",))) == [
        "refund-damaged-order",
        "refund-over-limit",
        "lookup-only",
        "Refund-Caps",
    ]
    assert ids(select(SUITE, tags=["demo-failure"], exclude_tags=("demo-failure",))) == ["demo-refund-fails"]
    # naming another tag does not lift the exclusion
    assert ids(select(SUITE, tags=["refunds"], exclude_tags=("demo-failure",))) == [
        "refund-damaged-order",
        "refund-over-limit",
    ]


def test_keywords_and_tags_combine_with_and():
    assert ids(select(SUITE, keywords=["refund"], tags=["policy-critical"])) == ["refund-damaged-order"]
