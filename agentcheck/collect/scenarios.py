"""Collect scenario files into ready-to-run :class:`~agentcheck.scenario.Scenario` objects.

A suite is judged before any money is spent on a model, so collection checks everything it can
(shapes, names of agents and tools, fixture files, matchers, regexes, schemas, duplicate ids) across
all files, and raises one BadInput listing every problem rather than stopping at the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcheck.collect.drills import build_drills, state_problems, state_tables, with_drill_expectations
from agentcheck.collect.errors import in_reading_order, json_schema_problem, salvage
from agentcheck.collect.files import scenario_files
from agentcheck.collect.fixtures import DocContext, FixtureFiles, build_fixtures
from agentcheck.collect.policy import build_scenario_policy
from agentcheck.collect.project import to_budget, unknown_tool_hint
from agentcheck.collect.yamlsource import KeyPath, load_yaml_file
from agentcheck.gcpause import collector_paused
from agentcheck.matchers import ArgMode, Matcher
from agentcheck.problems import BadInput, Problem, did_you_mean, display_path
from agentcheck.project import AgentSpec, Project
from agentcheck.scenario import (
    AgentInput,
    CallExpectation,
    Expectations,
    OutputExpectations,
    Scenario,
    SourceRef,
    ToolExpectations,
    ToolFixture,
    TrajectoryMode,
)

if TYPE_CHECKING:
    from agentcheck.collect.models import ExpectModel, OutputExpectModel, ScenarioModel, ToolsExpectModel

_NO_ID = "missing-id"  # stands in for a missing id while the rest of a malformed scenario is checked


def collect(project: Project, paths: list[Path] | None = None) -> list[Scenario]:
    """Every scenario under `paths` (files or folders; default: the project's defaults.paths)."""
    collector = _Collector(project)
    # Collection builds millions of small acyclic objects that all stay alive; the cyclic garbage
    # collector would rescan them again and again for nothing (about a fifth of the load time).
    with collector_paused():
        for file, explicit in scenario_files(project, paths, collector.problems):
            collector.load_file(file, explicit)
    if collector.problems:
        raise BadInput(in_reading_order(collector.problems))
    return collector.scenarios


@dataclass(slots=True)
class _FileDefaults:
    """What a `scenarios:` file gives every scenario in it."""

    agent: str | None = None
    agent_ok: bool = True
    tags: tuple[str, ...] = ()
    fixture_files: list[dict[str, ToolFixture]] = field(default_factory=list)
    fixtures: dict[str, ToolFixture] = field(default_factory=dict)
    broken: bool = False
    """The file-level keys are malformed: check scenario shapes only, to avoid follow-on noise."""


class _Collector:
    def __init__(self, project: Project):
        self.project = project
        self.problems: list[Problem] = []
        self.scenarios: list[Scenario] = []
        self.ids: dict[str, SourceRef] = {}
        self.catalog = list(project.tools)
        self.fixture_files = FixtureFiles(project, self.problems, self._check_catalog_tool)

    # --- files ---------------------------------------------------------------------------------------

    def load_file(self, path: Path, explicit: bool) -> None:
        display = display_path(path, self.project.root)
        docs, problems = load_yaml_file(path, display)
        self.problems.extend(problems)
        if not docs:
            if not problems:
                self.problems.append(
                    Problem(display, None, "", "empty file", "write a scenario, or `scenarios: [...]`, or delete it")
                )
            return
        if all(_is_fixture_file(doc.data) for doc in docs):
            if explicit:
                self.problems.append(
                    Problem(
                        display,
                        docs[0].line(()),
                        "",
                        "this is a shared fixture file (only `fixtures:`), not a scenario file",
                        "list it in a scenario's `fixture_files` instead",
                    )
                )
            return  # a shared fixture file inside a scenario folder
        for doc in docs:
            ctx = DocContext(display, doc, self.problems)
            if not isinstance(doc.data, dict):
                ctx.add((), "expected a scenario (a mapping with `id`) or a mapping with `scenarios: [...]`")
            elif "scenarios" in doc.data:
                self._suite(path, ctx)
            else:
                self._scenario(doc.data, path, ctx, (), _FileDefaults())

    def _suite(self, path: Path, ctx: DocContext) -> None:
        from pydantic import ValidationError

        from agentcheck.collect.errors import validation_problems
        from agentcheck.collect.models import SuiteFileModel

        data = ctx.doc.data
        items = data["scenarios"]
        defaults = _FileDefaults()
        header_data = {**data, "scenarios": [] if isinstance(items, list) else items}
        try:
            header = SuiteFileModel.model_validate(header_data)
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, file=ctx.file, lines=ctx.doc.lines, model=SuiteFileModel))
            header = salvage(SuiteFileModel, header_data, exc, {"scenarios": []})
            defaults.broken = header is None
        if header is not None:
            defaults.agent = header.agent
            if header.agent is not None:
                defaults.agent_ok = self._known_agent(header.agent, ctx, ("agent",))
            elif "agent" in data:  # malformed, already reported: check the scenarios without it
                defaults.agent, defaults.agent_ok = "", False
            defaults.tags = tuple(header.tags)
            for index, ref in enumerate(header.fixture_files):
                resolved = self.fixture_files.resolve(ref, path, ctx, ("fixture_files", index))
                if resolved is not None:
                    defaults.fixture_files.append(resolved)
            for tool in header.fixtures:
                self._check_catalog_tool(tool, ctx, ("fixtures", tool))
            defaults.fixtures = build_fixtures(header.fixtures, ctx, ("fixtures",))
        if isinstance(items, list):
            for index, item in enumerate(items):
                self._scenario(item, path, ctx, ("scenarios", index), defaults)

    # --- one scenario --------------------------------------------------------------------------------

    def _scenario(self, data: Any, path: Path, ctx: DocContext, base: KeyPath, defaults: _FileDefaults) -> None:
        from pydantic import ValidationError

        from agentcheck.collect.errors import validation_problems
        from agentcheck.collect.models import ScenarioModel

        salvaged = False
        try:
            model = ScenarioModel.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(
                validation_problems(
                    exc,
                    file=ctx.file,
                    lines=ctx.doc.lines,
                    model=ScenarioModel,
                    base=base,
                    root_keys=("scenarios",) if not base else (),
                )
            )
            # Keep checking what is well-formed, so one run reports every problem.
            model = salvage(ScenarioModel, data, exc, {"id": _NO_ID, "input": ""}) if isinstance(data, dict) else None
            if model is None:
                return
            salvaged = True
        source = ctx.source((*base, "id"))
        if model.id != _NO_ID and (not salvaged or data.get("id") == model.id):
            first = self.ids.get(model.id)
            if first is not None:
                ctx.add(
                    (*base, "id"),
                    f"duplicate scenario id '{model.id}' (also at {first})",
                    "scenario ids must be unique",
                )
            else:
                self.ids[model.id] = source
        if defaults.broken:
            return
        before = len(self.problems)
        if salvaged and model.agent is None and "agent" in data:
            agent = None  # malformed, already reported
        else:
            agent = self._agent(model, defaults, ctx, base)
        visible = self._visible_tools(agent)

        def check_tool(tool: str, at: KeyPath) -> None:
            self._check_tool(tool, agent, visible, ctx, at)

        # Later sources override earlier ones per tool: fixture files (the file's, then the
        # scenario's), then the file's own fixtures, then the scenario's.
        fixtures: dict[str, ToolFixture] = {}
        for shared in defaults.fixture_files:
            fixtures.update(shared)
        own: list[dict[str, ToolFixture]] = []
        for index, ref in enumerate(model.fixture_files):
            resolved = self.fixture_files.resolve(ref, path, ctx, (*base, "fixture_files", index))
            fixtures.update(resolved or {})
            own.append(resolved or {})
        state = self.fixture_files.merged_state([*defaults.fixture_files, *own])
        state.update(state_tables(model.state))
        fixtures.update(defaults.fixtures)
        for tool in model.fixtures:
            check_tool(tool, (*base, "fixtures", tool))
        fixtures.update(build_fixtures(model.fixtures, ctx, (*base, "fixtures")))
        expect = self._expect(model.expect, ctx, (*base, "expect"), check_tool)
        drills = build_drills(
            model.drills,
            model.id,
            ctx,
            (*base, "drills"),
            lambda m, at: self._expect(m, ctx, at, check_tool),
            check_tool,
        )
        state_problems(fixtures, state, expect, ctx, base)
        policy = build_scenario_policy(model.policy, ctx, (*base, "policy"), check_tool, self.project.policy)
        if salvaged or len(self.problems) > before or agent is None:
            return
        from agentcheck.collect.models import SCENARIO_EXTENSIONS

        self.scenarios.append(
            Scenario(
                id=model.id,
                agent=agent.name,
                input=_input(model),
                source=source,
                description=model.description,
                tags=tuple(dict.fromkeys((*defaults.tags, *model.tags))),
                fixtures=fixtures,
                expect=expect,
                timeout_s=model.timeout_s,
                skip=_skip(model.skip),
                index=len(self.scenarios),
                extensions={n: getattr(model, n) for n in SCENARIO_EXTENSIONS if n in model.model_fields_set},
                seed=model.seed,
                state=state,
                drills=drills,
                policy=policy,
                trials=model.trials,
                min_pass_rate=model.min_pass_rate if model.min_pass_rate is not None else 1.0,
            )
        )

    def _agent(self, model: ScenarioModel, defaults: _FileDefaults, ctx: DocContext, base: KeyPath) -> AgentSpec | None:
        agents = self.project.agents
        if model.agent is not None:
            return agents[model.agent] if self._known_agent(model.agent, ctx, (*base, "agent")) else None
        if defaults.agent is not None:
            return agents[defaults.agent] if defaults.agent_ok else None
        if len(agents) == 1:
            return next(iter(agents.values()))
        if not agents:
            ctx.add(base, "the project defines no agents", "add one under `agents:` in agentcheck.yaml")
        else:
            ctx.add(
                base,
                f"no agent given, and the project has several: {', '.join(agents)}",
                "add `agent: <name>` to the scenario (or to the file, next to `scenarios:`)",
            )
        return None

    def _known_agent(self, name: str, ctx: DocContext, path: KeyPath) -> bool:
        agents = list(self.project.agents)
        if name in self.project.agents:
            return True
        hint = did_you_mean(name, agents) or (
            f"known agents: {', '.join(agents)}" if agents else "the project defines no agents"
        )
        ctx.add(path, f"unknown agent '{name}'", hint)
        return False

    def _visible_tools(self, agent: AgentSpec | None) -> list[str] | None:
        """The tools a scenario may name: the agent's list, else the catalog; None: no catalog to check."""
        if agent is not None and agent.tools is not None:
            return list(agent.tools)
        return self.catalog or None

    def _check_tool(
        self, tool: str, agent: AgentSpec | None, visible: list[str] | None, ctx: DocContext, path: KeyPath
    ) -> None:
        if visible is None or tool in visible:
            return
        if agent is not None and agent.tools is not None and tool in self.project.tools:
            ctx.add(
                path,
                f"tool '{tool}' is not available to agent '{agent.name}'",
                f"its tools (agents.{agent.name}.tools): {', '.join(visible) or 'none'}",
            )
            return
        ctx.add(path, f"unknown tool '{tool}'", unknown_tool_hint(tool, visible))

    def _check_catalog_tool(self, tool: str, ctx: DocContext, path: KeyPath) -> None:
        if self.catalog and tool not in self.project.tools:
            ctx.add(path, f"unknown tool '{tool}'", unknown_tool_hint(tool, self.catalog))

    # --- expectations -------------------------------------------------------------------------------

    def _expect(self, model: ExpectModel | None, ctx: DocContext, base: KeyPath, check_tool: Any) -> Expectations:
        if model is None:
            return Expectations(budget=self.project.budget)
        expect = Expectations(
            tools=_tools(model.tools, ctx, (*base, "tools"), check_tool) if model.tools is not None else None,
            output=_output(model.output, ctx, (*base, "output")) if model.output is not None else None,
            budget=to_budget(model.budget).merged_over(self.project.budget),
            advisory=frozenset(model.advisory),
            model_route=model.model_route,
        )
        return with_drill_expectations(expect, model, ctx, base, self.project.tools)


def _tools(model: ToolsExpectModel, ctx: DocContext, base: KeyPath, check_tool: Any) -> ToolExpectations:
    from agentcheck.collect.models import LongCallModel

    default_mode = ArgMode(model.args)
    calls = None
    if model.calls is not None:
        built = []
        for index, call in enumerate(model.calls):
            path = (*base, "calls", index)
            if isinstance(call, LongCallModel):
                tool, args, given = call.tool, call.args, "args" in call.model_fields_set
                mode = ArgMode(call.args_mode) if call.args_mode else default_mode
                spec_path = (*path, "args")
            else:
                ((tool, args),) = call.items()
                given, mode, spec_path = True, default_mode, (*path, tool)
            check_tool(tool, path)
            # An explicit null means "any arguments"; left out (long form) means "no arguments".
            matcher: Matcher | None = None
            if mode is not ArgMode.IGNORE and not (given and args is None):
                matcher = ctx.matcher(args if given else {}, mode, spec_path)
            built.append(CallExpectation(tool, matcher, ctx.source(path)))
        calls = tuple(built)
    for index, tool in enumerate(model.not_called):
        check_tool(tool, (*base, "not_called", index))
    counts = {}
    for tool, spec in model.counts.items():
        check_tool(tool, (*base, "counts", tool))
        count = ctx.matcher(spec, ArgMode.PARTIAL, (*base, "counts", tool))
        if count is not None:
            counts[tool] = count
    return ToolExpectations(
        mode=TrajectoryMode(model.mode),
        arg_mode=default_mode,
        calls=calls,
        not_called=tuple(model.not_called),
        counts=counts,
    )


def _texts(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _output(model: OutputExpectModel, ctx: DocContext, base: KeyPath) -> OutputExpectations:
    regexes = _texts(model.regex)
    for index, pattern in enumerate(regexes):
        try:
            re.compile(pattern)
        except re.error as exc:
            at = (*base, "regex") if isinstance(model.regex, str) else (*base, "regex", index)
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            ctx.add(at, f"invalid regex {pattern!r}: {exc.msg}{where}")
    if model.json_schema is not None:
        found = json_schema_problem(model.json_schema)
        if found is not None:
            where, message = found
            ctx.add((*base, "json_schema", *where), message)
    return OutputExpectations(
        contains=_texts(model.contains),
        not_contains=_texts(model.not_contains),
        regex=regexes,
        equals=model.equals,
        has_equals="equals" in model.model_fields_set,
        json_schema=dict(model.json_schema) if model.json_schema is not None else None,
        case_sensitive=model.case_sensitive,
    )


def _input(model: ScenarioModel) -> AgentInput:
    if isinstance(model.input, str):
        return AgentInput(messages=[{"role": "user", "content": model.input}], data=None)
    messages = [{"role": m.role, "content": m.content} for m in model.input.messages or ()]
    return AgentInput(messages=messages, data=model.input.data)


def _skip(value: str | bool | None) -> str | None:
    if value is True:
        return "skipped"
    return value or None


def _is_fixture_file(data: Any) -> bool:
    """A document holding only `fixtures:` is a shared fixture file, not a scenario."""
    return isinstance(data, dict) and "fixtures" in data and set(data) <= {"fixtures", "state"}
