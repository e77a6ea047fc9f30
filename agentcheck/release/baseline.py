"""Save a baseline: a results document a team commits or keeps as a CI artifact, for `--baseline`.

The file is the results document itself (checked to be one this version reads), copied atomically.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from agentcheck.release.results_file import ResultsFile


def save_baseline(source: Path, dest: Path) -> ResultsFile:
    document = ResultsFile(source, role="results")  # refuses anything that is not a results document
    if document._whole is not None and source.suffix == ".jsonl":
        from agentcheck.problems import BadInput, Problem

        raise BadInput([Problem(str(source), None, "", "a baseline must be a results.json document",
                                "pass reports/results.json (written by `agentcheck run`)")])
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return document
