"""The field types every YAML boundary model shares: strict leaves, shape-picked unions (`either`),
the base model, and the per-run budget (scenarios and the project file both set one).

Their own module so the project file's models (project_models) can be imported without the scenario
and fixture models (models.py): `agentcheck merge` and `compare` validate the project file only, and
defining the scenario models' classes was a twentieth of their start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from agentcheck.collect.errors import PATTERN_MESSAGES, TAG_PREFIX

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
Rate = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]


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
    # defer_build: a model's validator is built when it is first used, not when its class is defined —
    # `agentcheck merge` and `compare` validate the project file only, never a scenario (0.3 s saved).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
