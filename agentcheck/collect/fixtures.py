"""Mocked-tool fixtures: validated fixture specs -> ToolFixture, and shared fixture files.

Shared fixture files are loaded, validated and compiled once per collection however many scenarios
list them, and their problems are reported once, against the fixture file itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcheck.collect.errors import split_matcher_path
from agentcheck.collect.yamlsource import KeyPath, YamlDoc, load_yaml_file, render_path
from agentcheck.matchers import ArgMode, Matcher, MatcherError, compile_matcher
from agentcheck.problems import Problem, display_path
from agentcheck.project import Project
from agentcheck.scenario import FixtureResponse, FixtureRule, SourceRef, ToolErrorSpec, ToolFixture
from agentcheck.state import StateTable

if TYPE_CHECKING:
    from agentcheck.collect.models import ResponseModel, RuleModel


@dataclass(slots=True)
class DocContext:
    """One YAML document being turned into domain objects: where problems and sources point."""

    file: str
    doc: YamlDoc
    problems: list[Problem]
    hidden: int = 0
    """Leading keys of every path that the file itself does not have (a policy kept in its own file
    is read as the `policy` section, but problems show paths as written in that file)."""

    def add(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.file, self.doc.line(path), render_path(path[self.hidden :]), message, hint))

    def source(self, path: KeyPath) -> SourceRef:
        return SourceRef(self.file, self.doc.line(path))

    def matcher(self, spec: Any, mode: ArgMode, path: KeyPath) -> Matcher | None:
        """Compile `spec`; a bad spec becomes a problem at the operator's own key path."""
        try:
            return compile_matcher(spec, mode)
        except MatcherError as exc:
            self.add((*path, *split_matcher_path(exc.path)), exc.message, exc.hint)
            return None


def build_fixtures(specs: dict[str, Any], ctx: DocContext, base: KeyPath) -> dict[str, ToolFixture]:
    """Validated `fixtures:` (tool name -> list of rules or match/sequence/default) as ToolFixtures."""
    from agentcheck.collect.drills import state_op
    from agentcheck.collect.models import FixtureMapModel

    out = {}
    for tool, spec in specs.items():
        path = (*base, tool)
        if isinstance(spec, FixtureMapModel):
            rules = _rules(spec.match, ctx, (*path, "match"))
            sequence = tuple(_response(r, ctx, (*path, "sequence", i)) for i, r in enumerate(spec.sequence))
            default = _response(spec.default, ctx, (*path, "default")) if spec.default is not None else None
        else:
            rules, sequence, default = _rules(spec, ctx, path), (), None
        state = handler = None
        if isinstance(spec, FixtureMapModel):
            state, handler = state_op(spec), spec.handler
        out[tool] = ToolFixture(tool, rules, sequence, default, source=ctx.source(path), state=state, handler=handler)
    return out


def _rules(rules: list[RuleModel], ctx: DocContext, path: KeyPath) -> tuple[FixtureRule, ...]:
    out = []
    for index, rule in enumerate(rules):
        rule_path = (*path, index)
        when = None
        if rule.when is not None:
            when = ctx.matcher(rule.when, ArgMode.PARTIAL, (*rule_path, "when"))
        out.append(FixtureRule(when, _response(rule, ctx, rule_path)))
    return tuple(out)


def _response(response: ResponseModel, ctx: DocContext, path: KeyPath) -> FixtureResponse:
    from agentcheck.collect.drills import response_extras

    error = response.error
    built = FixtureResponse(
        value=response.returns,
        error=ToolErrorSpec(error.error_class, error.message, error.status) if error is not None else None,
        latency_ms=response.latency_ms,
        source=ctx.source(path),
    )
    return response_extras(response, built, ctx, path)


@dataclass(slots=True)
class FixtureFiles:
    """Loads shared fixture files once each, and checks references to them stay in the project."""

    project: Project
    problems: list[Problem]
    check_tool: Any
    """Callable(tool name, DocContext, key path) reporting tools missing from the catalog."""
    _cache: dict[Path, dict[str, ToolFixture] | None] = field(default_factory=dict)
    _states: dict[int, dict[str, StateTable]] = field(default_factory=dict)
    """id(fixtures of a file) -> the file's `state:` tables (the cache keeps those dicts alive)."""

    def merged_state(self, shared: list[dict[str, ToolFixture]]) -> dict[str, StateTable]:
        """The `state:` tables of the given fixture files, later files overriding earlier ones."""
        out: dict[str, StateTable] = {}
        for fixtures in shared:
            out.update(self._states.get(id(fixtures), {}))
        return out

    def resolve(self, ref: str, scenario_file: Path, ctx: DocContext, path: KeyPath) -> dict[str, ToolFixture] | None:
        """The fixtures of the file `ref` (relative to `scenario_file`), or None after a problem."""
        root = self.project.root.resolve()
        target = (scenario_file.parent / ref).resolve()
        if not target.is_relative_to(root):
            ctx.add(path, f"fixture file '{ref}' is outside the project root", f"keep fixture files under {root}")
            return None
        if target.is_dir():
            ctx.add(path, f"fixture file '{ref}' is a folder", "name a fixtures file in it, e.g. "
                    f"'{ref.rstrip('/')}/{next((f.name for f in sorted(target.glob('*.y*ml'))), 'tools.yaml')}'")
            return None
        if not target.is_file():
            ctx.add(
                path,
                f"fixture file '{ref}' not found",
                f"looked for {display_path(target, root)}; paths are relative to the scenario file",
            )
            return None
        if target not in self._cache:
            self._cache[target] = self._load(target, root)
        return self._cache[target]

    def _load(self, path: Path, root: Path) -> dict[str, ToolFixture] | None:
        from pydantic import ValidationError

        from agentcheck.collect.errors import salvage, validation_problems
        from agentcheck.collect.models import FixturesFileModel

        display = display_path(path, root)
        docs, problems = load_yaml_file(path, display)
        self.problems.extend(problems)
        if problems:
            return None
        if len(docs) != 1 or not isinstance(docs[0].data, dict):
            line = docs[1].line(()) if len(docs) > 1 else docs[0].line(()) if docs else None
            self.problems.append(
                Problem(display, line, "", "a fixture file is one mapping: `fixtures: {tool_name: spec}`")
            )
            return None
        doc = docs[0]
        before = len(self.problems)
        try:
            model = FixturesFileModel.model_validate(doc.data)
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, file=display, lines=doc.lines, model=FixturesFileModel))
            model = salvage(FixturesFileModel, doc.data, exc, {"fixtures": {}})
            if model is None:
                return None
        ctx = DocContext(display, doc, self.problems)
        for tool in model.fixtures:
            self.check_tool(tool, ctx, ("fixtures", tool))
        fixtures = build_fixtures(model.fixtures, ctx, ("fixtures",))
        if model.state:
            from agentcheck.collect.drills import state_tables

            self._states[id(fixtures)] = state_tables(model.state)
        return fixtures if len(self.problems) == before else None
