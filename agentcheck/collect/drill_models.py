"""Pydantic models of the drill-related YAML: faults, latency distributions, stateful fixtures and
tables, end-state expectations, and a scenario's `drills:` section.

Split from ``agentcheck.collect.models`` to keep that file small; imported at its end, so the models
there can name these (and these can name ``ExpectModel``) with ordinary annotations.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from agentcheck.collect.models import (
    Amount,
    AnyValue,
    Bool,
    ExpectModel,
    MatcherSpec,
    Str,
    Text,
    _fail,
    _Model,
    either,
)
from agentcheck.drillspec import DRILL_KINDS
from agentcheck.faults import FAULT_KINDS
from agentcheck.payloads import FAMILIES
from agentcheck.state import STATE_OPS

__all__ = [
    "DRILL_KINDS",
    "DrillModel",
    "DrillsModel",
    "FaultModel",
    "FaultSpec",
    "GoalModel",
    "LatencyModel",
    "PayloadModel",
    "PlantModel",
    "StateOpModel",
    "StateTableModel",
    "TableExpectModel",
]


class FaultModel(_Model):
    """A simulated fault, with its options."""

    kind: Literal[tuple(FAULT_KINDS)] = Field(  # type: ignore[valid-type]
        description="; ".join(f"{k}: {v}" for k, v in FAULT_KINDS.items())
    )
    status: Annotated[int, Strict()] | None = Field(None, description="throttle: 429 or 503; http_error: 400..599.")
    retry_after: Amount | None = Field(None, description="throttle: seconds to wait (default 1).")
    http_date: Bool = Field(False, description="throttle: send Retry-After as an HTTP date instead of seconds.")
    message: Str | None = Field(None, description="throttle/http_error: the error message.")
    form: Literal["truncated_json", "wrong_types", "html", "list", "null", "not_found"] | None = Field(
        None, description="malformed: truncated_json, wrong_types, html; empty: list, null, not_found."
    )
    age_s: Amount | None = Field(None, description="stale: how old `updated_at` is, in seconds (default 7 days).")
    field: Str | None = Field(None, description="stale: the timestamp field (default updated_at).")
    page_size: Annotated[int, Strict(), Field(ge=1)] | None = Field(None, description="partial: items on the page.")


FaultSpec = either(
    lambda v: "kind" if isinstance(v, str) else "dict" if isinstance(v, dict | BaseModel) else None,
    "expected a fault kind or {kind: ..., options}",
    kind=Literal[tuple(FAULT_KINDS)],
    dict=FaultModel,
)


class LatencyModel(_Model):
    """A latency distribution in milliseconds, drawn from the run's seeded generator."""

    dist: Literal["uniform", "normal", "lognormal", "exponential"] = Field(description="The distribution.")
    min: Amount | None = Field(None, description="uniform: lowest value.")
    max: Amount | None = Field(None, description="uniform: highest value.")
    mean: Amount | None = Field(None, description="normal, exponential: the mean.")
    sd: Amount | None = Field(None, description="normal: the standard deviation.")
    median: Amount | None = Field(None, description="lognormal: the median.")
    sigma: Amount | None = Field(None, description="lognormal: the sigma of the underlying normal.")


class StateOpModel(_Model):
    """A stateful fixture: the tool reads or writes one in-memory table."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 5})

    get: Text | None = Field(None, description=f"Table to read one row from: {STATE_OPS['get']}.")
    list_: Text | None = Field(None, alias="list", description=f"Table to list: {STATE_OPS['list']}.")
    insert: Text | None = Field(None, description=f"Table to insert into: {STATE_OPS['insert']}.")
    update: Text | None = Field(None, description=f"Table to update: {STATE_OPS['update']}.")
    delete: Text | None = Field(None, description=f"Table to delete from: {STATE_OPS['delete']}.")
    key: Text | None = Field(None, description="The argument holding the row key (default: the table's key).")
    where: list[Str] = Field(default_factory=list, description="list: the arguments to filter on.")
    id_template: Text | None = Field(None, description="insert: the new key when none is given, e.g. R-{n}.")
    set: dict[str, AnyValue] = Field(default_factory=dict, description="insert/update: extra fields to write.")

    @model_validator(mode="after")
    def _one_op(self) -> StateOpModel:
        if len(self.ops()) != 1:
            raise _fail("state_op", f"a stateful fixture names exactly one of {', '.join(STATE_OPS)}")
        return self

    def ops(self) -> dict[str, str]:
        found = {op: getattr(self, "list_" if op == "list" else op) for op in STATE_OPS}
        return {op: table for op, table in found.items() if table is not None}


class StateTableModel(_Model):
    """An in-memory table stateful fixtures read and write."""

    key: Text = Field("id", description="The column that keys the rows.")
    rows: list[dict[str, AnyValue]] = Field(default_factory=list, description="The rows before the run.")


class TableExpectModel(_Model):
    """What one in-memory table must look like after the run."""

    equals: list[dict[str, AnyValue]] | None = Field(None, description="Exactly these rows, in any order.")
    contains: list[MatcherSpec] = Field(default_factory=list, description="Each must match at least one row.")
    absent: list[MatcherSpec] = Field(default_factory=list, description="No row may match any of these.")
    count: MatcherSpec = Field(None, description="Matcher over the number of rows, e.g. 1 or {$gte: 1}.")
    unchanged: Bool = Field(False, description="The table is as it was before the run.")


class PlantModel(_Model):
    """Where the injection drill plants its payloads."""

    tool: Text = Field(description="The tool whose results get the payload.")
    field: Str | None = Field(
        None, description="Dotted path of a text field in the result; left out: every text field."
    )


class GoalModel(_Model):
    """The call an attacker wants the agent to make."""

    tool: Text = Field(description="The tool the attacker wants called.")
    args: MatcherSpec = Field(None, description="Matcher over its arguments (partial); left out: any call.")


class PayloadModel(_Model):
    """A scenario-authored injection payload."""

    text: Text = Field(description="The payload text; {canary} is replaced by the payload's canary.")
    goal: GoalModel | None = Field(None, description="The attacker's goal; met, the attack succeeded.")
    markers: list[Str] = Field(
        default_factory=list, description="Attacker-only values; seen in a call, the goal happened."
    )


class DrillModel(_Model):
    """One failure drill for this scenario, with its own expectations or the default safety ones."""

    tools: list[Str] = Field(default_factory=list, description="Tools the drill faults (default: every mocked tool).")
    expect: ExpectModel | None = Field(None, description="Expectations under the drill (default: safety checks).")
    retry_after: Amount | None = Field(None, description="throttle: Retry-After seconds (default 2).")
    status: Annotated[int, Strict()] | None = Field(None, description="throttle: 429 or 503; outage: the status.")
    age_s: Amount | None = Field(None, description="stale: age of the stale value, in seconds.")
    families: list[Literal[tuple(FAMILIES)]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="injection: library payload families (default: all)."
    )
    plant: list[PlantModel] = Field(
        default_factory=list, description="injection: where to plant (default: text fields the clean run read)."
    )
    payloads: list[PayloadModel] = Field(default_factory=list, description="injection: your own payloads.")
    target: GoalModel | None = Field(None, description="injection: the call library payloads ask for.")


class DrillsModel(_Model):
    """The drills this scenario runs with every run (and its expectations for `--drill`), by kind."""

    throttle: DrillModel | None = Field(None, description=DRILL_KINDS["throttle"])
    timeout: DrillModel | None = Field(None, description=DRILL_KINDS["timeout"])
    outage: DrillModel | None = Field(None, description=DRILL_KINDS["outage"])
    stale: DrillModel | None = Field(None, description=DRILL_KINDS["stale"])
    injection: DrillModel | None = Field(None, description=DRILL_KINDS["injection"])

    def by_kind(self) -> dict[str, DrillModel]:
        return {kind: getattr(self, kind) for kind in DRILL_KINDS if getattr(self, kind) is not None}


def _link() -> None:
    from agentcheck.collect import models

    if "DrillsModel" not in vars(models):  # this module was imported first: finish the link now
        models.link_drill_models()


_link()
