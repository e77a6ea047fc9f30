"""The collector helpers restore the interpreter's garbage-collection settings, whatever happens inside."""

from __future__ import annotations

import gc

import pytest

from agentcheck.gcpause import collector_paused, collector_relaxed


def test_relaxed_collection_is_rarer_inside_and_restored_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_relaxed(first_generation=12_345):
        assert gc.get_threshold()[0] == 12_345
        assert gc.get_freeze_count() > 0  # what existed before is not rescanned
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_relaxed_collection_still_reclaims_cycles():
    class Node:
        def __init__(self) -> None:
            self.me = self

    with collector_relaxed(first_generation=100):
        import weakref

        ref = weakref.ref(Node())
        for _ in range(1000):  # allocations past the threshold trigger a collection, no explicit call
            Node()
        assert ref() is None


def test_paused_collection_restores_the_previous_state():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_collector_off_inside_and_what_it_leaves_is_not_rescanned_by_the_next_young_collection():
    from agentcheck.gcpause import collector_off

    class Node:
        def __init__(self) -> None:
            self.me = self

    import weakref

    with collector_off():
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]
        ref = weakref.ref(Node())
        assert ref() is not None  # no collection inside, however many allocations
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert not any(id(item) in young for item in kept)  # moved to the oldest generation
    gc.collect()
    assert ref() is None  # the cycle made inside is still reclaimed


def test_collector_off_leaves_an_existing_freeze_and_a_disabled_collector_alone():
    from agentcheck.gcpause import collector_off

    gc.disable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_off():
            [[i] for i in range(100)]
        assert gc.get_freeze_count() == frozen
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
