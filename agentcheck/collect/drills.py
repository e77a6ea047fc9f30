"""The drill-related parts of a scenario: faults, chances and latency distributions in fixture
responses, stateful fixtures and tables, end-state and resilience expectations, and `drills:`.

Kept apart from the core loaders so those stay small: they call in here with the validated models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentcheck.collect.yamlsource import KeyPath
from agentcheck.drillspec import DrillSpec, InjectionGoal, Payload, ResilienceExpectations
from agentcheck.faults import FaultError, LatencyDist, build_fault
from agentcheck.matchers import ArgMode
from agentcheck.payloads import canary_for
from agentcheck.project import ToolSpec
from agentcheck.scenario import Expectations, FixtureResponse
from agentcheck.state import StateOp, StateTable, TableExpectation

if TYPE_CHECKING:
    from agentcheck.collect.drill_models import DrillsModel
    from agentcheck.collect.fixtures import DocContext
    from agentcheck.collect.models import (
        ExpectModel,
        FixtureMapModel,
        LatencyModel,
        ResponseModel,
        StateTableModel,
    )


def response_extras(model: ResponseModel, response: FixtureResponse, ctx: DocContext, path: KeyPath) -> FixtureResponse:
    """`response` with the model's chance, latency distribution and fault applied."""
    if model.chance is not None or model.latency is not None:
        response = replace(response, chance=model.chance, latency=_latency(model.latency, ctx, (*path, "latency")))
    if model.fault is None:
        return response
    if isinstance(model.fault, str):
        kind, options = model.fault, {}
    else:
        options = model.fault.model_dump(exclude_none=True, exclude_defaults=True)
        kind = options.pop("kind", model.fault.kind)
    try:
        return build_fault(kind, options, response)
    except FaultError as exc:
        at: KeyPath = (*path, "fault")
        if exc.key not in (None, "kind") and not isinstance(model.fault, str):
            at = (*path, "fault", exc.key)
        if exc.key == "returns":
            at = (*path, "returns")
        ctx.add(at, exc.message)
        return response


def _latency(model: LatencyModel | None, ctx: DocContext, path: KeyPath) -> LatencyDist | None:
    if model is None:
        return None
    needs = {
        "uniform": ("min", "max"),
        "normal": ("mean", "sd"),
        "lognormal": ("median", "sigma"),
        "exponential": ("mean",),
    }[model.dist]
    missing = [name for name in needs if getattr(model, name) is None]
    if missing:
        ctx.add(path, f"a {model.dist} latency needs {' and '.join(needs)}", f"add {', '.join(missing)}")
        return None
    values = [float(getattr(model, name)) for name in needs]
    return LatencyDist(model.dist, *values)


def state_op(spec: FixtureMapModel) -> StateOp | None:
    if spec.state is None:
        return None
    ((op, table),) = spec.state.ops().items()
    return StateOp(
        op=op,
        table=table,
        key_arg=spec.state.key,
        where=tuple(spec.state.where),
        id_template=spec.state.id_template,
        set=dict(spec.state.set),
    )


def state_tables(tables: dict[str, StateTableModel]) -> dict[str, StateTable]:
    return {name: StateTable(t.key, tuple(dict(row) for row in t.rows)) for name, t in tables.items()}


def write_facts(tools: dict[str, ToolSpec]) -> dict[str, Any]:
    """The catalog facts duplicate-write judging needs: write tools and their idempotency keys."""
    return {
        "write_tools": frozenset(n for n, t in tools.items() if t.writes),
        "idempotency_keys": {n: t.idempotency_key for n, t in tools.items() if t.idempotency_key},
    }


def with_drill_expectations(
    expect: Expectations, model: ExpectModel | None, ctx: DocContext, base: KeyPath, tools: dict[str, ToolSpec]
) -> Expectations:
    """`expect` plus the resilience and end-state expectations of `model`."""
    if model is None:
        return expect
    resilience = None
    if any(
        v is not None and v != {} and v != []
        for v in (model.max_retries, model.max_retries_per_tool, model.handoff, model.no_duplicate_writes,
                  model.respect_retry_after)
    ):
        resilience = ResilienceExpectations(
            max_retries=model.max_retries,
            max_retries_per_tool=dict(model.max_retries_per_tool),
            handoff=model.handoff,
            handoff_tools=tuple(model.handoff_tools),
            no_duplicate_writes=bool(model.no_duplicate_writes),
            respect_retry_after=bool(model.respect_retry_after),
            **write_facts(tools),
        )
    state = None
    if model.state is not None:
        state = {}
        for table, spec in model.state.items():
            at = (*base, "state", table)

            def compile_all(specs: list[Any], key: str, at: KeyPath = at) -> tuple[Any, ...]:
                built = (ctx.matcher(s, ArgMode.PARTIAL, (*at, key, i)) for i, s in enumerate(specs))
                return tuple(m for m in built if m is not None)

            count = None
            if "count" in spec.model_fields_set:
                count = ctx.matcher(spec.count, ArgMode.PARTIAL, (*at, "count"))
            state[table] = TableExpectation(
                equals=tuple(dict(r) for r in spec.equals) if spec.equals is not None else None,
                contains=compile_all(spec.contains, "contains"),
                absent=compile_all(spec.absent, "absent"),
                count=count,
                unchanged=spec.unchanged,
            )
    return replace(expect, resilience=resilience, state=state)


def build_drills(
    drills: DrillsModel | None,
    scenario_id: str,
    ctx: DocContext,
    base: KeyPath,
    build_expect: Callable[[ExpectModel, KeyPath], Expectations],
    check_tool: Callable[[str, KeyPath], None],
) -> dict[str, DrillSpec]:
    """The scenario's `drills:` as DrillSpecs; their `expect` built like the scenario's own, every
    tool they name checked against the agent's tools."""
    out: dict[str, DrillSpec] = {}
    for kind, model in (drills.by_kind() if drills is not None else {}).items():
        path = (*base, kind)
        for index, tool in enumerate(model.tools):
            check_tool(tool, (*path, "tools", index))
        for index, place in enumerate(model.plant):
            check_tool(place.tool, (*path, "plant", index, "tool"))
        if model.target is not None:
            check_tool(model.target.tool, (*path, "target", "tool"))
        for index, payload in enumerate(model.payloads):
            if payload.goal is not None:
                check_tool(payload.goal.tool, (*path, "payloads", index, "goal", "tool"))
        options: dict[str, Any] = {
            k: v for k, v in (("retry_after", model.retry_after), ("status", model.status), ("age_s", model.age_s))
            if v is not None
        }
        if model.families:
            options["families"] = tuple(model.families)
        if model.plant:
            options["plant"] = tuple((p.tool, p.field) for p in model.plant)
        if model.target is not None:
            options["target"] = (model.target.tool, model.target.args)
        payloads = []
        for index, payload in enumerate(model.payloads):
            canary = canary_for(scenario_id, "authored", str(index))
            goal = None
            if payload.goal is not None:
                args = None
                if payload.goal.args is not None:
                    args = ctx.matcher(payload.goal.args, ArgMode.PARTIAL, (*path, "payloads", index, "goal", "args"))
                goal = InjectionGoal(payload.goal.tool, args)
            text = payload.text.replace("{canary}", canary)
            payloads.append(Payload("authored", text, canary, goal, tuple(payload.markers)))
        if payloads:
            options["payloads"] = tuple(payloads)
        expect = build_expect(model.expect, (*path, "expect")) if model.expect is not None else None
        out[kind] = DrillSpec(kind=kind, tools=tuple(model.tools), expect=expect, options=options)
    return out


def state_problems(
    fixtures: dict[str, Any], tables: dict[str, StateTable], expect: Expectations, ctx: DocContext, base: KeyPath
) -> None:
    """Stateful fixtures and end-state expectations must name declared tables: a typo would
    otherwise read an empty table and pass or fail for the wrong reason."""
    from agentcheck.problems import Problem, did_you_mean

    def hint(name: str) -> str:
        return did_you_mean(name, list(tables)) or (
            f"declared tables: {', '.join(tables)}" if tables else "declare it under `state:` (scenario or file)"
        )

    for tool, fixture in fixtures.items():
        op = fixture.state
        if op is not None and op.table not in tables:
            where = fixture.source
            ctx.problems.append(Problem(where.file if where else ctx.file, where.line if where else None,
                                        f"fixtures.{tool}.state", f"unknown state table '{op.table}'", hint(op.table)))
    for table in expect.state or {}:
        if table not in tables:
            ctx.add((*base, "expect", "state", table), f"unknown state table '{table}'", hint(table))
