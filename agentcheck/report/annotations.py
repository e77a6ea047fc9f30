"""GitHub Actions workflow annotations: one `::error` line per failing scenario (pointing at its
file and line) and per failing gate, printed at the end of a run when GITHUB_ACTIONS=true; and, when
$GITHUB_OUTPUT is set, step outputs `gate=pass|fail`, `flaky=N`, `regressions=N`, `exit_code=N`.

Escaping follows the runner's rules: in the message `%`, CR and LF become %25, %0D, %0A; in
properties `:` and `,` become %3A and %2C as well. Paths are made relative to $GITHUB_WORKSPACE (the
repository) so the annotation lands on the file in the pull request.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from agentcheck.verdict import Outcome, RunPlan, RunSummary, ScenarioResult

MAX_ANNOTATIONS = 50
"""GitHub shows about 10 per level per step; more only fill the log."""


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None,
               title: str | None = None) -> str:
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line is not None:
        props.append(f"line={line}")
    if title:
        props.append(f"title={escape_property(title)}")
    joined = (" " + ",".join(props)) if props else ""
    return f"::{level}{joined}::{escape_data(message)}"


def repo_path(file: str, project_root: Path, workspace: str | None) -> str:
    """`file` (project-relative or absolute) relative to the workspace, in POSIX form."""
    path = Path(file)
    if not path.is_absolute():
        path = project_root / path
    base = Path(workspace) if workspace else Path.cwd()
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def annotation_lines(summary: RunSummary, project_root: Path, workspace: str | None = None) -> list[str]:
    lines = []
    release = summary.release
    for stats in release.scenarios if release else []:
        if stats.outcome not in (Outcome.FAILED, Outcome.ERROR):
            continue
        trials = f" ({stats.passed}/{stats.trials} trials passed)" if stats.trials > 1 else ""
        lines.append(annotation(
            "error", f"{stats.message}{trials}", file=repo_path(stats.file, project_root, workspace),
            line=stats.line, title=f"agentcheck {stats.outcome.value}: {stats.scenario_id}",
        ))
    for gate in summary.gates:
        if not gate.passed:
            broken = ", ".join(f"{c.metric} {c.measured} (limit {c.op} {c.threshold:g})" for c in gate.checks
                               if not c.passed)
            lines.append(annotation("error", broken or gate.message, title=f"agentcheck gate failed: {gate.name}"))
    return lines[:MAX_ANNOTATIONS]


class AnnotationReporter:
    def __init__(self, project_root: Path, out: TextIO | None = None):
        self.project_root = project_root
        self.out = out

    def start(self, plan: RunPlan) -> None:
        """Nothing to do until the end."""

    def result(self, result: ScenarioResult) -> None:
        """Nothing to do: annotations are per scenario, over all its trials."""

    def finish(self, summary: RunSummary) -> None:
        out = self.out or sys.stdout
        for line in annotation_lines(summary, self.project_root, os.environ.get("GITHUB_WORKSPACE")):
            out.write(line + "\n")
        out.flush()
        target = os.environ.get("GITHUB_OUTPUT")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.writelines(f"{key}={value}\n" for key, value in step_outputs(summary).items())


def step_outputs(summary: RunSummary) -> dict[str, str]:
    """Machine-readable results for later workflow steps (`steps.<id>.outputs.gate`)."""
    release = summary.release
    comparison = release.comparison if release else None
    return {
        "gate": "pass" if all(g.passed for g in summary.gates) else "fail",
        "flaky": str(sum(s.flaky for s in release.scenarios) if release else 0),
        "regressions": str(comparison.regressions) if comparison is not None else "",
        "exit_code": str(summary.exit_code),
    }
