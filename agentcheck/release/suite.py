"""The suite stamp: which scenario files and selection a results file was run from.

`agentcheck run` stamps its plan with one (`RunPlan.suite`, written to the JSON document's `run`
section). `agentcheck merge` recomputes the fingerprint from the files on disk - hashing bytes, no
YAML parsing - and, when every shard carries that same fingerprint and together they hold the whole
selection, places each result from the shards' own `scenarios` rows instead of collecting the whole
suite again (collecting 20 000 scenarios was a third of merge's time). Anything else takes the full
path, loading the suite as a run does: see agentcheck.replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import orjson

from agentcheck.problems import Problem, display_path
from agentcheck.project import Project
from agentcheck.scenario import Scenario
from agentcheck.verdict import SuiteStamp


def fingerprint(project: Project, *, paths: Sequence[Path] = (), keywords: Sequence[str] = (),
                tags: Sequence[str] = (), drills: Sequence[str] = ()) -> str | None:
    """SHA-256 over what decides the selected scenarios and their places: this agentcheck's version,
    the config file's bytes, every scenario file (path relative to the project, bytes) in collection
    order, and the selection flags. None when a scenario path is missing (the full load says why)."""
    from agentcheck import __version__
    from agentcheck.collect.files import scenario_files

    problems: list[Problem] = []
    files = scenario_files(project, [Path(p) for p in paths] or None, problems)
    if problems:
        return None
    digest = hashlib.sha256()
    selection = {"version": __version__, "paths": [display_path(p, project.root) for p in paths],
                 "keywords": list(keywords), "tags": list(tags), "drills": list(drills)}
    digest.update(orjson.dumps(selection))
    try:
        if project.config_file is not None:
            digest.update(b"\0config\0" + project.config_file.read_bytes())
        for file, _ in files:
            data = file.read_bytes()
            digest.update(b"\0file\0" + display_path(file, project.root).encode("utf-8", "surrogateescape")
                          + b"\0" + str(len(data)).encode() + b"\0" + data)
    except OSError:
        return None
    return digest.hexdigest()


def suite_stamp(fingerprint_value: str | None, selected: Sequence[Scenario],
                planned: Sequence[Scenario]) -> SuiteStamp | None:
    """The stamp of a plan: `selected` is the selection before `--shard`, `planned` the scenarios run
    (the shard's, each followed by its drilled copies, which share their scenario's position)."""
    if fingerprint_value is None:
        return None
    position = {s.id: i for i, s in enumerate(selected)}
    positions: list[int] = []
    current = -1
    for scenario in planned:
        current = position.get(scenario.id, current)
        positions.append(current)
    return SuiteStamp(fingerprint_value, len(selected), positions)
