"""Benchmark: what failure drills cost — simulated waits that take no wall time, and the harness
overhead of running a suite under every drill.

    python benchmarks/bench_drills.py          # N = 200 scenarios
    python benchmarks/bench_drills.py 1000

A generated project: N scenarios whose agent looks an order up (retrying a throttle after its
Retry-After with context.sleep) and refunds it. The suite runs clean, then with `--drill throttle
--drill timeout --drill outage --drill stale --drill injection` (N x 11 runs: injection adds one
run per payload family). Printed: runs, wall seconds, runs/s, and the simulated (virtual) seconds
those runs waited — which must dwarf the wall time.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from usage import answer_help

AGENT = '''
from agentcheck import ToolCallError
from agentcheck.faults import RETRYABLE_STATUSES, retry_after_seconds

def _call(tools, context, name, **args):
    for attempt in range(3):
        try:
            return tools.call(name, **args)
        except ToolCallError as exc:
            if attempt == 2 or (exc.status not in RETRYABLE_STATUSES and exc.error_class != "ToolTimeout"):
                raise
            context.sleep(retry_after_seconds(exc.retry_after) or 1.0)

def run(task, tools, context):
    try:
        order = _call(tools, context, "lookup_order", order_id=task.data["order_id"])
        _call(tools, context, "issue_refund", order_id=order["order_id"], amount=order["amount"])
    except ToolCallError:
        tools.handoff(reason="tools failing")
        return "handed off"
    return f"refunded {order['order_id']}"
'''

CONFIG = '''version: 1
agents:
  bench: {kind: python, entrypoint: bench_agent:run}
tools:
  lookup_order:
    parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
    timeout_s: 10
  issue_refund:
    parameters: {type: object, properties: {order_id: {type: string}, amount: {type: number}}}
    writes: true
    risk: high
  handoff:
    parameters: {type: object}
    writes: true
defaults: {concurrency: 8}
reports: {json: false, junit: false}
'''


def project(root: Path, n: int) -> None:
    (root / "agentcheck.yaml").write_text(CONFIG)
    (root / "bench_agent.py").write_text(AGENT)
    scenarios = [
        {
            "id": f"s{i:05d}",
            "input": {"data": {"order_id": f"A{i}"}},
            "fixtures": {
                "lookup_order": [{"returns": {"order_id": f"A{i}", "amount": 10.0, "note": "arrived in pieces"}}],
                "issue_refund": [{"returns": {"refund_id": f"R-{i}"}}],
                "handoff": [{"returns": "queued"}],
            },
            "expect": {"output": {"contains": "A"}},
        }
        for i in range(n)
    ]
    (root / "scenarios").mkdir()
    (root / "scenarios" / "s.yaml").write_text(json.dumps({"scenarios": scenarios}))


class Totals:
    def __init__(self) -> None:
        self.runs = 0
        self.virtual_s = 0.0
        self.outcomes: dict[str, int] = {}

    def start(self, plan: object) -> None:
        pass

    def result(self, result) -> None:
        self.runs += 1
        self.outcomes[result.outcome.value] = self.outcomes.get(result.outcome.value, 0) + 1
        if result.trace is not None:
            self.virtual_s += result.trace.totals.virtual_wait_ms / 1000.0

    def finish(self, summary: object) -> None:
        self.security = getattr(summary, "security", None)


def measure(root: Path, drills: list[str]) -> None:
    from agentcheck import RunOptions, run

    totals = Totals()
    t0 = time.perf_counter()
    run(RunOptions(cwd=root, drills=drills, reporters=[totals], json_path=False, junit_path=False))
    wall = time.perf_counter() - t0
    label = "clean" if not drills else "all drills"
    print(f"{label:>10}: {totals.runs:6d} runs in {wall:6.2f} s wall ({totals.runs / wall:7.0f} runs/s), "
          f"{totals.virtual_s:9.0f} s simulated waits, outcomes {totals.outcomes}")
    if totals.security:
        print(f"{'':>10}  security: {totals.security}")


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [200]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            project(root, n)
            print(f"N = {n}")
            measure(root, [])
            measure(root, ["throttle", "timeout", "outage", "stale", "injection"])


if __name__ == "__main__":
    answer_help(__doc__)
    main()
