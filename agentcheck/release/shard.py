"""Deterministic sharding: `--shard i/n` keeps the scenarios whose id hashes to shard i.

The hash is of the scenario id (SHA-256, not Python's salted `hash`), never of its position, so a
scenario stays in its shard when others are added, removed or reordered, and every scenario lands in
exactly one shard. Shards are numbered 1..n, as CI matrices usually count.
"""

from __future__ import annotations

import hashlib
import re

from agentcheck.problems import BadInput, Problem

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/4"` -> (2, 4); bad input otherwise."""
    match = _SPEC.match(text)
    if match:
        index, count = int(match.group(1)), int(match.group(2))
        if count >= 1 and 1 <= index <= count:
            return index, count
    hint = "use i/n with 1 <= i <= n, e.g. --shard 2/4"
    raise BadInput([Problem(None, None, "--shard", f"bad shard '{text}'", hint)])


def shard_of(scenario_id: str, count: int) -> int:
    """The shard (1..count) a scenario id belongs to."""
    digest = hashlib.sha256(scenario_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1
