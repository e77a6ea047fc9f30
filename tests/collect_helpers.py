"""A small project for the collection tests, and `problems()`: what collecting it refuses, rendered."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agentcheck.collect import collect, load_project
from agentcheck.problems import BadInput
from agentcheck.project import Project

PROJECT = """\
version: 1
agents:
  refund-assistant:
    kind: python
    entrypoint: examples.refund_assistant:run
tools:
  lookup_order: {}
  issue_refund: {}
  update_payment_method: {}
budget:
  max_steps: 20
  max_tool_calls: 10
"""

TWO_AGENTS = """\
version: 1
agents:
  refund-assistant: {kind: python, entrypoint: "m:run"}
  reader: {kind: python, entrypoint: "m:read", tools: [lookup_order]}
tools:
  lookup_order: {}
  issue_refund: {}
"""


def make(tmp_path: Path, files: dict[str, str], project: str = PROJECT) -> Project:
    (tmp_path / "agentcheck.yaml").write_text(project, encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_project(None, cwd=tmp_path)


def problems(project: Project, paths: list[Path] | None = None) -> list[str]:
    with pytest.raises(BadInput) as info:
        collect(project, paths)
    return [p.render() for p in info.value.problems]
