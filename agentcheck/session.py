"""The library API: collect → run → judge → gate → report, as one short pipeline.

The CLI is a thin shell over `run()`; tests and other tools call it directly. Nothing here prints:
reporters passed in `RunOptions.reporters` decide what the user sees.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from agentcheck.exitcodes import ExitCode
from agentcheck.interrupts import deferred_interrupt
from agentcheck.problems import BadInput, Problem
from agentcheck.project import Project
from agentcheck.redact import Redactor, activate, reset_redactor
from agentcheck.reliability import ScenarioStats
from agentcheck.report.base import Reporter
from agentcheck.report.stream import ResultLog
from agentcheck.reporting import finish_all, output_problems
from agentcheck.scenario import Scenario
from agentcheck.serialize import dumps_bytes
from agentcheck.verdict import (
    GateResult,
    Outcome,
    PlannedScenario,
    RunMetrics,
    RunPlan,
    RunSummary,
    ScenarioResult,
    SuiteStamp,
)

Disabled = Literal[False]


@dataclass(slots=True)
class RunOptions:
    """Everything a run can be told; `None` means "as the project file says"."""

    cwd: Path = field(default_factory=Path.cwd)
    config: Path | None = None
    paths: list[Path] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    concurrency: int | None = None
    timeout_s: float | None = None
    fail_fast: bool = False
    json_path: Path | Disabled | None = None
    junit_path: Path | Disabled | None = None
    junit_strict: bool | None = None
    reporters: list[Reporter] = field(default_factory=list)
    drills: list[str] = field(default_factory=list)
    """Drill kinds to run every selected scenario under as well (`--drill`)."""
    trials: int | None = None
    """Runs per scenario, overriding `trials:` in scenarios and config (docs/release-decisions.md)."""
    shard: tuple[int, int] | None = None
    """(i, n): run only the scenarios hashed to shard i of n."""
    baseline: Path | None = None
    """A results file to compare with; its regressions feed `max_regressions` and the reports."""
    md_path: Path | Disabled | None = None
    """Markdown summary; None: only to $GITHUB_STEP_SUMMARY when set."""
    record: str = "none"
    """Model cassettes: `none` replays (default), `all` re-records, `missing` records only misses,
    `offline` replays only (a scenario without a cassette misses instead of calling the model)."""


@dataclass(slots=True)
class Prepared:
    project: Project
    scenarios: list[Scenario]
    setup: object  # agentcheck.runner.execute.RunSetup, imported lazily
    baseline: object = None  # agentcheck.release.compare.Side, loaded before anything runs
    suite: SuiteStamp | None = None  # which suite the scenarios came from (agentcheck.release.suite)


def load_suite(options: RunOptions) -> tuple[Project, list[Scenario]]:
    """Load the project and every scenario under the given paths; raises BadInput."""
    from agentcheck.collect import collect, find_config, load_project
    from agentcheck.collect.select import gate_selection_problems
    from agentcheck.drillspec import drill_tags

    config = options.config or find_config(options.cwd)
    project = load_project(config, cwd=options.cwd)
    paths = [p if p.is_absolute() else options.cwd / p for p in options.paths] or None
    scenarios = collect(project, paths)
    if paths is None:  # only the whole suite tells a gate's typo from a gate this subset does not touch
        problems = gate_selection_problems(project.gates, scenarios, drill_tags())
        if problems:
            raise BadInput(problems)
    return project, scenarios


def load(options: RunOptions) -> tuple[Project, list[Scenario]]:
    """Load the project and its scenarios, then apply the selection (and the shard); raises BadInput,
    also when nothing is selected (saying so when the project's excluded tags are why)."""
    project, scenarios, _ = load_stamped(options)
    return project, scenarios


def load_stamped(options: RunOptions) -> tuple[Project, list[Scenario], SuiteStamp | None]:
    """`load`, with the stamp of the suite the scenarios came from (the results document records it,
    so `agentcheck merge` can place shards' results without collecting the suite again)."""
    from agentcheck.collect import select
    from agentcheck.collect.select import nothing_selected
    from agentcheck.drills import expand
    from agentcheck.release.suite import fingerprint, suite_stamp

    project, scenarios = load_suite(options)
    excluded = project.defaults.exclude_tags
    chosen = select(scenarios, keywords=options.keywords, tags=options.tags, exclude_tags=excluded)
    if not chosen:
        raise BadInput(
            [nothing_selected(scenarios, keywords=options.keywords, tags=options.tags, exclude_tags=excluded)]
        )
    selected = chosen
    if options.shard is not None:  # an empty shard is fine: a small suite on a wide CI matrix
        from agentcheck.release.shard import shard_of

        chosen = [s for s in chosen if shard_of(s.id, options.shard[1]) == options.shard[0]]
    planned = expand(chosen, options.drills, project)
    paths = [_absolute(p, options.cwd) for p in options.paths]
    stamp = suite_stamp(fingerprint(project, paths=paths, keywords=options.keywords, tags=options.tags,
                                    drills=options.drills), selected, planned)
    return project, planned, stamp


def _handler_problems(project: Project, scenarios: list[Scenario]) -> list[Problem]:
    """Fixture handlers (`handler: module:function`) are imported now, so one that does not import
    is bad input before anything runs, like an agent's entrypoint."""
    from agentcheck.agents.base import AgentLoadError
    from agentcheck.agents.python import load_callable

    problems: list[Problem] = []
    seen: set[str] = set()
    for scenario in scenarios:
        for tool, fixture in scenario.fixtures.items():
            target = getattr(fixture, "handler", None)
            if target is None or target in seen:
                continue
            seen.add(target)
            try:
                load_callable(target, project.root)
            except AgentLoadError as exc:
                src = fixture.source or scenario.source
                message = exc.message.replace("entrypoint", "fixture handler", 1)
                problems.append(Problem(src.file, src.line, f"fixtures.{tool}.handler", message, exc.hint))
    return problems


def build_setup(
    project: Project, scenarios: list[Scenario], timeout_s: float | None = None, record: str | None = None
) -> object:
    """Build every agent the scenarios use, reporting all that fail to load as bad input."""
    from agentcheck.agents.base import Agent, AgentLoadError, build_agent
    from agentcheck.runner.execute import RunSetup
    from agentcheck.runner.gateway import ToolCatalog

    agents: dict[str, Agent] = {}
    problems: list[Problem] = []
    for name in sorted({s.agent for s in scenarios}):
        spec = project.agents[name]
        try:
            agents[name] = build_agent(spec, project.root)
        except AgentLoadError as exc:
            src = spec.source
            problems.append(
                Problem(
                    src.file if src else None,
                    src.line if src else None,
                    f"agents.{name}.entrypoint" if spec.entrypoint else f"agents.{name}",
                    exc.message,
                    exc.hint,
                )
            )
    problems += _handler_problems(project, scenarios)
    from agentcheck.collect.modelconf import unpriced_problems

    problems += unpriced_problems(project, scenarios)
    if problems:
        raise BadInput(problems)
    policy_for = None
    if project.policy is not None:
        from agentcheck.policy.engine import policy_factory

        policy_for = policy_factory(project.policy, {name: spec.version for name, spec in project.agents.items()})
    from agentcheck.llm.hub import start_hub

    return RunSetup(
        catalog=ToolCatalog(project.tools),
        agents=agents,
        agent_specs=project.agents,
        default_timeout_s=timeout_s or project.defaults.timeout_s,
        policy_for=policy_for,  # type: ignore[arg-type]  # RunPolicy.decide returns the same shape
        model_hub=start_hub(project, scenarios, record) if record is not None else None,
    )


def prepare(options: RunOptions) -> Prepared:
    project, scenarios, suite = load_stamped(options)
    baseline = load_baseline(options, project, {s.id for s in scenarios})
    return Prepared(project, scenarios, build_setup(project, scenarios, options.timeout_s, options.record), baseline,
                    suite)


def load_baseline(options: RunOptions, project: Project, selected: set[str]) -> object:
    """The `--baseline` side, or None; refused (BadInput) before anything runs when it cannot be read
    or none of its scenarios is `selected` (another suite's)."""
    if options.baseline is None:
        return None
    from agentcheck.release.compare import load_side, refuse_other_suite

    side = load_side(_absolute(options.baseline, options.cwd), role="baseline", label=str(options.baseline),
                     handoff_tools=project.handoff_tools)
    refuse_other_suite(side, selected, "selected here")
    return side


def _absolute(path: Path, cwd: Path) -> Path:
    return path if path.is_absolute() else cwd / path


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _file_reporters(project: Project, options: RunOptions, log: ResultLog) -> list[Reporter]:
    from agentcheck.report.json_report import JsonReporter
    from agentcheck.report.junit import JUnitReporter

    settings = project.reports
    reporters: list[Reporter] = []

    def choose(flag: Path | Disabled | None, configured: Path | None) -> Path | None:
        if flag is False:
            return None
        if flag is not None:
            return flag if flag.is_absolute() else options.cwd / flag
        return configured

    json_path = choose(options.json_path, settings.json if settings else project.root / "reports/results.json")
    junit_path = choose(options.junit_path, settings.junit if settings else project.root / "reports/junit.xml")
    strict = options.junit_strict if options.junit_strict is not None else bool(settings and settings.junit_strict)
    if json_path is not None:
        reporters.append(JsonReporter(json_path, log))
    if junit_path is not None:
        reporters.append(JUnitReporter(junit_path, log, strict=strict, project_root=project.root))
    if project.policy is not None:
        from agentcheck.report.least_privilege import LeastPrivilegeReporter

        report_dir = settings.dir if settings else project.root / "reports"
        reporters.append(LeastPrivilegeReporter(report_dir / "least-privilege.md", project))
    from agentcheck.report.markdown import release_reporters

    md = options.md_path
    reporters += release_reporters(project, log, _absolute(md, options.cwd) if isinstance(md, Path) else md)
    return reporters


class _Session:
    """One run's moving parts: who to tell about results, and the numbers the gates need."""

    def __init__(self, prepared: Prepared, options: RunOptions):
        self.prepared = prepared
        self.options = options
        project = prepared.project
        self.run_id = _new_run_id()
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        report_dir = project.reports.dir if project.reports else project.root / "reports"
        self.run_dir = report_dir / "runs" / self.run_id
        self.log = ResultLog(self.run_dir / "results.jsonl")
        self.file_reporters = _file_reporters(project, options, self.log)
        self.metrics: list[RunMetrics] = []
        self.stats: list[ScenarioStats] | None = None
        """Per-scenario stats, when the session folds them as results come (merge); else at the end."""
        self.redactor = Redactor.of(project.redact)
        self.not_started = 0
        self.t0 = time.perf_counter()

    @property
    def reporters(self) -> list[Reporter]:
        return [self.log, *self.file_reporters, *self.options.reporters]

    def plan(self) -> RunPlan:
        project = self.prepared.project
        return RunPlan(
            run_id=self.run_id,
            started_at=self.started_at,
            project_root=project.root.as_posix(),
            run_dir=self.run_dir.as_posix(),
            scenarios=self.planned(),
            concurrency=self.concurrency,
            suite=self.prepared.suite,
        )

    def planned(self) -> list[PlannedScenario]:
        return [
            PlannedScenario(s.index, s.id, s.source.file, s.source.line, s.agent, s.tags, self.trials_of(s),
                            s.min_pass_rate)
            for s in self.prepared.scenarios
        ]

    def required(self) -> dict[str, float]:
        """Each scenario's criterion (`min_pass_rate`) by id."""
        return {s.id: s.min_pass_rate for s in self.prepared.scenarios}

    @property
    def concurrency(self) -> int:
        return max(1, self.options.concurrency or self.prepared.project.defaults.concurrency)

    def deliver(self, result: ScenarioResult) -> None:
        encoded = self.redact(result)  # judged on real values; nothing unredacted leaves the process
        self.metrics.append(RunMetrics.of(result, self.prepared.project.handoff_tools))  # its message too
        self.log.result(result, encoded)
        for reporter in (*self.file_reporters, *self.options.reporters):
            reporter.result(result)

    def redact(self, result: ScenarioResult) -> bytes | None:
        """Mask secrets in `result` before any reporter sees it. Most results hold nothing to mask,
        and the redactor can prove that from their JSON text far faster than it can walk them: then
        the result is left as it is and that text (the results stream's line) is returned."""
        if self.redactor.can_vouch:
            encoded = dumps_bytes(result)
            if self.redactor.leaves_json_alone(encoded.decode("utf-8", "replace")):
                return encoded
        self.redactor.inplace(result)
        return None

    unreportable: tuple[type[BaseException], ...] = ()
    """Errors while delivering after which no report is written (see _Replay)."""

    def background(self) -> list[Reporter]:
        """Reporters to finish in worker processes (see _finish_all): none for a run, which may have
        threads of its own running (a process with threads is not safely forked)."""
        return []

    def trials_of(self, scenario: Scenario) -> int:
        """--trials, else the scenario's `trials:`, else `defaults.trials`; a skipped scenario runs once."""
        if scenario.skip is not None:
            return 1
        return self.options.trials or scenario.trials or self.prepared.project.defaults.trials

    async def run_one(self, scenario: Scenario, trial: int = 1) -> ScenarioResult:
        from agentcheck.judge.judge import judge, skipped_result
        from agentcheck.runner.execute import execute

        if scenario.skip is not None:
            return skipped_result(scenario)
        trace = await execute(scenario, self.prepared.setup, trial=trial)  # type: ignore[arg-type]
        return judge(scenario, trace)

    def begin(self) -> None:
        """Called before the reporters start: work that may begin meanwhile (merge: reading shards)."""

    def abandon(self) -> None:
        """Called when the reporters failed to start (or Ctrl-C): stop what `begin` started."""

    def drive(self) -> None:
        """Deliver every result: run the agents, concurrently, on an event loop."""
        import asyncio  # here: merge and rejudge deliver saved results and need no loop

        asyncio.run(self.run_all())

    async def run_all(self) -> None:
        from agentcheck.runner.scheduler import run_bounded

        jobs = [(s, t) for s in self.prepared.scenarios for t in range(1, self.trials_of(s) + 1)]
        self.not_started = await run_bounded(
            jobs,
            lambda job: self.run_one(*job),
            concurrency=self.concurrency,
            on_result=self.deliver,
            stop_when=(lambda r: r.outcome in (Outcome.FAILED, Outcome.ERROR)) if self.options.fail_fast else None,
        )

    def summary(self, interrupted: bool) -> RunSummary:
        from agentcheck.drills.metrics import security_summary
        from agentcheck.judge.gates import evaluate_gates
        from agentcheck.release.report import build_release

        project = self.prepared.project
        required = self.required()
        release = build_release(
            self.metrics,
            required,
            run_id=self.run_id,
            baseline=self.prepared.baseline,  # type: ignore[arg-type]
            rules=project.regressions,
            stats=self.stats,
        )
        regressions = release.comparison.regressions if release.comparison is not None else None
        gates = evaluate_gates(project.gates, self.metrics, regressions=regressions, required=required,
                               stats=release.scenarios)
        counts = {o.value: 0 for o in Outcome}
        for m in self.metrics:
            counts[m.outcome.value] += 1
        if interrupted:
            code = ExitCode.INTERRUPTED
            planned = sum(p.trials for p in self.planned())
            self.not_started = max(planned - len(self.metrics), self.not_started)
            gates = [unfinished(gate, len(self.metrics), planned) for gate in gates]
        else:
            code = ExitCode.OK if all(g.passed for g in gates) else ExitCode.GATES_FAILED
        return RunSummary(
            run_id=self.run_id,
            started_at=self.started_at,
            duration_s=round(time.perf_counter() - self.t0, 3),
            counts=counts,
            gates=gates,
            exit_code=int(code),
            results_file=self.log.path.as_posix(),
            interrupted=interrupted,
            not_run=self.not_started,
            security=security_summary(self.metrics),
            release=release,
        )


def unfinished(gate: GateResult, finished: int, planned: int) -> GateResult:
    """`gate` of a run stopped before its end (Ctrl-C): not passed, whatever the finished runs
    measured (its checks keep their figures), so no report (the JSON, JUnit's gates suite) shows an
    interrupted run as a release that passed its gates."""
    from dataclasses import replace

    reason = f"not passed: the run was interrupted ({finished} of {planned} runs finished)"
    return replace(gate, passed=False, message=f"{reason}; {gate.message}" if gate.message else reason)


def run(options: RunOptions) -> RunSummary:
    """Run the selected scenarios and return the summary; raises BadInput before anything runs."""
    return run_prepared(prepare(options), options)


def run_prepared(prepared: Prepared, options: RunOptions, session: _Session | None = None) -> RunSummary:
    """Run what `prepare` loaded (the run phase alone, for callers that load once). `session` lets
    rejudge and merge (agentcheck.replay) feed saved results through the same reporters and gates."""
    session = session or _Session(prepared, options)
    outputs = {"results stream": session.log.path}
    outputs.update(
        {getattr(r, "kind", "report"): r.path for r in session.file_reporters if getattr(r, "path", None) is not None}
    )
    problems = output_problems(outputs)
    if problems:
        raise BadInput(problems)
    plan = session.plan()
    token = activate(session.redactor)  # messages built while judging mask secrets before shortening values
    session.begin()
    try:
        with deferred_interrupt() as held:  # the reporters start whole: a Ctrl-C meanwhile ends the run after
            for reporter in session.reporters:
                reporter.start(plan)
            stopped = held.take()
    except BaseException:
        session.abandon()
        raise
    interrupted = refused = False
    try:
        if stopped:  # (an interrupted run with nothing run: its reports say so)
            session.abandon()
            raise KeyboardInterrupt
        session.drive()
    except KeyboardInterrupt:
        interrupted = True
    except BadInput:  # found while delivering (merge or rejudge reading a damaged file): no reports of it
        refused = True
        raise
    except Exception as exc:
        refused = isinstance(exc, session.unreportable)  # (reports of a merge that lost a shard would lie)
        raise
    finally:
        hub = getattr(prepared.setup, "model_hub", None)
        if hub is not None:
            hub.close()
        if refused:
            session.log.close()
        else:
            summary = session.summary(interrupted)
            finish_all(session.reporters, summary, session.background(), [session.log, *session.file_reporters])
        reset_redactor(token)
    return summary
