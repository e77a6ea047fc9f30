"""Keep Python's cyclic garbage collector out of bulk work.

Loading a suite or merging 20 000 saved results builds millions of small objects that are either
acyclic (freed at once by reference counting) or kept to the end. The cyclic collector, triggered
every 700 allocations, rescans the survivors again and again for nothing: a fifth of a suite load,
a sixth of a merge. Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (for work that makes no reference cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def collector_relaxed(first_generation: int = 50_000) -> Iterator[None]:
    """Rare cyclic collections inside the block, for long bulk work that may still make the odd cycle
    (reporters, rich tables): what exists before it is frozen (never rescanned: it lives to the end
    anyway), and the youngest generation is collected every `first_generation` allocations instead
    of every 700, so cycles are still reclaimed and memory stays flat."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(first_generation, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
