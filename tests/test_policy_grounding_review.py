"""The shallow grounding lookup must accept exactly what the full index would (no more)."""

from __future__ import annotations

from enum import Enum
from unittest import mock

from agentcheck.policy.evidence import SeenIds


class Status(str, Enum):  # noqa: UP042 - the common pre-3.11 "string enum" idiom; str() is "Status.OPEN"
    OPEN = "T-77"


def _full_index(values, evidence):
    seen = SeenIds()
    seen.pending.extend(values)
    seen._index_pending()
    return evidence in seen.ids


def _lookup(values, evidence):
    seen = SeenIds()
    seen.pending.extend(values)
    return evidence in seen


def test_shallow_lookup_accepts_no_more_than_the_index():
    cases = [
        ([{"id": Status.OPEN}], "T-77"),  # handler result holding a (str, Enum) member
        ([[{"id": mock.ANY}]], "INVENTED-1"),  # a value whose __eq__ says yes to anything
        ([{"ok": 1}, mock.ANY], "INVENTED-2"),
    ]
    for values, evidence in cases:
        assert _lookup(values, evidence) == _full_index(values, evidence), (values, evidence)


def test_the_answer_does_not_depend_on_how_many_values_are_queued():
    few = [{"id": Status.OPEN}]
    many = few + [{"n": i} for i in range(9)]
    assert _lookup(few, "T-77") == _lookup(many, "T-77")
