"""`agentcheck init`: write a small project that passes `agentcheck run` straight away."""

from __future__ import annotations

from pathlib import Path

from agentcheck.problems import BadInput, Problem

TEMPLATE = Path(__file__).parent / "templates" / "init"


def scaffold(directory: Path) -> list[Path]:
    """Copy the template (and the JSON Schemas editors use) into `directory`; never overwrites."""
    if directory.exists() and not directory.is_dir():
        raise BadInput(
            [Problem(str(directory), None, "", "is a file, not a folder", "give a folder to create the project in")]
        )
    files = sorted(p for p in TEMPLATE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    targets = [(src, directory / src.relative_to(TEMPLATE)) for src in files]
    clashes = [dst for _, dst in targets if dst.exists()]
    if clashes:
        raise BadInput(
            Problem(
                str(dst),
                None,
                "",
                "already exists; agentcheck init never overwrites files",
                "run it in an empty folder or pass another directory",
            )
            for dst in clashes
        )
    written = []
    for src, dst in targets:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
        written.append(dst)
    from agentcheck.collect.schema import write_schemas

    # the YAML files point editors at these: any missing is written (a schema already there is kept)
    written.extend(write_schemas(directory / "schemas", keep_existing=True))
    return written
