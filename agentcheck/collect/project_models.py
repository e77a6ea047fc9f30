"""Pydantic models of the project file `agentcheck.yaml` (the boundary only; see models.py).

Split from ``agentcheck.collect.models`` along the file seam: that module keeps the scenario and
fixture files and re-exports these names; both take their field types from ``fields``, so loading
the project file imports none of the scenario models.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, Strict, field_validator, model_validator

from agentcheck.collect.fields import (
    ENTRYPOINT_PATTERN,
    KNOWN_AGENT_KINDS,
    Amount,
    AnyValue,
    Bool,
    BudgetModel,
    Count,
    Rate,
    Seconds,
    Str,
    Text,
    _fail,
    _Model,
    either,
)
from agentcheck.collect.policy_models import PolicyModel
from agentcheck.project import GATE_METRICS
from agentcheck.reliability import SEGMENT_DIMENSIONS, SEGMENT_PATTERN


def _policy_shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "file"
    return "section" if isinstance(value, dict | PolicyModel) else None


PolicySection = either(
    _policy_shape,
    "expected the policy section (a mapping) or the path of a YAML file holding it",
    section=PolicyModel,
    file=Text,
)
"""`policy:` written in place, or kept in its own file (tagged by shape, so an error names one form)."""


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
    policy: PolicySection | None = Field(
        None,
        description=(
            "Tool-use policy (docs/policy.md): the section itself, or the path (relative to this file) of a YAML "
            "file whose top level is the section — for a policy its owners keep apart."
        ),
    )
    pricing: dict[str, PriceModel] = Field(
        default_factory=dict, description="Model prices (USD per million tokens) over the shipped default table."
    )
    cassettes: CassettesModel = Field(default_factory=CassettesModel, description="Model recordings.")
    regressions: RegressionsModel = Field(
        default_factory=lambda: RegressionsModel(), description="What counts as a regression against a baseline."
    )
