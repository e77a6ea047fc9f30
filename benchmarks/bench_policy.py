"""Benchmark: policy decisions per second on a 10 000-call trace, and what the policy adds to a run.

    python benchmarks/bench_policy.py          # 10 000 calls, 1 000 scenarios
    python benchmarks/bench_policy.py 50000    # chosen trace length

Three figures, each the best of 5 repetitions in CPU time (process_time, so a busy machine skews
them less than wall time would):
1. decisions/s: the engine alone deciding a 10 000-call run (lookups and refunds with structured
   intent, grounding, a flow rule, two CEL conditions, a spend cap) — the engine's own cost. Refund
   amounts cycle through 50 values and money moved grows, so remembered condition results help the
   first condition and never the second.
2. gateway overhead: the same 10 000 calls through the real tool gateway (catalog, JSON Schema
   contract, fixtures, recorder), with and without the policy — the worst case, one long run.
3. suite overhead: 1 000 scenarios of an instant agent (two calls each) through the session's run
   phase (judging and reports included), with and without the policy — the issue's target (< 5%).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOOLS = """
tools:
  lookup_order:
    parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
  issue_refund:
    parameters:
      type: object
      properties: {order_id: {type: string}, amount: {type: number}, intent: {type: object}}
    writes: true
    risk: medium
"""

POLICY = """
policy:
  agents:
    bench: {scopes: [orders:read, refunds:write]}
  tools:
    lookup_order: {scopes: [orders:read]}
    issue_refund: {scopes: [refunds:write], intent: true, spends: amount}
  rules:
    - {id: small, tools: [issue_refund], when: "args.amount <= 100.0", decision: allow}
    - {id: large, tools: [issue_refund], when: "run.money_moved + args.amount > 1e12", decision: block}
  flows:
    - {id: read-first, tools: [issue_refund], requires_prior: lookup_order, same_args: [order_id]}
  spend: {max_money_moved: 1000000000000.0}
"""

AGENT = """
def run(task, tools):
    order = tools.lookup_order(order_id=task.data["order_id"])
    intent = {"action": "refund", "justification": "damaged", "evidence": [order["order_id"]]}
    tools.issue_refund(order_id=order["order_id"], amount=order["amount"], intent=intent)
    return "refunded"
"""


def _project(root: Path, with_policy: bool, scenarios: int) -> None:
    (root / "scenarios").mkdir(parents=True)
    config = "version: 1\nagents:\n  bench: {kind: python, entrypoint: bench_agent:run}\n" + TOOLS
    config += "defaults: {concurrency: 16}\n" + (POLICY if with_policy else "")
    (root / "agentcheck.yaml").write_text(config)
    (root / "bench_agent.py").write_text(AGENT)
    body = "agent: bench\nfixtures:\n  issue_refund: [{returns: {refund_id: R1}}]\nscenarios:\n"
    body += "".join(
        f"  - {{id: s{i}, input: {{data: {{order_id: O1}}}}, fixtures: {{lookup_order: "
        f"[{{returns: {{order_id: O1, amount: {10 + i % 50}}}}}]}}}}\n"
        for i in range(scenarios)
    )
    (root / "scenarios" / "all.yaml").write_text(body)


def _calls(n: int) -> list[tuple[str, dict]]:
    out = []
    for i in range(n // 2):
        order = f"O{i}"
        intent = {"action": "refund", "justification": "damaged", "evidence": ["O1"]}  # what lookups return
        out += [
            ("lookup_order", {"order_id": order}),
            ("issue_refund", {"order_id": order, "amount": 10 + i % 50, "intent": intent}),
        ]
    return out


def _best(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()  # CPU time: other processes on a busy machine do not count
        fn()
        best = min(best, time.process_time() - t0)
    return best


def engine_and_gateway(n: int, root: Path) -> None:
    from agentcheck.collect import collect, load_project
    from agentcheck.policy.engine import policy_factory
    from agentcheck.runner.clock import VirtualClock
    from agentcheck.runner.fixtures import FixtureBook
    from agentcheck.runner.gateway import ToolCatalog, ToolGateway
    from agentcheck.runner.recorder import RunRecorder
    from agentcheck.scenario import Budget
    from agentcheck.trace import Trace

    project = load_project(root / "agentcheck.yaml", cwd=root)
    scenario = collect(project)[0]
    calls = _calls(n)
    catalog = ToolCatalog(project.tools)
    factory = policy_factory(project.policy)

    def recorder() -> RunRecorder:
        return RunRecorder(Trace("t", "s", 1, "bench", None, "now"), Budget(), VirtualClock())

    def engine_only() -> None:
        rec, hook = recorder(), factory(scenario)
        for tool, args in calls:
            event = rec.begin_tool_call(tool, args)
            verdict = hook.decide(tool, args, rec)
            assert verdict.allowed, verdict.reason
            event.result = {"order_id": "O1", "amount": 10}

    def gateway(with_policy: bool) -> None:
        hook = factory(scenario) if with_policy else None
        gw = ToolGateway(
            catalog=catalog, visible=None, fixtures=FixtureBook(scenario.fixtures), recorder=recorder(), policy=hook
        )
        for tool, args in calls:
            assert gw.call(tool, args).ok

    engine_s = _best(engine_only)
    plain_s, policed_s = _best(lambda: gateway(False)), _best(lambda: gateway(True))
    print(
        f"engine: {n} decisions in {engine_s * 1000:.1f} ms = {n / engine_s:,.0f} decisions/s "
        f"({engine_s / n * 1e6:.1f} µs each)"
    )
    print(
        f"gateway, one {n}-call run: {plain_s * 1000:.1f} ms without policy, {policed_s * 1000:.1f} ms with "
        f"(+{(policed_s / plain_s - 1) * 100:.0f}%)"
    )


def suite(root_plain: Path, root_policy: Path) -> None:
    from agentcheck.session import RunOptions, prepare, run_prepared

    def timed(root: Path) -> float:
        options = RunOptions(cwd=root, json_path=False, junit_path=False)
        prepared = prepare(options)
        return _best(lambda: run_prepared(prepared, options), repeat=3)

    plain, policed = timed(root_plain), timed(root_policy)
    runs = sum(1 for _ in (root_plain / "scenarios" / "all.yaml").read_text().splitlines() if "- {id:" in _)
    print(
        f"suite, {runs} scenarios x 2 calls: {plain:.3f} s without policy, {policed:.3f} s with "
        f"(+{(policed / plain - 1) * 100:.1f}%)"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    tmp = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    try:
        _project(tmp / "policy", True, 1000)
        _project(tmp / "plain", False, 1000)
        sys.path.insert(0, str(tmp / "policy"))
        engine_and_gateway(n, tmp / "policy")
        suite(tmp / "plain", tmp / "policy")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
