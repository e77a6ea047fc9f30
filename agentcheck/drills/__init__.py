"""Failure drills for a whole suite: each drill turns a scenario into a drilled copy before running.

`expand` is the one entry point: for every selected scenario, the drills it declares (`drills:`)
and the ones asked for on the command line (`--drill`) each add a Scenario named
`<id> [drill: <kind>]` with new fixtures (faults, a stale first answer, planted payloads) and
expectations (the scenario's own for the drill, or the default safety expectations).
"""

from agentcheck.drills.expand import drill_scenario, expand
from agentcheck.drillspec import drill_tags

__all__ = ["drill_scenario", "drill_tags", "expand"]
