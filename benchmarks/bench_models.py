"""Benchmark: model traffic through the proxy against a loopback model server with real latency.

    python benchmarks/bench_models.py                 # 100 scenarios x 3 model turns, 200 ms each
    python benchmarks/bench_models.py --scenarios 40 --concurrency 1 8 32

Each scenario runs the built-in `openai` agent: two turns that call a tool and a final answer, each
turn answered by the loopback server after `--latency` seconds of real time (the point here is real
waiting, so the harness's overhead shows against it). For each concurrency the wall time of the run
phase (loading excluded) is printed next to the ideal, total model latency / concurrency, and next to
the best any scheduler can do with whole scenarios (ceil(scenarios / concurrency) x turns x latency:
100 scenarios at 32 need 4 rounds, so 2.4 s against an ideal of 1.875 s).
Target (issue 4): within 1.2x of the ideal at concurrency 32.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentcheck.session import RunOptions, prepare, run_prepared
from examples.standin_model import LoopbackModelServer, chat_response

TURNS = 3

CONFIG = """version: 1
agents:
  bench:
    kind: openai
    model: gpt-4o-mini
    base_url: {base_url}
    max_steps: 5
tools:
  lookup_order:
    parameters: {{type: object, properties: {{order_id: {{type: string}}}}, required: [order_id]}}
defaults: {{timeout_s: 120}}
"""

SCENARIO = """- id: bench-{i}
  input: "Order A{i} please"
  fixtures:
    lookup_order: [{{returns: {{order_id: A{i}, amount: 10}}}}]
  expect: {{tools: {{calls: [{{lookup_order: {{order_id: A{i}}}}}]}}}}
"""


def answer(path: str, body: dict, headers: dict) -> tuple[int, dict, dict]:
    turn = sum(1 for m in body["messages"] if m["role"] == "assistant") + 1
    order_id = body["messages"][0]["content"].split()[1]
    if turn < TURNS:
        return 200, chat_response(body["model"], None, [("lookup_order", {"order_id": order_id})], turn=turn), {}
    return 200, chat_response(body["model"], "done", turn=turn), {}


def serve(port: int, latency: float) -> None:
    """The model server's own process: as a remote model would, it does not share our GIL."""
    import threading

    LoopbackModelServer(answer, delay_s=latency, port=port)
    print("ready", flush=True)
    threading.Event().wait()


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"import benchmarks.bench_models as b; b.serve({port}, {latency})"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, f"http://127.0.0.1:{port}/v1"


def run_once(root: Path, concurrency: int) -> tuple[float, float, int]:
    """Wall seconds and CPU seconds (this process: harness, proxy, agents) of the run phase."""
    options = RunOptions(cwd=root, concurrency=concurrency, json_path=False, junit_path=False)
    prepared = prepare(options)
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_prepared(prepared, options)
    return time.perf_counter() - started, time.process_time() - cpu, summary.counts["passed"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    server, base_url = start_server(args.latency)
    try:
        measure(args, base_url)
    finally:
        server.terminate()
        server.wait()


def measure(args: argparse.Namespace, base_url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "agentcheck.yaml").write_text(CONFIG.format(base_url=base_url))
        (root / "scenarios").mkdir()
        body = "".join(SCENARIO.format(i=i) for i in range(args.scenarios))
        (root / "scenarios" / "bench.yaml").write_text("agent: bench\nscenarios:\n" + body)
        run_once(root, 8)  # warm-up: imports, the client pool
        total = args.scenarios * TURNS * args.latency
        print(f"{args.scenarios} scenarios x {TURNS} model turns, {args.latency * 1000:.0f} ms per turn "
              f"(total model latency {total:.1f} s)")
        print(f"{'concurrency':>11}  {'wall s':>7}  {'ideal s':>7}  {'ratio':>5}  {'rounds s':>8}  {'ratio':>5}"
              "  passed  cpu ms/request")
        for concurrency in args.concurrency:
            wall, cpu, passed = run_once(root, concurrency)
            ideal = total / concurrency
            rounds = -(-args.scenarios // concurrency) * TURNS * args.latency
            print(f"{concurrency:>11}  {wall:>7.2f}  {ideal:>7.2f}  {wall / ideal:>5.2f}  {rounds:>8.2f}  "
                  f"{wall / rounds:>5.2f}  {passed:>6}  {cpu * 1000 / (args.scenarios * TURNS):>14.1f}")


if __name__ == "__main__":
    main()
