"""Benchmark: how much the harness costs per scenario run, how memory grows, how fast the CLI starts.

    python benchmarks/bench_run.py            # N = 100, 1 000, 10 000
    python benchmarks/bench_run.py 100 1000   # chosen sizes

Each size runs in its own process (so peak RSS is that size's own) on a generated project: an
instant in-process agent making two tool calls per scenario, judged on an ordered trace and its
output, with JSON, JUnit and the JSON Lines stream written as in CI. The agent does no work, so the
run time is all harness overhead. Targets (issue 2): >= 1 000 runs/s on 2 cores, flat peak memory,
`agentcheck --help` and `agentcheck run --help` (a subcommand's options parsed) about 0.15 s.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from usage import answer_help

AGENT = '''
def run(task, tools):
    order = tools.lookup_order(order_id=task.data["order_id"])
    tools.issue_refund(order_id=order["order_id"], amount=order["amount"])
    return f"refunded {order['order_id']}"
'''

CONFIG = '''version: 1
agents:
  bench: {kind: python, entrypoint: bench_agent:run}
tools:
  lookup_order:
    parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
  issue_refund:
    parameters: {type: object, properties: {order_id: {type: string}, amount: {type: number}}}
    writes: true
defaults: {concurrency: 16, paths: [scenarios]}
gates:
  - {name: all pass, min_pass_rate: 1.0, max_p95_latency_s: 1.0}
'''

SCENARIO = '''  - id: s{i}
    input: {{data: {{order_id: O{i}}}}}
    fixtures:
      lookup_order:
        - when: {{order_id: O{i}}}
          returns: {{order_id: O{i}, amount: {amount}}}
      issue_refund:
        - returns: {{refund_id: R{i}}}
    expect:
      tools:
        mode: ordered
        calls:
          - lookup_order: {{order_id: O{i}}}
          - issue_refund: {{order_id: O{i}, amount: {{$lte: 100}}}}
      output: {{contains: [refunded]}}
'''


def make_project(root: Path, n: int) -> None:
    (root / "scenarios").mkdir(parents=True)
    (root / "agentcheck.yaml").write_text(CONFIG)
    (root / "bench_agent.py").write_text(AGENT)
    per_file = 100
    for start in range(0, n, per_file):
        body = "agent: bench\nscenarios:\n" + "".join(
            SCENARIO.format(i=i, amount=10 + i % 50) for i in range(start, min(n, start + per_file))
        )
        (root / "scenarios" / f"part{start // per_file:05d}.yaml").write_text(body)


def child(n: int, root: Path) -> None:
    """Runs in its own process: load, run, report; prints one JSON line of figures."""
    from agentcheck.session import RunOptions, prepare, run_prepared

    options = RunOptions(cwd=root)
    t0 = time.perf_counter()
    prepared = prepare(options)
    load_s = time.perf_counter() - t0
    load_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1 = time.perf_counter()
    summary = run_prepared(prepared, options)
    total_s = time.perf_counter() - t1
    assert summary.counts["passed"] == n, summary.counts
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": n, "load_s": load_s, "run_s": total_s, "peak_mb": peak_mb, "load_mb": load_mb,
                      "exit": summary.exit_code}))


def startup_seconds(*args: str, repeat: int = 10) -> float:
    """Median wall time of `agentcheck ARGS` (bytecode cached, as after an install)."""
    exe = shutil.which("agentcheck") or str(Path(sys.executable).with_name("agentcheck"))
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "agentcheck-bench-pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([exe, *args], capture_output=True, check=True, env=env)  # compiles once
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([exe, *args], capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(sizes: list[int]) -> None:
    print(f"agentcheck benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'N':>7} {'load s':>8} {'run s':>8} {'runs/s':>9} {'overhead/run':>13} {'RSS loaded':>11} {'peak RSS':>9}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root, n)
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(root)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stdout, out.stderr)
                raise SystemExit(f"child for N={n} failed")
            fig = json.loads(out.stdout.strip().splitlines()[-1])
        rate = n / fig["run_s"]
        print(f"{n:>7} {fig['load_s']:>8.2f} {fig['run_s']:>8.2f} {rate:>9.0f} "
              f"{fig['run_s'] / n * 1e6:>10.0f} µs {fig['load_mb']:>8.0f} MB {fig['peak_mb']:>6.0f} MB")
    for args in (["--help"], ["run", "--help"]):  # the second parses a subcommand's options, as every command does
        print(f"agentcheck {' '.join(args)}: {startup_seconds(*args) * 1000:.0f} ms (median of 10)")


if __name__ == "__main__":
    answer_help(__doc__)
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
