"""Benchmark: `compare` and `merge` on large results files, time and peak memory.

    python benchmarks/bench_compare.py            # N = 1 000 and 10 000 scenarios per file
    python benchmarks/bench_compare.py 10000      # chosen sizes
    python benchmarks/bench_compare.py --instructions 10000   # the merge in instructions (valgrind)
    python benchmarks/bench_compare.py --phases 10000         # where the merge's wall time goes
    python benchmarks/bench_compare.py --repeat 10000 9       # each 9 times: every figure, fastest, median
    python benchmarks/bench_compare.py --versus REF 10000 9   # this tree's merge and commit REF's, in turn

For each N it writes, in agentcheck's own results layout, a baseline and a new results file of N
scenarios each (every result with a trace of one model call and two tool calls, as a small agent
makes), and two shard files of N scenarios each from a 2N-scenario project, written as
`agentcheck run --shard i/2 --json` writes them (canonical result lines, shard-local indexes, the
`scenarios` rows and the suite stamp). Then, each in its own process so peak RSS is that step's own:

- compare: `compare_files(base, new)` (read both, each result's numbers from its run index row,
  per-scenario stats, segments, every change);
- merge: the whole `agentcheck merge shard1.json shard2.json --json --junit --md` command, as a user
  runs it (bytecode cached, as after an install; a first untimed run compiles it): interpreter
  start, imports, project load, reading the shards, gates, the console lines
  (stdout to a file, as in a CI log), results.jsonl, JSON, JUnit and Markdown. `seconds` is its wall
  time end to end, `peak_mb` its peak RSS;
- merge-unstamped: the same command on shards without the suite stamp (files from before it, or a
  suite edited since): the full path, which collects the 2N scenarios from YAML again.

`cpu_s` is the child's CPU time (steadier than wall time when other jobs share the machine).

Targets (issue 5): under 2 s each for N = 10 000, with flat memory (peak RSS should not grow with the
size of the traces; it grows only by a few hundred bytes per scenario for the numbers kept).
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from usage import answer_help

if TYPE_CHECKING:
    from collections.abc import Iterator

    from agentcheck.verdict import RunMetrics

CONFIG = """version: 1
agents:
  bench: {kind: python, entrypoint: bench_agent:run, version: "1.0"}
tools:
  lookup_order:
    parameters: {type: object}
  issue_refund:
    parameters: {type: object}
gates:
  - {name: all pass, min_pass_rate: 0.9, max_flaky: 100000}
"""

SCENARIO = "  - {{id: s{i}, tags: [t{tag}], input: order O{i}}}\n"


def result(i: int, outcome: str, cost: float, notes: int = 200) -> dict:
    trace_id = f"{i:032x}"
    calls = [
        {"step": 1, "call_id": "c1", "tool": "lookup_order", "args": {"order_id": f"O{i}"}, "status": "ok",
         "result": {"order_id": f"O{i}", "amount": 42.0, "state": "damaged", "notes": "x" * notes},
         "error": None, "latency_ms": 12.0, "at_ms": 3.0, "policy": None, "violation": None, "kind": "tool_call"},
        {"step": 3, "call_id": "c2", "tool": "issue_refund", "args": {"order_id": f"O{i}", "amount": 42.0},
         "status": "ok", "result": {"refund_id": f"R{i}"}, "error": None, "latency_ms": 20.0, "at_ms": 40.0,
         "policy": None, "violation": None, "kind": "tool_call"},
    ]
    model = {"step": 2, "model": "gpt-x", "input_tokens": 900, "output_tokens": 120, "cost_usd": cost,
             "latency_ms": 400.0, "at_ms": 15.0, "route": "primary", "source": "agent", "kind": "model_call"}
    return {
        "index": i, "scenario_id": f"s{i}", "file": "scenarios/s.yaml", "line": i + 2, "agent": "bench",
        "tags": [f"t{i % 10}"], "outcome": outcome, "message": "" if outcome == "passed" else "output.contains: no",
        "checks": [{"check": "output.contains", "passed": outcome == "passed", "message": "m", "explanation": "",
                    "advisory": False, "step": None, "tool": None, "expected": "x", "actual": "y"}],
        "trace": {"trace_id": trace_id, "scenario_id": f"s{i}", "trial": 1, "agent": "bench",
                  "agent_version": "1.0", "started_at": "2026-01-01T00:00:00Z", "events": [calls[0], model, calls[1]],
                  "output": f"refunded O{i}", "totals": {"steps": 3, "tool_calls": 2, "model_calls": 1,
                                                           "input_tokens": 900, "output_tokens": 120,
                                                           "cost_usd": cost, "wall_time_ms": 450.0,
                                                           "virtual_wait_ms": 0.0}, "stop": None},
        "trial": 1, "duration_ms": 450.0,
    }


def write_results(path: Path, indices: range, *, worse: bool = False, notes: int = 200,
                  stamp: dict | None = None, index: bool = True, plan: bool = True) -> None:
    """A results document in agentcheck's layout (one header key per line, one result per line), as a
    run writes it: a finished run's summary, the `scenarios` rows, the plan rows unless not `plan` (a
    file from before them), the run index unless not `index` (a file from before it). With `stamp`
    (the suite stamp of a shard run) it is a shard file as `run --shard` writes it: results numbered
    from 0 within the shard, each line as the run's encoder writes it."""
    from agentcheck.release.decode import result_from_data
    from agentcheck.release.plan_rows import header_line as plan_line
    from agentcheck.release.run_index import header_line as index_line
    from agentcheck.release.run_index import row_of_data
    from agentcheck.release.trials import aggregate
    from agentcheck.serialize import dumps_bytes
    from agentcheck.verdict import PlannedScenario, RunMetrics

    run: dict = {"run_id": "bench", "started_at": "t"}

    def lines() -> Iterator[tuple[bytes, RunMetrics]]:
        """Each result's line and its metrics, made as they are written: this process's
        memory is inherited as the children's starting peak RSS, so it must stay small."""
        for n, i in enumerate(indices):
            outcome = "failed" if worse and i % 50 == 1 else "passed"  # odd, so shard 2 has failures too
            cost = 0.0013 if worse and i % 20 == 0 else 0.001
            data = result(i, outcome, cost, notes)
            decoded = result_from_data(data)
            if stamp is None:
                yield orjson.dumps(data), RunMetrics.of(decoded)
                continue
            decoded.index = n
            yield dumps_bytes(decoded), RunMetrics.of(decoded)

    with path.open("wb") as out:
        out.write(b'{"schema": "agentcheck.results/1",\n"run": ' + orjson.dumps(run | {"suite": stamp}
                                                                              if stamp else run) + b",\n")
        metrics = [m for _, m in lines()]
        counts = {o: sum(1 for m in metrics if m.outcome.value == o) for o in ("passed", "failed", "error", "skipped")}
        # (a finished run's summary, as merge reads it: its counts, nothing interrupted or left unstarted)
        out.write(b'"summary": ' + orjson.dumps({"counts": counts, "interrupted": False, "not_run": 0}) + b",\n")
        out.write(b'"gates": [],\n')
        stats = aggregate(metrics)  # (the rows every run writes before its results: a first pass for the numbers)
        out.write(b'"scenarios": ' + dumps_bytes(stats) + b",\n")
        if plan:  # (what the run planned: merge and compare read these rather than the statistics above)
            out.write(plan_line([PlannedScenario(s.index, s.scenario_id, s.file, s.line, s.agent, s.tags,
                                                 s.trials + s.skipped, s.required_pass_rate) for s in stats]))
        del metrics, stats
        if index:  # (a pass of its own: the rows come before the results)
            out.write(index_line([row_of_data(orjson.loads(line), line) for line, _ in lines()]))
        out.write(b'"results": [\n')
        for n, (line, _) in enumerate(lines()):
            out.write((b",\n" if n else b"") + line)
        out.write(b"\n]}\n")


def shard_stamp(root: Path, indices: range, selected: int) -> dict:
    """The suite stamp `agentcheck run --shard` writes for the scenarios `indices` of the project."""
    from agentcheck.collect import load_project
    from agentcheck.release.suite import fingerprint

    project = load_project(root / "agentcheck.yaml", cwd=root)
    return {"fingerprint": fingerprint(project), "selected": selected, "positions": list(indices)}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, root: Path) -> None:
    from agentcheck.release.compare import compare_files

    base_mb = peak_mb()
    cpu0 = time.process_time()
    if kind == "compare":
        t0 = time.perf_counter()
        comparison = compare_files(root / "base.json", root / "new.json")
        elapsed = time.perf_counter() - t0
        extra = {"changes": len(comparison.changes), "regressions": comparison.regressions}
    else:
        return merge_command(root, kind)
    extra["cpu_s"] = round(time.process_time() - cpu0, 3)  # steadier than wall time on a busy machine
    print(json.dumps({"seconds": round(elapsed, 3), "peak_mb": round(peak_mb(), 1),
                      "start_mb": round(base_mb, 1), **extra}))


def merge_command(root: Path, kind: str) -> None:
    """Time the real `agentcheck merge` command end to end, in a process of its own (wall time from
    before the interpreter starts to its exit; peak RSS and CPU time of that process alone)."""
    import os
    import subprocess

    suffix = "" if kind == "merge" else "-old"
    agentcheck = Path(sys.executable).with_name("agentcheck")
    command = [str(agentcheck) if agentcheck.exists() else sys.executable, *([] if agentcheck.exists() else
               ["-m", "agentcheck"]), "merge", f"shard1{suffix}.json", f"shard2{suffix}.json",
               "--json", "merged.json", "--junit", "merged.xml", "--md", "merged.md"]
    # bytecode cached, as after an install (this container sets PYTHONDONTWRITEBYTECODE, which would
    # make every run compile agentcheck and its libraries again): one untimed run compiles it
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(root / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    with (root / "console.log").open("wb") as log:
        t0 = time.perf_counter()
        child_process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child_process.pid, 0)
        elapsed = time.perf_counter() - t0
    child_process.returncode = os.waitstatus_to_exitcode(status)
    merged = orjson.loads((root / "merged.json").read_bytes())
    print(json.dumps({"seconds": round(elapsed, 3), "peak_mb": round(usage.ru_maxrss / 1024, 1),
                      "exit": child_process.returncode, "runs": len(merged["results"]),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}))


def main(sizes: list[int]) -> None:
    print(f"{'N':>7} {'step':>15} {'seconds':>8} {'peak MB':>8} {'file MB':>8}  detail")
    for n in sizes:
        measure(n, 200, ("compare", "merge", "merge-unstamped"))
    # the same N with traces 40x larger: peak memory must not follow the size of the traces
    measure(max(sizes), 8000, ("compare", "merge"))


def write_files(root: Path, n: int, notes: int, old: bool) -> None:
    """The project and its results files (in a process of its own: see `measure`)."""
    root.mkdir(parents=True, exist_ok=True)
    write_results(root / "base.json", range(n), notes=notes)
    write_results(root / "new.json", range(n), worse=True, notes=notes)
    (root / "agentcheck.yaml").write_text(CONFIG)
    (root / "bench_agent.py").write_text("def run(task):\n    return 'ok'\n")
    (root / "scenarios").mkdir()
    with (root / "scenarios" / "s.yaml").open("w") as out:
        out.write("scenarios:\n")
        for i in range(2 * n):
            out.write(SCENARIO.format(i=i, tag=i % 10))
    for number, first in ((1, 0), (2, 1)):  # shard i of 2 holds every other scenario
        stamp = shard_stamp(root, range(first, 2 * n, 2), 2 * n)
        write_results(root / f"shard{number}.json", range(first, 2 * n, 2), worse=number == 2, notes=notes,
                      stamp=stamp)
        if old:
            write_results(root / f"shard{number}-old.json", range(first, 2 * n, 2), worse=number == 2, notes=notes,
                          index=False)


def measure(n: int, notes: int, kinds: tuple[str, ...]) -> None:
    """Write the files, then run each step in a child process. The files are written in a process of
    their own too: a child's peak RSS starts at its parent's (it is inherited across fork), and
    writing them loads agentcheck."""
    import subprocess

    root = Path(tempfile.mkdtemp(prefix=f"bench-compare-{n}-"))
    try:
        subprocess.run([sys.executable, __file__, "--write", str(root), str(n), str(notes),
                        str(int("merge-unstamped" in kinds))], check=True)
        size_mb = (root / "base.json").stat().st_size / 2**20
        for kind in kinds:
            done = subprocess.run([sys.executable, __file__, "--child", kind, str(root)], capture_output=True,
                                  text=True, check=True)
            data = json.loads(done.stdout.strip().splitlines()[-1])
            seconds, peak = data.pop("seconds"), data.pop("peak_mb")
            print(f"{n:>7} {kind:>15} {seconds:>8.2f} {peak:>8.1f} {size_mb:>8.1f}  {data}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def repeated(n: int, times: int) -> None:
    """compare and the stamped merge of 2 x N, each run `times` times in fresh processes on the same
    files: every figure, then the fastest and the median. On a shared machine a run's wall time
    depends on what else runs then (this 2-core box: up to 1.5x between runs minutes apart); the
    fastest run is what the code costs on the machine alone, the median what a user sees on it."""
    import statistics
    import subprocess

    root = Path(tempfile.mkdtemp(prefix=f"bench-compare-{n}-"))
    try:
        subprocess.run([sys.executable, __file__, "--write", str(root), str(n), "200", "0"], check=True)
        for kind in ("compare", "merge"):
            walls, cpus = [], []
            for _ in range(times):
                done = subprocess.run([sys.executable, __file__, "--child", kind, str(root)], capture_output=True,
                                      text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{kind} failed:\n{done.stderr[-2000:]}")
                data = json.loads(done.stdout.strip().splitlines()[-1])
                walls.append(data["seconds"])
                cpus.append(data["cpu_s"])
                if data.get("exit", 0) != 0:  # (a merge that failed is not a figure; its console says why)
                    log = (root / "console.log").read_text(errors="replace")[-2000:]
                    raise SystemExit(f"{kind} exited {data['exit']}:\n{log}")
            print(f"{kind} of 2 x {n}: wall {' '.join(f'{w:.2f}' for w in walls)} s; fastest {min(walls):.2f} s, "
                  f"median {statistics.median(walls):.2f} s (CPU median {statistics.median(cpus):.2f} s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def versus(ref: str, n: int = 10000, times: int = 9) -> None:
    """The stamped merge of 2 x N by this tree and by the commit `ref` (say, the last release), run in
    turn `times` times each, each version on the files its own benchmark writes (an older one knows no
    run index): on a shared machine only runs taken side by side compare. Needs git."""
    import os
    import statistics
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix=f"bench-versus-{n}-"))
    try:
        (work / "ref").mkdir()
        archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "agentcheck", "benchmarks"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work / "ref")], input=archive, check=True)
        sides = {f"{ref}": work / "ref", "this tree": repo}
        walls: dict[str, list[float]] = {label: [] for label in sides}
        for number, code in enumerate(sides.values()):  # each writes its files with its own benchmark
            (work / f"files-{number}").mkdir()
            subprocess.run([sys.executable, str(code / "benchmarks" / "bench_compare.py"), "--write",
                            str(work / f"files-{number}"), str(n), "200", "0"],
                           env={**os.environ, "PYTHONPATH": str(code)}, check=True)
        for round_ in range(times + 1):  # (the first round compiles each version's bytecode: not timed)
            for number, (label, code) in enumerate(sides.items()):
                env = {**os.environ, "PYTHONPATH": str(code), "PYTHONPYCACHEPREFIX": str(work / f"pycache-{number}")}
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                command = [sys.executable, "-m", "agentcheck", "merge", "shard1.json", "shard2.json", "--json",
                           "merged.json", "--junit", "merged.xml", "--md", "merged.md"]
                with (work / "console.log").open("wb") as log:
                    t0 = time.perf_counter()
                    done = subprocess.run(command, cwd=work / f"files-{number}", env=env, stdout=log,
                                          stderr=subprocess.STDOUT, check=False)
                    elapsed = time.perf_counter() - t0
                if done.returncode != 0:
                    raise SystemExit(f"{label}: merge exited {done.returncode}:\n"
                                     + (work / "console.log").read_text(errors="replace")[-2000:])
                if round_:
                    walls[label].append(elapsed)
        for label, figures in walls.items():
            print(f"merge of 2 x {n}, {label}: wall {' '.join(f'{w:.2f}' for w in figures)} s; fastest "
                  f"{min(figures):.2f} s, median {statistics.median(figures):.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def instructions(n: int) -> None:
    """The stamped merge of 2 x N counted in machine instructions under valgrind (callgrind): a figure a
    busy machine cannot move (the 2-core development box's wall times vary by 20 % or more). Counted
    with the merge in one process (AGENTCHECK_WORKERS=0): a forked worker's count would include its
    parent's up to the fork. It says what the merge costs in CPU, not how long it takes on two cores."""
    import os
    import subprocess

    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on PATH")
    root = Path(tempfile.mkdtemp(prefix=f"bench-compare-{n}-"))
    try:
        subprocess.run([sys.executable, __file__, "--write", str(root), str(n), "200", "0"], check=True)
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(root / "pycache"), "AGENTCHECK_WORKERS": "0"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [sys.executable, "-m", "agentcheck", "merge", "shard1.json", "shard2.json", "--json", "merged.json",
                   "--junit", "merged.xml", "--md", "merged.md"]
        subprocess.run(command, cwd=root, env=env, capture_output=True, check=False)  # compiles the bytecode
        done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command], cwd=root,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        found = [line for line in done.stderr.splitlines() if "Collected :" in line]
        count = int(found[-1].split(":")[-1]) if found else 0
        print(f"merge of 2 x {n}: {count / 1e9:.2f} G instructions ({count / (2 * n) / 1e3:.0f} k per result, "
              "start-up included; in one process)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def phases(n: int, repeats: int = 3) -> None:
    """Where the wall time of the stamped merge of 2 x N goes: the command run in-process `repeats`
    times (each in a fresh interpreter), each phase's seconds printed in order. Phases overlap worker
    processes (shards are read in them), so they say where this process waits, not what it computes."""
    import os
    import subprocess

    root = Path(tempfile.mkdtemp(prefix=f"bench-phases-{n}-"))
    try:
        subprocess.run([sys.executable, __file__, "--write", str(root), str(n), "200", "0"], check=True)
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(root / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, __file__, "--phases-child", str(root)], env=env, capture_output=True,
                       check=True)  # compiles the bytecode
        for _ in range(repeats):
            done = subprocess.run([sys.executable, __file__, "--phases-child", str(root)], env=env,
                                  capture_output=True, text=True, check=True)
            print(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def phases_child(root: Path) -> None:
    """The merge command in this process, with the end of each phase marked (see `phases`)."""
    import contextlib
    import functools
    import io
    import os

    t0 = time.perf_counter()
    marks: list[tuple[str, float]] = []
    os.chdir(root)
    from agentcheck import replay
    from agentcheck import session as session_module
    from agentcheck.cli import app
    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.junit import JUnitReporter
    from agentcheck.report.release_console import ReleaseConsoleReporter
    from agentcheck.report.stream import ResultLog

    marks.append(("imports", time.perf_counter()))

    def marked(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: object, **kwargs: object) -> object:
            try:
                return original(*args, **kwargs)
            finally:
                marks.append((label, time.perf_counter()))

        setattr(owner, name, wrapper)

    marked(replay, "_fast_start", "project+shards")
    marked(ConsoleReporter, "start", "start")
    marked(replay._Replay, "drive", "results")
    marked(session_module._Session, "summary", "summary")
    for reporter in (ResultLog, JUnitReporter, ConsoleReporter, ReleaseConsoleReporter):
        marked(reporter, "finish", reporter.__name__.replace("Reporter", "").lower())
    sys.argv = ["agentcheck", "merge", "shard1.json", "shard2.json", "--json", "merged.json", "--junit",
                "merged.xml", "--md", "merged.md"]
    stdout, sys.stdout = sys.stdout, io.StringIO()
    with contextlib.suppress(SystemExit):  # (the command's exit code)
        app()
    marks.append(("end", time.perf_counter()))
    sys.stdout = stdout
    steps, previous = [], t0
    for label, at in marks:
        steps.append(f"{label} {at - previous:.2f}")
        previous = at
    print(f"{previous - t0:.2f} s in-process: " + ", ".join(steps))


if __name__ == "__main__":
    answer_help(__doc__)
    if len(sys.argv) > 1 and sys.argv[1] == "--repeat":
        repeated(int(sys.argv[2]) if len(sys.argv) > 2 else 10000, int(sys.argv[3]) if len(sys.argv) > 3 else 9)
    elif len(sys.argv) > 1 and sys.argv[1] == "--phases":
        phases(int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
    elif len(sys.argv) > 1 and sys.argv[1] == "--phases-child":
        phases_child(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--write":
        write_files(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1")
    elif len(sys.argv) > 1 and sys.argv[1] == "--versus":
        versus(sys.argv[2], *(int(a) for a in sys.argv[3:5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--instructions":
        instructions(int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
    else:
        main([int(a) for a in sys.argv[1:]] or [1000, 10000])
