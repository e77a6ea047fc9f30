"""Pydantic models of the three YAML file kinds: the project file, scenario files, fixture files.

These exist only at the boundary: they check shapes and types (and become the JSON Schemas editors
use for completion, so every field has a description), then the loaders turn them into the plain
dataclasses of ``agentcheck.scenario`` / ``agentcheck.project``. Cross-references (does this tool
exist? this agent?) are checked by the loaders, which know the project.

Leaves are strict (``"10"`` is not a number) so the loader accepts exactly what the JSON Schema
does. Unions use :func:`either`, which picks the member by the value's shape, so an error is
reported against the one form the user evidently meant instead of once per form.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    model_validator,
)

from agentcheck.collect.fields import (  # noqa: F401 - re-exported: callers import them from here
    ENTRYPOINT_PATTERN,
    ID_PATTERN,
    KNOWN_AGENT_KINDS,
    PROJECT_EXTENSIONS,
    SCENARIO_EXTENSIONS,
    Amount,
    AnyValue,
    Bool,
    BudgetModel,
    Count,
    MatcherSpec,
    Rate,
    Seconds,
    Str,
    StrOrList,
    Text,
    _fail,
    _Model,
    _shape,
    either,
)
from agentcheck.collect.policy_models import ScenarioPolicyModel
from agentcheck.scenario import CHECK_GROUPS

if TYPE_CHECKING:  # linked at the end of this module (link_drill_models): the two name each other
    from agentcheck.collect.drill_models import (
        DrillsModel,
        FaultSpec,
        LatencyModel,
        StateOpModel,
        StateTableModel,
        TableExpectModel,
    )


# --- scripted model turns (docs/models.md) -----------------------------------------------------------


class ScriptTurnModel(_Model):
    """One scripted model turn: tool calls, final text, or both."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["content"]}, {"required": ["tool_calls"]}]})

    content: Str | None = Field(None, description="The text the model answers.")
    tool_calls: list[ShortCall] = Field(default_factory=list, description="Calls as {tool_name: arguments}.")
    input_tokens: Count | None = Field(None, description="Reported prompt tokens (counted when left out).")
    output_tokens: Count | None = Field(None, description="Reported completion tokens (counted when left out).")

    @model_validator(mode="after")
    def _says_something(self) -> ScriptTurnModel:
        if self.content is None and not self.tool_calls:
            raise _fail("script_turn", "a scripted turn needs `content`, `tool_calls`, or both")
        return self


# --- fixtures ---------------------------------------------------------------------------------------


_ANSWER_SHAPE: dict[str, Any] = {
    "anyOf": [{"required": ["returns"]}, {"required": ["error"]}, {"required": ["fault"]}],
    "not": {"anyOf": [{"required": ["returns", "error"]}, {"required": ["fault", "error"]}]},
}


class ErrorModel(_Model):
    """An error the mocked tool raises instead of returning a value."""

    error_class: Text = Field(alias="class", description="Error class name, e.g. NotFound.")
    message: Str = Field(description="Error message.")
    status: Annotated[int, Strict()] | None = Field(None, description="Status code, e.g. 404.")


class ResponseModel(_Model):
    """One answer of a mocked tool: `returns` or `error`, or a simulated `fault` (docs/drills.md)."""

    model_config = ConfigDict(json_schema_extra=_ANSWER_SHAPE)

    returns: AnyValue = Field(None, description="The value the tool returns (any JSON value, null too).")
    error: ErrorModel | None = Field(None, description="The error the tool raises.")
    latency_ms: Amount = Field(0.0, description="Simulated latency before answering, in milliseconds.")
    fault: FaultSpec | None = Field(
        None, description="A simulated fault (see docs/drills.md); uses `returns` as its base."
    )
    chance: Rate | None = Field(None, description="Probability (seeded per run) that this answer applies, 0..1.")
    latency: LatencyModel | None = Field(None, description="A seeded latency distribution, instead of latency_ms.")

    @model_validator(mode="after")
    def _one_answer(self) -> ResponseModel:
        has_returns = "returns" in self.model_fields_set
        if has_returns and self.error is not None:
            raise _fail("response_shape", "give either `returns` or `error`, not both")
        if self.fault is not None and self.error is not None:
            raise _fail("response_shape", "give either `fault` or `error`, not both")
        if not has_returns and self.error is None and self.fault is None:
            raise _fail("response_shape", "a response needs `returns: <value>`, `error: {class, message}` or `fault`")
        return self


class RuleModel(ResponseModel):
    """A response given when the call's arguments match `when` (any call when `when` is left out)."""

    model_config = ConfigDict(json_schema_extra=_ANSWER_SHAPE)

    when: MatcherSpec = Field(
        None, description="Matcher over the call's arguments (partial: extra arguments are allowed)."
    )


class FixtureMapModel(_Model):
    """A mocked tool answering by rules, then by call number, then with a default."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    match: list[RuleModel] = Field(default_factory=list, description="Rules; the first whose `when` matches answers.")
    sequence: list[ResponseModel] = Field(
        default_factory=list, description="Answers by call number of this tool when no rule matched."
    )
    default: ResponseModel | None = Field(None, description="The answer when nothing else applies.")
    state: StateOpModel | None = Field(None, description="Answer from the in-memory state (after match/sequence).")
    handler: Str | None = Field(
        None, pattern=ENTRYPOINT_PATTERN, description="'module:function' answering function(args, tables)."
    )

    @model_validator(mode="after")
    def _answers_something(self) -> FixtureMapModel:
        if not (self.match or self.sequence or self.default or self.state or self.handler):
            raise _fail(
                "fixture_empty", "a fixture needs at least one of `match`, `sequence`, `default`, `state`, `handler`"
            )
        return self


FixtureSpec = either(
    _shape,
    "expected a list of rules, or a mapping with match/sequence/default",
    list=list[RuleModel],
    dict=FixtureMapModel,
)
Fixtures = dict[str, FixtureSpec]


class FixturesFileModel(_Model):
    """A shared fixture file, listed in scenarios' `fixture_files`."""

    fixtures: Fixtures = Field(description="Mocked tools, by tool name.")
    state: dict[str, StateTableModel] = Field(
        default_factory=dict, description="In-memory tables for stateful fixtures, for the scenarios using this file."
    )


# --- scenarios --------------------------------------------------------------------------------------


class MessageModel(_Model):
    """One chat message."""

    role: Literal["system", "user", "assistant"] = Field(description="Who speaks.")
    content: Str = Field(description="What is said.")


class InputModel(_Model):
    """A conversation and/or structured data for the agent."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["messages"]}, {"required": ["data"]}]})

    messages: list[MessageModel] | None = Field(None, min_length=1, description="The conversation so far.")
    data: AnyValue = Field(None, description="Structured input, passed to the agent as written.")

    @model_validator(mode="after")
    def _has_something(self) -> InputModel:
        if not self.messages and "data" not in self.model_fields_set:
            raise _fail("input_shape", "input needs `messages`, `data`, or both")
        return self


InputSpec = either(
    _shape, "expected a string (one user message) or a mapping with messages/data", str=Str, dict=InputModel
)

ArgsMode = Literal["exact", "partial", "ignore"]


class LongCallModel(_Model):
    """An expected call in long form, allowing a per-call argument mode."""

    tool: Text = Field(description="Tool name.")
    args: Annotated[MatcherSpec, AfterValidator(_call_args)] = Field(
        None, description="Expected arguments (values or `$`-operators); null: any arguments.")
    args_mode: ArgsMode | None = Field(None, description="How to compare arguments for this call.")


_KINDS = {str: "the text", int: "the number", float: "the number", bool: "the boolean"}


def _call_args(args: Any) -> Any:
    """A call's arguments: a mapping (values or `$`-operators) or null for any arguments. Tool calls
    always carry an object, so a list or a scalar here could never match: refused where it is written."""
    if args is not None and not isinstance(args, dict):
        kind = "a list" if isinstance(args, list) else f"{_KINDS.get(type(args), 'the value')} {args!r}"
        raise _fail("call_args", f"a call's arguments are a mapping ({{name: value}}) or null for any arguments,"
                                 f" got {kind}")
    return args


def _single_key(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) != 1:
        raise _fail(
            "call_shape",
            f"an expected call is {{tool_name: args}} with exactly one key, got {len(value)} keys"
            " (use {tool: name, args: ...} for the long form)",
        )
    _call_args(next(iter(value.values())))
    return value


ShortCall = Annotated[
    dict[str, Any],
    AfterValidator(_single_key),
    WithJsonSchema(
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "not": {"required": ["tool"]},
            "additionalProperties": {"type": ["object", "null"]},
            "description": "{tool_name: expected arguments}; null arguments mean any arguments.",
        }
    ),
]


def _call_shape(value: Any) -> str | None:
    if isinstance(value, LongCallModel) or (isinstance(value, dict) and "tool" in value):
        return "long"
    return "short" if isinstance(value, dict) else None


CallSpec = either(
    _call_shape, "expected {tool_name: args} or {tool: name, args: ...}", long=LongCallModel, short=ShortCall
)


class ToolsExpectModel(_Model):
    """Expectations about the tool calls the agent makes."""

    mode: Literal["strict", "ordered", "unordered", "subset", "superset"] = Field(
        "ordered", description="How `calls` is compared with the actual calls."
    )
    args: ArgsMode = Field("partial", description="How expected arguments are compared.")
    calls: list[CallSpec] | None = Field(None, description="Expected calls; left out, the sequence is not judged.")
    not_called: list[Str] = Field(default_factory=list, description="Tools that must not be called.")
    counts: dict[str, MatcherSpec] = Field(
        default_factory=dict, description="Tool name -> matcher over its call count, e.g. {$lte: 1}."
    )


class OutputExpectModel(_Model):
    """Expectations about the agent's final output."""

    contains: StrOrList = Field(default_factory=list, description="Text(s) the output must contain.")
    not_contains: StrOrList = Field(default_factory=list, description="Text(s) the output must not contain.")
    regex: StrOrList = Field(default_factory=list, description="Regular expression(s) the output must match.")
    equals: AnyValue = Field(None, description="The exact expected output (any JSON value).")
    json_schema: dict[str, AnyValue] | None = Field(None, description="JSON Schema the output must fit.")
    case_sensitive: Bool = Field(False, description="Compare text case-sensitively.")


class ExpectModel(_Model):
    """What must hold after the run."""

    tools: ToolsExpectModel | None = Field(None, description="Tool-call expectations.")
    output: OutputExpectModel | None = Field(None, description="Output expectations.")
    budget: BudgetModel | None = Field(None, description="Caps for this scenario, over the project budget.")
    advisory: list[Literal[CHECK_GROUPS]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="Check groups that report but never fail the scenario."
    )
    max_retries: Count | None = Field(None, description="Most retries of any one call (same tool and arguments).")
    max_retries_per_tool: dict[str, Count] = Field(default_factory=dict, description="Most retries, by tool.")
    handoff: Bool | None = Field(None, description="true: the run must hand off; false: it must not.")
    handoff_tools: list[Str] = Field(
        default_factory=list, description="Tools that count as a hand-off (default: names with handoff/escalat/human)."
    )
    no_duplicate_writes: Bool | None = Field(None, description="No write applied twice with the same arguments.")
    respect_retry_after: Bool | None = Field(None, description="Retries after a throttle wait the Retry-After.")
    state: dict[str, TableExpectModel] | None = Field(None, description="End state of the in-memory tables.")
    model_route: Literal["default", "escalate"] | None = Field(
        None, description="The model route the run must take: default (never escalated) or escalate."
    )


def _skip_shape(value: Any) -> str | None:
    return "reason" if isinstance(value, str) else "flag" if isinstance(value, bool) else None


SkipSpec = either(_skip_shape, "expected a reason (text) or true", reason=Str, flag=Bool)


class ScenarioModel(_Model):
    """One scenario: what to ask the agent, what its tools answer, what to expect."""

    id: Annotated[str, Strict()] = Field(pattern=ID_PATTERN, description="Unique id across the suite.")
    description: Str = Field("", description="What the scenario checks.")
    tags: list[Str] = Field(default_factory=list, description="Tags, for selecting scenarios and gates.")
    agent: Text | None = Field(None, description="Agent name; optional when the project has exactly one.")
    input: InputSpec = Field(description="A string (one user message) or {messages, data}.")
    fixture_files: list[Text] = Field(default_factory=list, description="Shared fixture files, relative to this file.")
    fixtures: Fixtures = Field(default_factory=dict, description="Mocked tools, by tool name.")
    expect: ExpectModel | None = Field(None, description="What must hold after the run.")
    timeout_s: Seconds | None = Field(None, description="Timeout of this scenario's run, in seconds.")
    trials: Annotated[int, Strict(), Field(ge=1, le=1000)] | None = Field(
        None, description="Times to run this scenario (default: --trials, else defaults.trials)."
    )
    min_pass_rate: Rate | None = Field(
        None, description="Share of trials that must pass for the scenario to pass (default 1: every trial)."
    )
    skip: SkipSpec | None = Field(None, description="A reason to skip this scenario (reported as skipped).")
    policy: ScenarioPolicyModel | None = Field(None, description="Approver, kill switch, policy assertions.")
    drills: DrillsModel | None = Field(None, description="Failure drills run with this scenario (see docs/drills.md).")
    seed: Annotated[int, Strict()] | None = Field(None, description="Seed of fixture chances and latency draws.")
    model_script: list[ScriptTurnModel] | None = Field(
        None, description="Scripted model turns served by the model proxy instead of a real model."
    )
    state: dict[str, StateTableModel] = Field(
        default_factory=dict, description="In-memory tables for stateful fixtures, by table name."
    )


class SuiteFileModel(_Model):
    """A file of several scenarios sharing an agent, tags and fixtures."""

    agent: Text | None = Field(None, description="Default agent for the scenarios in this file.")
    tags: list[Str] = Field(default_factory=list, description="Tags added to every scenario in this file.")
    fixture_files: list[Text] = Field(
        default_factory=list, description="Shared fixture files for every scenario, relative to this file."
    )
    fixtures: Fixtures = Field(default_factory=dict, description="Mocked tools for every scenario in this file.")
    scenarios: list[ScenarioModel] = Field(description="The scenarios.")


def _file_shape(value: Any) -> str | None:
    if isinstance(value, SuiteFileModel) or (isinstance(value, dict) and "scenarios" in value):
        return "suite"
    return "scenario" if isinstance(value, dict | ScenarioModel) else None


ScenarioFileSpec = either(
    _file_shape,
    "expected a scenario (a mapping with `id`) or a mapping with `scenarios: [...]`",
    scenario=ScenarioModel,
    suite=SuiteFileModel,
)


# --- drills (their own module; linked last so both sides can name each other) ---------------------

_DRILL_MODELS = ("DrillsModel", "FaultSpec", "LatencyModel", "StateOpModel", "StateTableModel", "TableExpectModel")


def link_drill_models() -> None:
    """Bring the drill models into this namespace and finish the models that name them. Called from
    here, or from the end of drill_models when that module is the one imported first (it imports our
    field types, so whichever loads second completes the link)."""
    from agentcheck.collect import drill_models

    globals().update({name: getattr(drill_models, name) for name in _DRILL_MODELS})
    # Nothing to rebuild: every model is built on first use (defer_build), when these names resolve.


if "agentcheck.collect.drill_models" not in sys.modules:
    link_drill_models()


# --- the project file (its own module; its names are served from here too, so callers keep one
# import). Served lazily (PEP 562): project_models imports this module's field types, so importing
# it from here at load time would be circular whichever module is imported first.

_PROJECT_MODELS = frozenset(
    {
        "AgentModel",
        "CassettesModel",
        "DefaultsModel",
        "GateModel",
        "PriceModel",
        "ProjectModel",
        "RedactModel",
        "RegressionsModel",
        "ReportsModel",
        "RoutesModel",
        "SelectionModel",
        "ToolModel",
    }
)


def __getattr__(name: str) -> Any:
    if name in _PROJECT_MODELS:
        from agentcheck.collect import project_models

        return getattr(project_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
