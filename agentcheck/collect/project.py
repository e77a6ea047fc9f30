"""Find and load ``agentcheck.yaml`` into a :class:`~agentcheck.project.Project`.

Everything wrong with the file is reported at once (shape errors from the pydantic model, then
cross-references: agent kinds and tools, tool parameter schemas, gate names), each problem pointing
at its line. Pydantic and jsonschema are imported here lazily: finding the config must stay cheap,
loading it may not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcheck.collect.modelconf import cassette_settings, model_problems, model_settings, price_table
from agentcheck.collect.yamlsource import KeyPath, YamlDoc, load_yaml_file, render_path
from agentcheck.problems import BadInput, Problem, did_you_mean, display_path
from agentcheck.project import (
    AgentSpec,
    Defaults,
    GateSpec,
    Project,
    RedactSettings,
    ReportSettings,
    RiskTier,
    Selection,
    ToolSpec,
)
from agentcheck.reliability import RegressionRules
from agentcheck.scenario import Budget, SourceRef

if TYPE_CHECKING:
    from agentcheck.collect.fields import BudgetModel
    from agentcheck.collect.project_models import ProjectModel
    from agentcheck.policy.spec import Policy

CONFIG_NAMES: tuple[str, ...] = ("agentcheck.yaml", "agentcheck.yml")


def find_config(start: Path) -> Path | None:
    """The project file in `start` or the nearest folder above it, like git finds `.git`."""
    start = start.absolute()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def load_project(config: Path | None, *, cwd: Path, check_tool_schemas: bool = True) -> Project:
    """Load the project file `config` (found from `cwd` when None). Raises BadInput with every problem.

    `check_tool_schemas=False` skips checking that tool parameter schemas are valid JSON Schema (and
    importing jsonschema, 0.1 s): for `agentcheck merge`, which runs no tools and takes its fast path
    only when the file's bytes are those the shard runs, of this same agentcheck, checked in full."""
    config = _locate(config, cwd)
    root = config.absolute().parent.resolve()
    display = display_path(config, root)
    docs, problems = load_yaml_file(config, display)
    if problems and not docs:
        raise BadInput(problems)
    doc = _single_document(docs, display)
    return _build(doc, config, root, display, problems, check_tool_schemas)


def _locate(config: Path | None, cwd: Path) -> Path:
    if config is None:
        found = find_config(cwd)
        if found is None:
            raise BadInput(
                [
                    Problem(
                        None,
                        None,
                        "",
                        f"no agentcheck.yaml found in {cwd} or any folder above it",
                        "run `agentcheck init` to create one, or pass --config PATH",
                    )
                ]
            )
        return found
    config = config if config.is_absolute() else cwd / config
    if config.is_dir():
        inside = next((config / name for name in CONFIG_NAMES if (config / name).is_file()), None)
        if inside is None:
            raise BadInput([Problem(config.as_posix(), None, "", "no agentcheck.yaml in this folder")])
        return inside
    if not config.is_file():
        raise BadInput(
            [
                Problem(
                    config.as_posix(),
                    None,
                    "",
                    "config file not found",
                    "check the --config path, or run `agentcheck init` to create one",
                )
            ]
        )
    return config


def _single_document(docs: list[YamlDoc], display: str) -> YamlDoc:
    if not docs:
        raise BadInput([Problem(display, None, "", "the project file is empty", "it needs at least `version: 1`")])
    if len(docs) > 1:
        raise BadInput([Problem(display, docs[1].line(()), "", "expected one YAML document, found several")])
    if not isinstance(docs[0].data, dict):
        raise BadInput([Problem(display, docs[0].line(()), "", "expected a mapping (key: value) at the top")])
    return docs[0]


def _build(doc: YamlDoc, config: Path, root: Path, display: str, yaml_problems: list[Problem],
           check_tool_schemas: bool = True) -> Project:
    """Validate, cross-check and build; YAML-level problems (duplicate keys) join the others."""
    from pydantic import ValidationError

    from agentcheck.collect.errors import in_reading_order, salvage, validation_problems
    from agentcheck.collect.project_models import ProjectModel

    problems = list(yaml_problems)
    try:
        model = ProjectModel.model_validate(doc.data)
    except ValidationError as exc:
        problems += validation_problems(exc, file=display, lines=doc.lines, model=ProjectModel)
        # Check the well-formed rest too, so one run reports every problem.
        salvaged = salvage(ProjectModel, doc.data, exc, {"version": 1})
        if salvaged is None:
            raise BadInput(in_reading_order(problems)) from None
        model = salvaged
    problems += _check(model, doc, display, check_tool_schemas)
    policy = _policy(model, doc, display, root, problems)
    model_problems(model, root, lambda path, message, hint: problems.append(
        Problem(display, doc.line(path), render_path(path), message, hint)))
    if problems:
        raise BadInput(in_reading_order(problems))

    def source(*path: str | int) -> SourceRef:
        return SourceRef(display, doc.line(path))

    tools = {
        name: ToolSpec(
            name=name,
            description=spec.description,
            parameters=dict(spec.parameters),
            writes=spec.writes,
            risk=RiskTier(spec.risk),
            source=source("tools", name),
            timeout_s=spec.timeout_s,
            idempotency_key=spec.idempotency_key,
            handoff=spec.handoff,
        )
        for name, spec in model.tools.items()
    }
    agents = {
        name: AgentSpec(
            name=name,
            kind=spec.kind,
            entrypoint=spec.entrypoint,
            version=spec.version,
            tools=tuple(spec.tools) if spec.tools is not None else None,
            options=dict(spec.options),
            timeout_s=spec.timeout_s,
            description=spec.description or "",
            source=source("agents", name, "entrypoint") if spec.entrypoint else source("agents", name),
            model=model_settings(spec, root),
        )
        for name, spec in model.agents.items()
    }
    defaults = Defaults(
        timeout_s=model.defaults.timeout_s,
        concurrency=model.defaults.concurrency,
        paths=tuple(model.defaults.paths),
        exclude_tags=tuple(model.defaults.exclude_tags),
        trials=model.defaults.trials,
        source=SourceRef(display, doc.lines.get(("defaults", "paths"))),  # (no line: the default paths)
    )
    gates = [
        GateSpec(
            name=gate.name,
            select=Selection(
                tags=tuple(gate.select.tags),
                agents=tuple(gate.select.agents),
                scenarios=tuple(gate.select.scenarios),
                segments=tuple(gate.select.segments),
            ),
            thresholds=gate.thresholds(),
            source=source("gates", index),
            k=gate.k,
        )
        for index, gate in enumerate(model.gates)
    ]
    return Project(
        root=root,
        config_file=config.absolute(),
        agents=agents,
        tools=tools,
        defaults=defaults,
        budget=to_budget(model.budget),
        gates=gates,
        reports=_reports(model, root),
        redact=RedactSettings(tuple(model.redact.patterns), tuple(model.redact.keys), model.redact.defaults),
        regressions=RegressionRules(**model.regressions.model_dump()),
        extensions={name: getattr(model, name) for name in _extension_names() if name in model.model_fields_set},
        policy=policy,
        pricing=price_table(model),
        cassettes=cassette_settings(model),
    )


def _policy(model: ProjectModel, doc: YamlDoc, display: str, root: Path, problems: list[Problem]) -> Policy | None:
    """The compiled policy section, written here or in its own file (its problems join the others),
    or None when there is none."""
    if model.policy is None:
        return None
    from agentcheck.collect.fixtures import DocContext
    from agentcheck.collect.policy import build_policy, load_policy_file

    section, ctx = model.policy, DocContext(display, doc, problems)
    if isinstance(section, str):
        loaded = load_policy_file(section, root, ctx)
        if loaded is None:
            return None
        section, ctx = loaded
    catalog = {name: ToolSpec(name, parameters=dict(t.parameters), writes=t.writes, risk=RiskTier(t.risk))
               for name, t in model.tools.items()}
    return build_policy(section, ctx, catalog, list(model.agents))


def to_budget(model: BudgetModel | None) -> Budget:
    """A validated budget section as the Budget dataclass (aliases folded into canonical names)."""
    return Budget(**model.caps()) if model is not None else Budget()


def _extension_names() -> tuple[str, ...]:
    from agentcheck.collect.fields import PROJECT_EXTENSIONS

    return PROJECT_EXTENSIONS


def _reports(model: ProjectModel, root: Path) -> ReportSettings:
    reports = model.reports
    directory = root / reports.dir

    def output(value: Any, given: bool, default: str) -> Path | None:
        if not given:
            return directory / default
        if value is None or value is False:
            return None
        return root / value

    return ReportSettings(
        dir=directory,
        junit=output(reports.junit, "junit" in reports.model_fields_set, "junit.xml"),
        json=output(reports.json_file, "json_file" in reports.model_fields_set, "results.json"),
        junit_strict=reports.junit_strict,
    )


def _check(model: ProjectModel, doc: YamlDoc, display: str, check_tool_schemas: bool = True) -> list[Problem]:
    """Cross-references the model cannot check alone."""
    from agentcheck.collect.errors import json_schema_problem
    from agentcheck.collect.fields import KNOWN_AGENT_KINDS

    problems: list[Problem] = []

    def problem(path: KeyPath, message: str, hint: str | None = None) -> None:
        problems.append(Problem(display, doc.line(path), render_path(path), message, hint))

    # Names as written, so an entry dropped for a shape problem is not also reported as unknown.
    raw = doc.data
    catalog = list(raw["tools"]) if isinstance(raw.get("tools"), dict) else list(model.tools)
    agent_names = list(raw["agents"]) if isinstance(raw.get("agents"), dict) else list(model.agents)
    for name, agent in model.agents.items():
        if agent.kind not in KNOWN_AGENT_KINDS:
            problem(
                ("agents", name, "kind"),
                f"unknown agent kind '{agent.kind}'",
                did_you_mean(agent.kind, KNOWN_AGENT_KINDS) or f"known kinds: {', '.join(KNOWN_AGENT_KINDS)}",
            )
        elif agent.kind == "python" and agent.entrypoint is None and "entrypoint" not in raw["agents"][name]:
            problem(
                ("agents", name),
                f"agent '{name}' of kind python needs an entrypoint",
                "add `entrypoint: module:function`",
            )
        for index, tool in enumerate(agent.tools or ()):
            if tool not in catalog:
                problem(("agents", name, "tools", index), f"unknown tool '{tool}'", unknown_tool_hint(tool, catalog))
    for name, tool_spec in model.tools.items() if check_tool_schemas else ():
        found = json_schema_problem(tool_spec.parameters)
        if found is not None:
            where, message = found
            problem(("tools", name, "parameters", *where), message)
    seen: dict[str, int] = {}
    for index, gate in enumerate(model.gates):
        if gate.name in seen:
            first = doc.line(("gates", seen[gate.name]))
            problem(("gates", index, "name"), f"duplicate gate name '{gate.name}' (first at line {first})")
        else:
            seen[gate.name] = index
        for position, agent_name in enumerate(gate.select.agents):
            if agent_name not in agent_names:
                problem(
                    ("gates", index, "select", "agents", position),
                    f"unknown agent '{agent_name}'",
                    did_you_mean(agent_name, agent_names) or _known("agents", agent_names),
                )
    return problems


def unknown_tool_hint(tool: str, catalog: list[str]) -> str:
    """Did-you-mean among the catalog, else what the catalog holds."""
    if not catalog:
        return "the project's tool catalog (`tools:` in agentcheck.yaml) is empty"
    return did_you_mean(tool, catalog) or _known("tools", catalog)


def _known(what: str, names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:10]) + (", ..." if len(names) > 10 else "")
    return f"known {what}: {shown}" if names else f"no {what} are defined"
