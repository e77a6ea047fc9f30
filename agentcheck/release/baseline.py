"""Save a baseline: a results document a team commits or keeps as a CI artifact, for `--baseline`.

The file is the results document itself (checked to be one this version reads), copied atomically.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from agentcheck.atomicfile import replacing
from agentcheck.release.results_file import ResultsFile


def save_baseline(source: Path, dest: Path) -> ResultsFile:
    document = ResultsFile(source, role="results")  # refuses anything that is not a results document
    if document._whole is not None and source.suffix == ".jsonl":
        from agentcheck.problems import BadInput, Problem

        raise BadInput([Problem(str(source), None, "", "a baseline must be a results.json document",
                                "pass reports/results.json (written by `agentcheck run`)")])
    for _ in document.results():  # every result checked (ResultsFile.checked): a damaged file is refused
        pass
    with replacing(dest) as tmp:
        shutil.copyfile(source, tmp)
    return document
