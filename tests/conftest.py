"""Shared test setup."""

from __future__ import annotations

import os

import pytest

# Every allow a policy shortcut proves is checked against the engine's long way, in this process and
# in the agentcheck subprocesses the end-to-end tests start (agentcheck.policy.engine.VERIFY_SHORTCUTS).
os.environ["AGENTCHECK_VERIFY_SHORTCUTS"] = "1"


@pytest.fixture(autouse=True)
def _not_on_github(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that run agentcheck in-process must not write into the real job summary, annotations or
    step outputs when the suite itself runs on GitHub Actions; tests that want them set them."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
