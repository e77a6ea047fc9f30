"""Turn validated `policy:` sections into a :class:`~agentcheck.policy.spec.Policy` (project) and a
:class:`~agentcheck.policy.spec.ScenarioPolicy` (scenario), checking every name and compiling every
condition, so a typo is a problem with file:line before anything runs — never a silent allow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from agentcheck.collect.fixtures import DocContext
from agentcheck.collect.yamlsource import KeyPath, render_path
from agentcheck.policy.expr import Condition, ExprError, compile_condition
from agentcheck.policy.spec import (
    Decision,
    DecisionExpectation,
    FlowRule,
    Handoff,
    KillSwitch,
    Policy,
    PolicyExpectations,
    Principal,
    Rule,
    ScenarioPolicy,
    ScopeGrant,
    SpendCaps,
    ToolPolicy,
)
from agentcheck.problems import Problem, did_you_mean
from agentcheck.project import ToolSpec

if TYPE_CHECKING:
    from agentcheck.collect.policy_models import PolicyModel, ScenarioPolicyModel

_DECISIONS = {"allow": Decision.ALLOWED, "approval_required": Decision.APPROVAL_REQUIRED, "block": Decision.BLOCKED}


def condition(text: str | None, ctx: DocContext, path: KeyPath) -> Condition | None:
    """Compile a CEL condition; a bad one becomes a problem at its line (and column in the message)."""
    if text is None:
        return None
    try:
        return compile_condition(text)
    except ExprError as exc:
        line = ctx.doc.line(path)
        if line is not None:
            line += exc.line - 1
        column = f" (column {exc.column} of the expression)" if exc.column else ""
        ctx.problems.append(
            Problem(
                ctx.file,
                line,
                render_path(path[ctx.hidden :]),
                exc.message + column,
                "see docs/policy.md for the variables and functions conditions can use",
            )
        )
        return None


def _names(ctx: DocContext, names: Iterable[str], known: list[str], path: KeyPath, what: str) -> None:
    for index, name in enumerate(names):
        if name not in known:
            hint = did_you_mean(name, known) or (f"known {what}s: {', '.join(sorted(known))}" if known else None)
            ctx.add((*path, index), f"unknown {what} '{name}'", hint)


def build_policy(model: PolicyModel, ctx: DocContext, catalog: dict[str, ToolSpec], agents: list[str]) -> Policy:
    base: KeyPath = ("policy",)
    tool_names = list(catalog)
    principals = {}
    for name, spec in model.agents.items():
        at = (*base, "agents", name)
        if name not in agents:
            ctx.add(
                at, f"unknown agent '{name}'", did_you_mean(name, agents) or "policy agents are the project's agents"
            )
        _names(ctx, spec.allow or (), tool_names, (*at, "allow"), "tool")
        _names(ctx, spec.block, tool_names, (*at, "block"), "tool")
        grants = tuple(
            ScopeGrant(g, source=ctx.source((*at, "scopes", i)))
            if isinstance(g, str)
            else ScopeGrant(g.scope, g.expires_after_steps, g.expires_after_s, ctx.source((*at, "scopes", i)))
            for i, g in enumerate(spec.scopes)
        )
        principals[name] = Principal(
            name,
            spec.owner,
            spec.version,
            grants,
            tuple(spec.allow) if spec.allow is not None else None,
            tuple(spec.block),
            ctx.source(at),
        )
    tools = {}
    for name, spec in model.tools.items():
        at = (*base, "tools", name)
        if name not in catalog:
            ctx.add(at, f"unknown tool '{name}'", did_you_mean(name, tool_names) or "policy tools are catalog tools")
            continue
        tool = catalog[name]
        declared = tool.parameters.get("properties", {}) if isinstance(tool.parameters, dict) else {}
        for key, arg in (
            ("intent", model.intent_arg if spec.intent else None),
            ("idempotency_key", spec.idempotency_key),
            ("spends", spec.spends),
        ):
            if arg is not None and arg not in declared:
                ctx.add(
                    (*at, key),
                    f"tool '{name}' has no argument '{arg}' in its parameters",
                    f"declare `{arg}` under tools.{name}.parameters.properties so calls can carry it",
                )
        tools[name] = ToolPolicy(
            name,
            tool.risk,
            tool.writes,
            tuple(spec.scopes),
            spec.intent,
            spec.idempotency_key,
            spec.spends,
            spec.untrusted_output,
            ctx.source(at),
        )
    rules, seen = [], set()
    for index, rule in enumerate(model.rules):
        at = (*base, "rules", index)
        _unique(ctx, seen, rule.id, (*at, "id"))
        _names(ctx, rule.tools, tool_names, (*at, "tools"), "tool")
        _names(ctx, rule.agents, agents, (*at, "agents"), "agent")
        rules.append(
            Rule(
                rule.id,
                _DECISIONS[rule.decision],
                tuple(rule.tools),
                tuple(rule.agents),
                condition(rule.when, ctx, (*at, "when")),
                rule.approvals,
                rule.reason,
                ctx.source(at),
            )
        )
    flows = []
    for index, flow in enumerate(model.flows):
        at = (*base, "flows", index)
        _unique(ctx, seen, flow.id, (*at, "id"))
        _names(ctx, flow.tools, tool_names, (*at, "tools"), "tool")
        _names(ctx, flow.after, tool_names, (*at, "after"), "tool")
        _names(ctx, [flow.requires_prior] if flow.requires_prior else [], tool_names, (*at, "requires_prior"), "tool")
        flows.append(
            FlowRule(
                flow.id,
                tuple(flow.tools),
                tuple(flow.after),
                flow.after_untrusted,
                flow.requires_prior,
                tuple(flow.same_args),
                condition(flow.when, ctx, (*at, "when")),
                flow.reason,
                ctx.source(at),
            )
        )
    _names(ctx, model.handoff.tools, tool_names, (*base, "handoff", "tools"), "tool")
    return Policy(
        agents=principals,
        tools=tools,
        rules=tuple(rules),
        flows=tuple(flows),
        spend=SpendCaps(model.spend.max_model_cost_usd, model.spend.max_money_moved, ctx.source((*base, "spend"))),
        handoff=Handoff(tuple(model.handoff.tools), tuple(model.handoff.markers)),
        intent_arg=model.intent_arg,
        source=ctx.source(base),
    )


def _unique(ctx: DocContext, seen: set[str], rule_id: str, path: KeyPath) -> None:
    if rule_id in seen:
        ctx.add(path, f"duplicate rule id '{rule_id}'", "rule ids name decisions in traces; make them unique")
    seen.add(rule_id)


def build_scenario_policy(
    model: ScenarioPolicyModel | None,
    ctx: DocContext,
    base: KeyPath,
    check_tool: Callable[[str, KeyPath], None],
    project_policy: Policy | None,
) -> ScenarioPolicy | None:
    """The scenario's approver, kill switch and assertions (None when it has no `policy:` section)."""
    if model is None:
        return None
    if project_policy is None:
        ctx.add(
            base,
            "the scenario has a `policy:` section but the project defines no policy",
            "add `policy:` to agentcheck.yaml (docs/policy.md)",
        )
    kill = None
    if model.autonomy == "off":
        kill = KillSwitch(1, (), True, ctx.source((*base, "autonomy")))
    elif model.kill_switch is not None:
        spec = model.kill_switch
        at = (*base, "kill_switch")
        kill = KillSwitch(spec.at_step, tuple(spec.revoke), spec.autonomy == "off", ctx.source(at))
        for index, entry in enumerate(spec.revoke):
            if ":" not in entry and "*" not in entry:  # a tool name (scopes have a colon)
                check_tool(entry, (*at, "revoke", index))
    expect = None
    if model.expect is not None:
        decisions = []
        for index, item in enumerate(model.expect.decisions):
            at = (*base, "expect", "decisions", index)
            if len(item) != 1:
                ctx.add(at, f"expected one {{tool: decision}} pair, got {len(item)}")
                continue
            ((tool, expected),) = item.items()
            check_tool(tool, (*at, tool))
            decisions.append(DecisionExpectation(tool, expected, ctx.source(at)))
        expect = PolicyExpectations(
            tuple(decisions), model.expect.no_violations, model.expect.handoff, model.expect.stops_after_kill
        )
        handoff = project_policy.handoff if project_policy else Handoff()
        if model.expect.handoff is not None and not (handoff.tools or handoff.markers):
            ctx.add(
                (*base, "expect", "handoff"),
                "the project policy declares no hand-off tools or markers",
                "add `policy.handoff: {tools: [...], markers: [...]}` to agentcheck.yaml",
            )
    approver = model.approver
    answers = (approver,) if isinstance(approver, str) else tuple(approver or ())
    return ScenarioPolicy(
        answers, kill, expect, project_policy.handoff if project_policy else Handoff(), ctx.source(base)
    )


def load_policy_file(ref: str, root: Path, ctx: DocContext) -> tuple[PolicyModel, DocContext] | None:
    """`policy: FILE` in agentcheck.yaml: the file's top level is the policy section itself. Returns
    the validated section and a context whose problems and sources point into that file (paths as
    written there), or None after adding the problems (`ctx` is agentcheck.yaml's)."""
    from pydantic import ValidationError

    from agentcheck.collect.errors import salvage, validation_problems
    from agentcheck.collect.policy_models import PolicyModel
    from agentcheck.collect.yamlsource import YamlDoc, load_yaml_file
    from agentcheck.problems import display_path

    base = root.resolve()
    target = (root / ref).resolve()
    if not target.is_relative_to(base):
        ctx.add(("policy",), f"policy file '{ref}' is outside the project root", f"keep the policy file under {base}")
        return None
    if not target.is_file():
        ctx.add(
            ("policy",),
            f"policy file '{ref}' not found",
            f"looked for {display_path(target, base)}; the path is relative to the project file",
        )
        return None
    display = display_path(target, base)
    docs, problems = load_yaml_file(target, display)
    ctx.problems.extend(problems)
    if problems:
        return None
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        ctx.problems.append(
            Problem(
                display,
                docs[1].line(()) if len(docs) > 1 else (docs[0].line(()) if docs else None),
                "",
                "expected one mapping: the policy section (agents, tools, rules, flows, spend)",
                "write the keys of `policy:` at the top level of this file",
            )
        )
        return None
    doc = docs[0]
    try:
        model = PolicyModel.model_validate(doc.data)
    except ValidationError as exc:
        ctx.problems.extend(validation_problems(exc, file=display, lines=doc.lines, model=PolicyModel))
        salvaged = salvage(PolicyModel, doc.data, exc, {})  # check the well-formed rest too: every problem at once
        if salvaged is None:
            return None
        model = salvaged
    as_section = YamlDoc({"policy": doc.data}, {("policy", *path): line for path, line in doc.lines.items()})
    return model, DocContext(display, as_section, ctx.problems, hidden=1)
