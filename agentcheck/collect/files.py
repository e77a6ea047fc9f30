"""Which files hold the suite's scenarios: the one walk `collect` and the suite stamp share.

Kept apart from the scenario collector so `agentcheck merge` can fingerprint the suite's files
without importing what it takes to read them.
"""

from __future__ import annotations

import os
from pathlib import Path

from agentcheck.problems import Problem, did_you_mean, display_path
from agentcheck.project import Project

SCENARIO_SUFFIXES = (".yaml", ".yml")


def scenario_files(project: Project, paths: list[Path] | None, problems: list[Problem]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) pairs in collection order, each file once."""
    config_display = display_path(project.config_file, project.root) if project.config_file else None
    if paths is None:
        targets = [(project.root / p, p) for p in project.defaults.paths]
    else:
        targets = [(p.absolute(), p.as_posix()) for p in paths]
    seen: set[Path] = set()
    config = project.config_file.resolve() if project.config_file else None
    out = []
    for target, written in targets:
        if target.is_file():
            found = [(target, True)]
        elif target.is_dir():
            found = [(f, False) for f in _walk(target)]
        else:
            if paths is None:
                source = project.defaults.source
                folders = [p.name for p in project.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
                hint = did_you_mean(Path(written).name, folders) or "list folders or files under the project root"
                problems.append(Problem(config_display, source.line if source else None, "defaults.paths",
                                        f"scenario path '{written}' does not exist", hint))
            else:
                problems.append(Problem(str(written), None, "", "no such file or folder"))
            continue
        for file, explicit in found:
            real = file.resolve()
            if real not in seen and real != config:
                seen.add(real)
                out.append((file, explicit))
    return out


def _walk(folder: Path) -> list[Path]:
    """YAML files under `folder`, sorted, leaving out hidden files and folders."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(
            Path(dirpath, name) for name in filenames if name.endswith(SCENARIO_SUFFIXES) and not name.startswith(".")
        )
    return sorted(found)
