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

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agentcheck.collect.errors import PATTERN_MESSAGES, TAG_PREFIX
from agentcheck.collect.policy_models import PolicyModel, ScenarioPolicyModel
from agentcheck.project import GATE_METRICS
from agentcheck.reliability import SEGMENT_DIMENSIONS, SEGMENT_PATTERN
from agentcheck.scenario import CHECK_GROUPS

KNOWN_AGENT_KINDS: tuple[str, ...] = ("python", "openai")
"""Agent adapters this version can run; a str field checked against this list, so kinds can grow."""

PROJECT_EXTENSIONS: tuple[str, ...] = ()
"""Project sections owned by later layers: accepted as written and kept in Project.extensions."""

SCENARIO_EXTENSIONS: tuple[str, ...] = ("model_script",)
"""Scenario sections owned by later layers: accepted as written and kept in Scenario.extensions."""

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
ENTRYPOINT_PATTERN = (
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
)
PATTERN_MESSAGES[ID_PATTERN] = "expected an id of letters, digits and . _ : - starting with a letter or digit"
PATTERN_MESSAGES[ENTRYPOINT_PATTERN] = "expected 'module:function', e.g. 'examples.refund_assistant:run'"

Str = Annotated[str, Strict()]
Text = Annotated[str, Strict(), Field(min_length=1)]
Bool = Annotated[bool, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]
Amount = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Seconds = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
MatcherSpec = Annotated[Any, WithJsonSchema({"description": "A value or a `$`-operator matcher spec."})]
AnyValue = Annotated[Any, WithJsonSchema({})]


def either(pick: Callable[[Any], str | None], expected: str, **members: Any) -> Any:
    """A union whose member is chosen by `pick(value)` (a member name, or None: `expected` error)."""
    tagged = tuple(Annotated[member, Tag(TAG_PREFIX + name)] for name, member in members.items())

    def discriminate(value: Any) -> str | None:
        name = pick(value)
        return TAG_PREFIX + name if name else None

    return Annotated[
        Union[tagged],  # noqa: UP007 - a runtime-built union needs the subscript form
        Discriminator(discriminate, custom_error_type="shape", custom_error_message=expected),
    ]


def _shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict | BaseModel):
        return "dict"
    return None


StrOrList = either(_shape, "expected a string or a list of strings", str=Str, list=list[Str])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


# --- shared: budgets --------------------------------------------------------------------------------


class BudgetModel(_Model):
    """Per-run caps; a run exceeding one fails the `budget` check. Unset caps are unlimited."""

    max_steps: Count | None = Field(None, description="Most steps per run; a step is one tool call or one model call.")
    max_tool_calls: Count | None = Field(None, description="Most tool calls per run.")
    max_model_calls: Count | None = Field(None, description="Most model API calls per run.")
    max_input_tokens: Count | None = Field(None, description="Most input (prompt) tokens per run.")
    max_output_tokens: Count | None = Field(None, description="Most output (completion) tokens per run.")
    max_total_tokens: Count | None = Field(None, description="Most input + output tokens per run.")
    max_cost_usd: Amount | None = Field(None, description="Most spend per run, in US dollars.")
    max_wall_time_s: Seconds | None = Field(None, description="Longest run, in seconds of wall time.")
    max_prompt_tokens: Count | None = Field(None, description="Alias of max_input_tokens.")
    max_completion_tokens: Count | None = Field(None, description="Alias of max_output_tokens.")

    @model_validator(mode="after")
    def _one_name_per_cap(self) -> BudgetModel:
        for alias, name in (("max_prompt_tokens", "max_input_tokens"), ("max_completion_tokens", "max_output_tokens")):
            if getattr(self, alias) is not None and getattr(self, name) is not None:
                raise _fail("budget_alias", f"give either {name} or its alias {alias}, not both")
        return self

    def caps(self) -> dict[str, Any]:
        """The caps set, under their canonical names (the Budget dataclass fields)."""
        caps = {name: value for name, value in self if value is not None}
        if "max_prompt_tokens" in caps:
            caps["max_input_tokens"] = caps.pop("max_prompt_tokens")
        if "max_completion_tokens" in caps:
            caps["max_output_tokens"] = caps.pop("max_completion_tokens")
        return caps


# --- models: routes, prices, recordings, scripted turns (docs/models.md) -----------------------------


class RoutesModel(_Model):
    """A default model and an escalation model taken once a rule fires."""

    default: Text = Field(description="The model used until a rule fires.")
    escalate: Text | None = Field(None, description="The model used for the rest of the run once a rule fired.")
    rules: list[Literal["after_tool_error", "after_invalid_tool_call"]] = Field(
        default_factory=list, description="When to escalate: after a tool error, after an invalid tool call."
    )


class PriceModel(_Model):
    """A model's price in US dollars per million tokens."""

    input: Amount = Field(description="Per million input (prompt) tokens.")
    output: Amount = Field(description="Per million output (completion) tokens.")
    cached_input: Amount | None = Field(None, description="Per million cached input tokens; input price when unset.")


class CassettesModel(_Model):
    """Where model recordings live and what never reaches them."""

    dir: Text = Field("cassettes", description="Folder of cassettes, relative to the project root.")
    secret_patterns: list[Text] = Field(
        default_factory=list, description="Regular expressions replaced by <redacted> before a cassette is saved."
    )


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


# --- the project file -------------------------------------------------------------------------------


class AgentModel(_Model):
    """An agent under test."""

    kind: Str = Field(
        description="Which adapter runs the agent.",
        json_schema_extra={"enum": list(KNOWN_AGENT_KINDS)},
    )
    entrypoint: Str | None = Field(
        None,
        pattern=ENTRYPOINT_PATTERN,
        description="For kind python: the function to call, as 'module:function'.",
    )
    version: Str | None = Field(None, description="Your version label of the agent, recorded in reports.")
    tools: list[Str] | None = Field(
        None, description="Names of the catalog tools this agent may see; all of them when left out."
    )
    options: dict[str, AnyValue] = Field(
        default_factory=dict, description="Free-form settings passed to the agent as written."
    )
    timeout_s: Seconds | None = Field(None, description="Per-run timeout for this agent, in seconds.")
    description: Str | None = Field(None, description="What the agent does, for reports.")
    model: Text | None = Field(None, description="For kind openai: the model name (or give routes.default).")
    base_url: Text | None = Field(None, description="OpenAI-compatible endpoint the model proxy forwards to.")
    api_key_env: Text | None = Field(None, description="Environment variable holding the upstream API key.")
    system_prompt: Str | None = Field(None, description="For kind openai: the system prompt.")
    system_prompt_file: Text | None = Field(None, description="For kind openai: a file holding the system prompt.")
    temperature: Amount | None = Field(None, description="For kind openai: sampling temperature.")
    request_options: dict[str, AnyValue] = Field(
        default_factory=dict, description="Other request fields sent as written (top_p, seed, max_completion_tokens)."
    )
    max_steps: Annotated[int, Strict(), Field(ge=1)] | None = Field(
        None, description="For kind openai: most model turns before the loop gives up (default 10)."
    )
    routes: RoutesModel | None = Field(None, description="Default and escalation models with rules.")
    request_timeout_s: Seconds | None = Field(None, description="Timeout of one model request (default 60 s).")
    max_retries: Count | None = Field(
        None, description="Retries of a model request after a timeout, 429 or 5xx (default 3)."
    )
    model_proxy: Bool = Field(False, description="Start the model proxy for this agent (kind python).")


class ToolModel(_Model):
    """A tool in the catalog: what agents may call, mocked by scenario fixtures."""

    description: Str = Field("", description="What the tool does, as shown to the agent.")
    parameters: dict[str, AnyValue] = Field(
        default_factory=lambda: {"type": "object"},
        description="JSON Schema every call's arguments must fit.",
    )
    writes: Bool = Field(False, description="Whether the tool has side effects (changes data).")
    risk: Literal["low", "medium", "high"] = Field("low", description="Risk tier, used by policies.")
    timeout_s: Seconds | None = Field(
        None, description="A call slower than this (simulated latency counts) fails with ToolTimeout."
    )
    idempotency_key: Str | None = Field(
        None, description="For write tools: the argument carrying an idempotency key (a retry with it is applied once)."
    )
    handoff: Bool = Field(False, description="Calling it hands the conversation to a human (the hand-off rate).")


class DefaultsModel(_Model):
    """Settings used when neither the scenario nor the command line gives one."""

    timeout_s: Seconds = Field(60.0, description="Timeout of one scenario run, in seconds.")
    concurrency: Annotated[int, Strict(), Field(ge=1)] = Field(8, description="Scenario runs at once.")
    paths: list[Str] = Field(
        default_factory=lambda: ["scenarios"],
        description="Files or folders holding scenarios, relative to the project root.",
    )
    exclude_tags: list[Str] = Field(
        default_factory=list, description="Scenarios with any of these tags are left out unless --tag names it."
    )
    trials: Annotated[int, Strict(), Field(ge=1, le=1000)] = Field(
        1, description="Times each scenario runs (repeated trials; see docs/release-decisions.md)."
    )


class SelectionModel(_Model):
    """Which results a gate looks at; every given criterion must hold. Empty: all results."""

    tags: list[Str] = Field(default_factory=list, description="Scenarios having any of these tags.")
    agents: list[Str] = Field(default_factory=list, description="Runs of these agents.")
    scenarios: list[Str] = Field(default_factory=list, description="Scenario ids matching any of these glob patterns.")
    segments: list[Annotated[str, Strict()]] = Field(
        default_factory=list,
        description="Runs in any of these segments, as dimension=value: "
        + ", ".join(f"{d}=..." for d in SEGMENT_DIMENSIONS) + " (e.g. agent_version=bot@2.1).",
        json_schema_extra={"items": {"pattern": SEGMENT_PATTERN}},
    )

    @field_validator("segments")
    @classmethod
    def _segment_shape(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.match(SEGMENT_PATTERN, item):
                raise _fail("segment", f"'{item}' is not dimension=value with a dimension of "
                            f"{', '.join(SEGMENT_DIMENSIONS)} (e.g. agent_version=bot@2.1)")
        return value


Rate = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]


class GateModel(_Model):
    """A release gate: thresholds over a selection of results; breaking one fails the run."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": [name]} for name in GATE_METRICS]})

    name: Text = Field(description="Unique gate name, shown in reports.")
    select: SelectionModel = Field(default_factory=SelectionModel, description="Which results count.")
    min_pass_rate: Rate | None = Field(None, description=f"Lowest allowed {GATE_METRICS['min_pass_rate']}, 0..1.")
    max_failures: Count | None = Field(None, description=f"Most allowed {GATE_METRICS['max_failures']}.")
    max_mean_cost_usd: Amount | None = Field(None, description=f"Highest allowed {GATE_METRICS['max_mean_cost_usd']}.")
    max_p95_cost_usd: Amount | None = Field(None, description=f"Highest allowed {GATE_METRICS['max_p95_cost_usd']}.")
    max_mean_latency_s: Amount | None = Field(
        None, description=f"Highest allowed {GATE_METRICS['max_mean_latency_s']}."
    )
    max_p95_latency_s: Amount | None = Field(None, description=f"Highest allowed {GATE_METRICS['max_p95_latency_s']}.")
    max_mean_tokens: Amount | None = Field(None, description=f"Highest allowed {GATE_METRICS['max_mean_tokens']}.")
    max_p95_tokens: Amount | None = Field(None, description=f"Highest allowed {GATE_METRICS['max_p95_tokens']}.")
    max_mean_tool_calls: Amount | None = Field(
        None, description=f"Highest allowed {GATE_METRICS['max_mean_tool_calls']}."
    )
    max_attack_success_rate: Rate | None = Field(
        None, description=f"Highest allowed {GATE_METRICS['max_attack_success_rate']}, 0..1."
    )
    max_policy_violations: Count | None = Field(None, description=f"Most {GATE_METRICS['max_policy_violations']}.")
    min_pass_hat_k: Rate | None = Field(None, description=f"Lowest allowed {GATE_METRICS['min_pass_hat_k']}; needs k.")
    min_pass_at_k: Rate | None = Field(None, description=f"Lowest allowed {GATE_METRICS['min_pass_at_k']}; needs k.")
    max_flaky: Count | None = Field(None, description=f"Most allowed {GATE_METRICS['max_flaky']}.")
    max_regressions: Count | None = Field(
        None, description=f"Most allowed {GATE_METRICS['max_regressions']} (measured only with --baseline)."
    )
    k: Annotated[int, Strict(), Field(ge=1)] | None = Field(
        None, description="The k of min_pass_hat_k / min_pass_at_k: how many trials must (all / one) pass."
    )

    @model_validator(mode="after")
    def _has_threshold(self) -> GateModel:
        if not self.thresholds():
            raise _fail("gate_threshold", f"a gate needs at least one threshold: {', '.join(GATE_METRICS)}")
        uses_k = self.min_pass_hat_k is not None or self.min_pass_at_k is not None
        if uses_k and self.k is None:
            raise _fail("gate_k", "min_pass_hat_k and min_pass_at_k need `k` (e.g. k: 4)")
        if self.k is not None and not uses_k:
            raise _fail("gate_k", "`k` is only used with min_pass_hat_k or min_pass_at_k")
        return self

    def thresholds(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in GATE_METRICS if getattr(self, name) is not None}


def _report_path_shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "path"
    return "off" if value is False else None


ReportPath = either(
    _report_path_shape, "expected a file path, or false to turn this report off", path=Text, off=Literal[False]
)


class ReportsModel(_Model):
    """Where reports are written; paths are relative to the project root."""

    dir: Text = Field("reports", description="Folder for reports.")
    junit: ReportPath | None = Field(None, description="JUnit XML file; default <dir>/junit.xml; false turns it off.")
    json_file: ReportPath | None = Field(
        None, alias="json", description="JSON results file; default <dir>/results.json; false turns it off."
    )
    junit_strict: Bool = Field(
        False, description="Write JUnit valid against Jenkins' junit-10.xsd (no file/line/testcase properties)."
    )


class RedactModel(_Model):
    """What is masked before anything reaches a report, trace file or console (see docs/configuration.md)."""

    patterns: list[Str] = Field(default_factory=list, description="Extra regular expressions whose matches are masked.")
    keys: list[Str] = Field(default_factory=list, description="Extra object keys whose values are masked.")
    defaults: Bool = Field(True, description="Also mask the built-in secret patterns, card numbers and keys.")

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        import re

        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise _fail("regex", f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns


class RegressionsModel(_Model):
    """What `--baseline` and `agentcheck compare` count as a regression (docs/release-decisions.md)."""

    cost_increase: Amount = Field(0.2, description="Mean cost per scenario up by more than this fraction.")
    tokens_increase: Amount = Field(0.2, description="Mean tokens per scenario up by more than this fraction.")
    latency_increase: Amount = Field(0.5, description="Mean latency per scenario up by more than this fraction.")
    latency_min_delta_s: Amount = Field(0.25, description="...and by at least this many seconds (ignores jitter).")
    pass_rate_drop: Rate = Field(0.0, description="A scenario's pass rate down by more than this (absolute).")
    tool_calls_changed: Bool = Field(False, description="Count a changed tool-call shape as a regression.")
    newly_error: Bool = Field(False, description="Count a scenario that now errors (an outage) as a regression.")


class ProjectModel(_Model):
    """agentcheck.yaml: the agents under test, the tool catalog, defaults, budgets, gates, reports."""

    version: Literal[1] = Field(description="Format version of this file; must be 1.")
    agents: dict[str, AgentModel] = Field(default_factory=dict, description="Agents under test, by name.")
    tools: dict[str, ToolModel] = Field(default_factory=dict, description="The tool catalog, by tool name.")
    defaults: DefaultsModel = Field(default_factory=DefaultsModel, description="Default run settings.")
    budget: BudgetModel = Field(
        default_factory=BudgetModel, description="Default caps for every scenario (expect.budget overrides)."
    )
    gates: list[GateModel] = Field(default_factory=list, description="Release gates checked after a run.")
    reports: ReportsModel = Field(default_factory=ReportsModel, description="Report outputs.")
    redact: RedactModel = Field(default_factory=RedactModel, description="Masking of secrets and PII in every output.")
    policy: PolicyModel | None = Field(None, description="Tool-use policy (docs/policy.md).")
    pricing: dict[str, PriceModel] = Field(
        default_factory=dict, description="Model prices (USD per million tokens) over the shipped default table."
    )
    cassettes: CassettesModel = Field(default_factory=CassettesModel, description="Model recordings.")
    regressions: RegressionsModel = Field(
        default_factory=lambda: RegressionsModel(), description="What counts as a regression against a baseline."
    )


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
    args: MatcherSpec = Field(None, description="Expected arguments (values or `$`-operators).")
    args_mode: ArgsMode | None = Field(None, description="How to compare arguments for this call.")


def _single_key(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) != 1:
        raise _fail(
            "call_shape",
            f"an expected call is {{tool_name: args}} with exactly one key, got {len(value)} keys"
            " (use {tool: name, args: ...} for the long form)",
        )
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


# --- drills (their own module; imported last so both sides can name each other) -------------------

from agentcheck.collect.drill_models import (  # noqa: E402
    DrillsModel,
    FaultSpec,
    LatencyModel,
    StateOpModel,
    StateTableModel,
    TableExpectModel,
)

for _model in (ResponseModel, RuleModel, FixtureMapModel, FixturesFileModel, ExpectModel, ScenarioModel,
               SuiteFileModel):
    _model.model_rebuild()
