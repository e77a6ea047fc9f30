"""Shared test setup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_helpers import cli, write
from merge_helpers import BOT, CONFIG, NAMES, scenarios

# Every allow a policy shortcut proves is checked against the engine's long way, in this process and
# in the agentcheck subprocesses the end-to-end tests start (agentcheck.policy.engine.VERIFY_SHORTCUTS).
os.environ["AGENTCHECK_VERIFY_SHORTCUTS"] = "1"


@pytest.fixture(autouse=True)
def _not_on_github(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that run agentcheck in-process must not write into the real job summary, annotations or
    step outputs when the suite itself runs on GitHub Actions; tests that want them set them."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)


def _sharded_project(folder: Path, trials: int | None) -> Path:
    """The merge tests' project (merge_helpers) run as three shards through the real CLI, and with
    `trials`, also as one job (reports/single.json)."""
    root = write(folder, {"agentcheck.yaml": CONFIG, "bot.py": BOT, "scenarios/s.yaml": scenarios(NAMES)})
    repeat = ["--trials", str(trials)] if trials else []
    if trials:
        assert cli("run", *repeat, "--json", "reports/single.json", cwd=root).code in (0, 1)
    for i in (1, 2, 3):
        done = cli("run", *repeat, "--shard", f"{i}/3", "--json", f"reports/shard{i}.json", cwd=root)
        assert done.code in (0, 1), done.err
    return root


@pytest.fixture(scope="session")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project run as one job and as three shards (two trials each), through the real CLI (merge
    tests write their reports into it under names of their own)."""
    return _sharded_project(tmp_path_factory.mktemp("stamp"), 2)


@pytest.fixture(scope="session")
def single_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project run once per scenario (no repeated trials), as three shards: every scenario's
    reporters' shares are prepared from its one run (PreparedScenarioReader)."""
    return _sharded_project(tmp_path_factory.mktemp("single"), None)
