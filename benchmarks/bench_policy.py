"""Benchmark: policy decisions per second on a 10 000-call trace, and what the policy adds to a run.

    python benchmarks/bench_policy.py                  # 10 000 calls, 1 000 scenarios
    python benchmarks/bench_policy.py 50000            # chosen trace length
    python benchmarks/bench_policy.py --instructions   # the `agentcheck run` figure in instructions (valgrind),
                                                       # split into a fixed cost and a cost per scenario,
                                                       # and the engine's own share per scenario

Figures, each the best of several repetitions in CPU time (so a busy machine skews them less than
wall time would):
1. decisions/s: the engine alone deciding a 10 000-call run (lookups and refunds with structured
   intent, grounding, a flow rule, two CEL conditions, a spend cap) — the engine's own cost. Refund
   amounts cycle through 50 values and money moved grows, so remembered condition results help the
   first condition and never the second.
2. gateway overhead: the same 10 000 calls through the real tool gateway (catalog, JSON Schema
   contract, fixtures, recorder), with and without the policy — the worst case, one long run.
3. the issue's target (< 5%): `agentcheck run` — the real command in a subprocess, start-up, loading,
   running, judging and every default report — on 1 000 scenarios of an instant agent (two calls
   each), with and without the policy; the child's CPU time, the two projects alternating run by
   run (best of 7 each), so a neighbour's load drifting over the measurement skews both alike.
   Bytecode is cached as after an install (this container sets PYTHONDONTWRITEBYTECODE, which would
   charge every run for compiling the modules it imports). `--instructions` counts the same two
   commands in machine instructions under valgrind instead: a figure a busy machine cannot move.
4. the run phase alone (the session running the prepared suite, no JSON or JUnit), with and
   without the policy: a stricter figure, since loading and reports are left out of the base.
5. where the run phase's overhead goes, per run: the engine alone (building the run's hook and
   deciding its two calls, replayed without an agent).
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from usage import answer_help

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
        gc.collect()  # garbage from the previous repetition is not this one's cost
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


def _command_env(root: Path, cache: Path) -> dict[str, str]:
    """The child's environment: bytecode cached (in `cache`, out of the tree) as an installed tool has
    it, whatever PYTHONDONTWRITEBYTECODE this shell sets; the project's agent importable."""
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "PYTHONPYCACHEPREFIX": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _agentcheck_run(root: Path, cache: Path, wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*wrapper, sys.executable, "-m", "agentcheck", "run"],
        cwd=root,
        capture_output=True,
        text=True,
        env=_command_env(root, cache),
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def command(root_plain: Path, root_policy: Path, cache: Path, repeat: int = 7) -> None:
    """`agentcheck run` in a subprocess on both projects: the child's CPU time, best of `repeat`."""
    runs = sum(1 for _ in (root_plain / "scenarios" / "all.yaml").read_text().splitlines() if "- {id:" in _)

    def child_cpu(root: Path) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _agentcheck_run(root, cache)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    for root in (root_plain, root_policy):
        _agentcheck_run(root, cache)  # warm: bytecode compiled once, as after an install
    plain = policed = float("inf")
    for _ in range(repeat):
        plain = min(plain, child_cpu(root_plain))
        policed = min(policed, child_cpu(root_policy))
    print(
        f"`agentcheck run`, {runs} scenarios x 2 calls, every default report: {plain:.3f} s CPU without policy, "
        f"{policed:.3f} s with (+{(policed - plain) / runs * 1e6:.0f} µs a scenario)"
    )
    added = (policed / plain - 1) * 100
    print(f"POLICY OVERHEAD on `agentcheck run` with an instant agent: +{added:.1f}% (target: under 5%)")


def _instructions(root: Path, cache: Path) -> int:
    """Machine instructions of `agentcheck run` in `root` under valgrind (bytecode cached first)."""
    _agentcheck_run(root, cache)
    done = _agentcheck_run(root, cache, ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"))
    found = [line for line in done.stderr.splitlines() if "Collected :" in line]
    return int(found[-1].split(":")[-1])


def instructions(root_plain: Path, root_policy: Path, cache: Path) -> None:
    """The same two commands counted in machine instructions under valgrind (callgrind): the figure
    does not move with the machine's load, as CPU time does on a shared box. Then the same projects
    with one scenario, which splits what the policy adds into a fixed cost (loading it, CEL's core,
    the least-privilege report) and a cost per scenario. Slow (minutes)."""
    plain, policed = _instructions(root_plain, cache), _instructions(root_policy, cache)
    print(
        f"`agentcheck run` in instructions: {plain:,} without policy, {policed:,} with: "
        f"POLICY OVERHEAD +{(policed / plain - 1) * 100:.2f}% (target: under 5%)"
    )
    runs = sum(1 for _ in (root_plain / "scenarios" / "all.yaml").read_text().splitlines() if "- {id:" in _)
    one_plain, one_policy = root_plain.parent / "plain-1", root_policy.parent / "policy-1"
    _project(one_plain, False, 1)
    _project(one_policy, True, 1)
    small_plain, small_policed = _instructions(one_plain, cache), _instructions(one_policy, cache)
    fixed = small_policed - small_plain
    per_plain = (plain - small_plain) / (runs - 1)
    per_added = (policed - small_policed - (plain - small_plain)) / (runs - 1)
    print(
        f"of which fixed (the 1-scenario projects): +{fixed:,}; per scenario: +{per_added:,.0f} on "
        f"{per_plain:,.0f} (+{per_added / per_plain * 100:.1f}%)"
    )


def suite(root_plain: Path, root_policy: Path, repeat: int = 7) -> float:
    """Seconds of CPU per run the policy adds to the run phase (and print the figures)."""
    from agentcheck.session import RunOptions, prepare, run_prepared

    def setup(root: Path) -> Callable[[], object]:
        options = RunOptions(cwd=root, json_path=False, junit_path=False)
        prepared = prepare(options)
        run_prepared(prepared, options)  # warm: imports, compiled schemas and conditions
        return lambda: run_prepared(prepared, options)

    run_plain, run_policy = setup(root_plain), setup(root_policy)
    plain = policed = float("inf")
    for _ in range(repeat):
        plain = min(plain, _best(run_plain, repeat=1))
        policed = min(policed, _best(run_policy, repeat=1))
    runs = sum(1 for _ in (root_plain / "scenarios" / "all.yaml").read_text().splitlines() if "- {id:" in _)
    print(
        f"run phase alone, {runs} scenarios x 2 calls, no JSON or JUnit: {plain:.3f} s without policy, "
        f"{policed:.3f} s with (+{(policed - plain) / runs * 1e6:.0f} µs a run, +{(policed / plain - 1) * 100:.1f}%)"
    )
    return (policed - plain) / runs


def _engine_runs(root: Path) -> Callable[[bool], None]:
    """`runs(decide)`: every scenario of `root` replayed without an agent — a recorder, the two calls
    and their results — with the policy deciding each call (`decide`) or not: the engine's own cost."""
    from agentcheck.collect import collect, load_project
    from agentcheck.policy.engine import policy_factory
    from agentcheck.runner.clock import VirtualClock
    from agentcheck.runner.recorder import RunRecorder
    from agentcheck.scenario import Budget
    from agentcheck.trace import Trace

    project = load_project(root / "agentcheck.yaml", cwd=root)
    scenarios = collect(project)
    factory = policy_factory(project.policy)
    intent = {"action": "refund", "justification": "damaged", "evidence": ["O1"]}
    traces: list[Trace] = []

    def runs(decide: bool) -> None:
        traces.clear()
        for i, scenario in enumerate(scenarios):
            rec = RunRecorder(Trace("t", "s", 1, "bench", None, "now"), Budget(), VirtualClock())
            hook = factory(scenario) if decide else None
            order = {"order_id": "O1", "amount": 10 + i % 50}
            for tool, args, result in (
                ("lookup_order", {"order_id": "O1"}, order),
                ("issue_refund", {"order_id": "O1", "amount": order["amount"], "intent": intent}, {"refund_id": "R1"}),
            ):
                event = rec.begin_tool_call(tool, args)
                if hook is not None:
                    verdict = hook.decide(tool, args, rec)
                    assert verdict.allowed, verdict.reason
                    event.policy = verdict.record
                event.result = result
            traces.append(rec.trace)

    return runs


ENGINE_LOOPS = 3
"""Times `--engine-loop` replays the suite (after one warm-up replay that decides)."""


def engine_instructions(cache: Path, runs: int) -> None:
    """The engine's instructions per scenario: this script's `--engine-loop` under valgrind, deciding
    and not deciding; everything else the child does (start-up, building the projects) cancels out."""
    counts = {}
    for mode in ("none", "decide"):
        command = [sys.executable, str(Path(__file__).resolve()), "--engine-loop", mode]
        env = _command_env(Path(__file__).resolve().parents[1], cache)
        subprocess.run(command, check=True, env=env, capture_output=True)  # bytecode cached first
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        found = [line for line in done.stderr.splitlines() if "Collected :" in line]
        counts[mode] = int(found[-1].split(":")[-1])
    per = (counts["decide"] - counts["none"]) / (ENGINE_LOOPS * runs)
    print(f"the engine alone (hook + 2 decisions), per scenario: {per:,.0f} instructions")


def breakdown(root: Path, added_per_run_s: float) -> None:
    """The engine's share of what the policy adds to each run of the run phase."""
    runs = _engine_runs(root)
    n = sum(1 for _ in (root / "scenarios" / "all.yaml").read_text().splitlines() if "- {id:" in _)
    runs(True)
    engine = (_best(lambda: runs(True), 15) - _best(lambda: runs(False), 15)) / n
    print(
        f"per run, of the +{added_per_run_s * 1e6:.0f} µs: engine (hook + 2 decisions) {engine * 1e6:.0f} µs, "
        f"the rest (longer records to write and check for secrets, least-privilege report, threads) "
        f"{(added_per_run_s - engine) * 1e6:.0f} µs"
    )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--") and a not in ("none", "decide")]
    n = int(args[0]) if args else 10_000
    tmp = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    try:
        _project(tmp / "policy", True, 1000)
        _project(tmp / "plain", False, 1000)
        sys.path.insert(0, str(tmp / "policy"))
        if "--engine-loop" in sys.argv:  # a child of --instructions: replay the suite, deciding or not
            runs = _engine_runs(tmp / "policy")
            runs(True)
            for _ in range(ENGINE_LOOPS):
                runs(sys.argv[-1] == "decide")
            return
        if "--instructions" in sys.argv:
            if shutil.which("valgrind") is None:
                raise SystemExit("--instructions needs valgrind on PATH")
            instructions(tmp / "plain", tmp / "policy", tmp / "pycache")
            engine_instructions(tmp / "pycache", 1000)
            return
        engine_and_gateway(n, tmp / "policy")
        command(tmp / "plain", tmp / "policy", tmp / "pycache")
        added = suite(tmp / "plain", tmp / "policy")
        breakdown(tmp / "policy", added)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    answer_help(__doc__)
    main()
