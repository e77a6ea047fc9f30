"""JSON Schemas of the YAML files, generated from the pydantic models so they cannot drift.

Editors use them (through the `# yaml-language-server: $schema=...` first line) for completion,
hover docs and squiggles before agentcheck ever runs. The committed copies in `schemas/` are
checked against this output by the test suite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILES: dict[str, str] = {
    "project": "agentcheck.schema.json",
    "scenario": "scenario.schema.json",
    "fixtures": "fixtures.schema.json",
    "policy": "policy.schema.json",
}
"""Schema kind -> file name in the `schemas/` folder."""

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_TITLES = {
    "project": (
        "agentcheck project file",
        "agentcheck.yaml: agents under test, the tool catalog, defaults, budgets, release gates and report outputs.",
    ),
    "scenario": (
        "agentcheck scenario file",
        "One scenario (a mapping with `id`), or several sharing defaults under `scenarios:`.",
    ),
    "fixtures": ("agentcheck fixture file", "Shared mocked-tool responses, listed in scenarios' `fixture_files`."),
    "policy": (
        "agentcheck policy file",
        "The tool-use policy kept in its own file (`policy: FILE` in agentcheck.yaml): agents, tools, rules, "
        "flows, spend caps.",
    ),
}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one file kind: "project", "scenario", "fixtures" or "policy"."""
    from pydantic import TypeAdapter
    from pydantic.json_schema import GenerateJsonSchema

    from agentcheck.collect import models
    from agentcheck.collect.policy_models import PolicyModel

    if kind not in SCHEMA_FILES:
        raise ValueError(f"unknown schema kind {kind!r}; expected one of {', '.join(SCHEMA_FILES)}")
    target: Any = {
        "project": models.ProjectModel,
        "scenario": models.ScenarioFileSpec,
        "fixtures": models.FixturesFileModel,
        "policy": PolicyModel,
    }[kind]

    class _Generator(GenerateJsonSchema):
        def field_title_should_be_set(self, schema: Any) -> bool:
            return False  # "Timeout S" titles add noise to hovers; descriptions say it better

    generated = TypeAdapter(target).json_schema(schema_generator=_Generator)
    title, description = _TITLES[kind]
    schema: dict[str, Any] = {
        "$schema": _DRAFT,
        "$id": f"urn:agentcheck:schema:{SCHEMA_FILES[kind].removesuffix('.schema.json')}",
        "title": title,
        "description": description,
    }
    for name, definition in generated.get("$defs", {}).items():
        definition["title"] = name.removesuffix("Model")
    for key, value in generated.items():
        if key not in ("title", "description"):
            schema[key] = value
    return schema


def render(kind: str) -> str:
    """The schema file's exact text (stable key order, trailing newline)."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path, *, keep_existing: bool = False) -> list[Path]:
    """Write every schema file into `directory` (created if needed), or with `keep_existing` only those
    not there yet; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name in SCHEMA_FILES.items():
        path = directory / name
        if keep_existing and path.exists():
            continue
        path.write_text(render(kind), encoding="utf-8")
        written.append(path)
    return written
