"""Drive the real `agentcheck` command in a subprocess on temporary projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def agentcheck_exe() -> str:
    candidate = Path(sys.executable).with_name("agentcheck")
    return str(candidate) if candidate.exists() else (shutil.which("agentcheck") or "agentcheck")


@dataclass
class Done:
    code: int
    out: str
    err: str


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Done:
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "140", **(env or {})}
    environment.pop("GITHUB_STEP_SUMMARY", None)
    proc = subprocess.run(
        [agentcheck_exe(), *args],
        cwd=cwd,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        env=environment,
        timeout=timeout,
    )
    return Done(proc.returncode, proc.stdout, proc.stderr)


def copy_example(dest: Path) -> Path:
    """The repository's example project, copied so tests never write into the checkout."""
    for name in ("agentcheck.yaml", "scenarios", "fixtures", "examples", "schemas", "cassettes"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy(src, dest / name)
    return dest


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


MINI_CONFIG = """
version: 1
agents:
  bot: {kind: python, entrypoint: bot:run}
tools:
  lookup:
    parameters: {type: object, properties: {id: {type: string}}, required: [id]}
defaults: {timeout_s: 5}
"""
