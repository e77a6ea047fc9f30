"""`agentcheck policy lint` and `agentcheck policy report`: least-privilege findings in the console.

`lint` reads the policy alone, without running: exit 0 when nothing is severe, 1 when a finding is
severe (a wildcard admin scope, a high-tier tool reachable with no approval), 2 on bad input
(including a project with no policy). `report` prints the report the last `agentcheck run` wrote
(scopes granted vs used), with the same exit codes.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agentcheck.exitcodes import ExitCode
from agentcheck.problems import BadInput, Problem


def lint_command(config: Path | None, cwd: Path, markdown: Path | None, json_path: Path | None) -> int:
    from agentcheck.collect import find_config, load_project
    from agentcheck.policy.lint import lint, to_markdown, to_text
    from agentcheck.serialize import dumps

    project = load_project(config or find_config(cwd), cwd=cwd)
    if project.policy is None:
        where = str(project.config_file) if project.config_file else None
        raise BadInput(
            [
                Problem(
                    where,
                    None,
                    "policy",
                    "the project defines no policy",
                    "add a `policy:` section to agentcheck.yaml (docs/policy.md)",
                )
            ]
        )
    report = lint(project)
    for line in to_text(report):
        typer.echo(line)
    if markdown is not None:
        markdown.write_text(to_markdown(report), encoding="utf-8")
    if json_path is not None:
        json_path.write_text(dumps(report.to_data(), indent=2), encoding="utf-8")
    severe = len(report.severe)
    typer.echo(f"policy lint: {severe} severe, {len(report.findings) - severe} other finding(s)")
    return 1 if severe else int(ExitCode.OK)


def report_command(config: Path | None, cwd: Path) -> int:
    import json

    from agentcheck.collect import find_config, load_project
    from agentcheck.policy.lint import SEVERE, to_text

    project = load_project(config or find_config(cwd), cwd=cwd)
    folder = project.reports.dir if project.reports else project.root / "reports"
    path = folder / "least-privilege.json"
    if not path.is_file():
        raise BadInput(
            [
                Problem(
                    str(path),
                    None,
                    "",
                    "no least-privilege report yet",
                    "run `agentcheck run` first (the project needs a `policy:` section)",
                )
            ]
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    for line in to_text(data):
        typer.echo(line)
    severe = sum(f["severity"] == SEVERE for f in data["findings"])
    typer.echo(f"least-privilege report ({path}): {severe} severe, {len(data['findings']) - severe} other finding(s)")
    return 1 if severe else int(ExitCode.OK)
