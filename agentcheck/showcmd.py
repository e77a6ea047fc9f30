"""`agentcheck show`: find a run's results and render one trace, or list what the run holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentcheck.exitcodes import ExitCode
from agentcheck.problems import BadInput, Problem


def latest_results(reports_dir: Path) -> Path | None:
    """The newest run's results file: run folders are named by UTC start time, so names sort by age."""
    runs = reports_dir / "runs"
    if not runs.is_dir():
        return None
    for run_dir in sorted((p for p in runs.iterdir() if p.is_dir()), reverse=True):
        candidate = run_dir / "results.jsonl"
        if candidate.is_file():
            return candidate
    return None


def _reports_dir(config: Path | None, cwd: Path) -> Path:
    from agentcheck.collect import find_config, load_project

    found = config or find_config(cwd)
    if found is None:
        return cwd / "reports"
    project = load_project(found, cwd=cwd)
    return project.reports.dir if project.reports else project.root / "reports"


def plain_console() -> Any:
    """A rich console that never hard-wraps text when output goes to a file or a CI log, so lines
    stay whole for grep and copy-paste."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(soft_wrap=True, width=max(console.width, 160))
    return console


def pick(results: list[dict[str, Any]], which: str) -> list[dict[str, Any]]:
    """Exact scenario id first, then trace-id prefix, then scenario-id substring."""
    exact = [r for r in results if r.get("scenario_id") == which]
    if exact:
        return exact
    by_trace = [r for r in results if (r.get("trace") or {}).get("trace_id", "").startswith(which)]
    if by_trace:
        return by_trace
    return [r for r in results if which in str(r.get("scenario_id", ""))]


def show_results(which: str | None, results_path: Path | None, config: Path | None, cwd: Path) -> int:
    from rich.table import Table
    from rich.text import Text

    from agentcheck.report.show import as_text, find_results, render_trace

    path = results_path or latest_results(_reports_dir(config, cwd))
    if results_path is not None and not results_path.exists():
        raise BadInput([Problem(str(results_path), None, "", "no such file or folder",
                                "pass a results.jsonl or results.json written by `agentcheck run`, or its folder")])
    if path is None:
        raise BadInput([Problem("reports/runs", None, "", "no results found",
                                "run `agentcheck run` first, or pass --results")])
    try:
        results = find_results(path)
    except (ValueError, OSError) as exc:
        raise BadInput(
            [
                Problem(
                    str(path),
                    None,
                    "",
                    str(exc).removeprefix(f"{path}: "),
                    "pass a results.jsonl or results.json written by `agentcheck run`",
                )
            ]
        ) from None
    console = plain_console()
    if which is None:
        table = Table(title=Text(str(path)), show_lines=False)
        for column in ("#", "scenario", "trial", "outcome", "trace id"):
            table.add_column(column)
        for r in results:  # (as text: a `[drill: …]` in an id is not markup)
            trace_id = (r.get("trace") or {}).get("trace_id", "")
            table.add_row(*(Text(as_text(value)) for value in (
                r.get("index"), r.get("scenario_id", ""), r.get("trial", 1), r.get("outcome", ""), trace_id)))
        console.print(table)
        console.print("show one: agentcheck show SCENARIO_ID (or a trace id prefix)")
        return ExitCode.OK
    if not which.strip():
        raise BadInput([Problem(None, None, "", "an empty id selects nothing", "omit it to list the results")])
    chosen = pick(results, which)
    candidates = {r.get("scenario_id") for r in chosen}
    if len(candidates) > 1:
        listed = ", ".join(sorted(str(c) for c in candidates)[:10])
        raise BadInput(
            [
                Problem(
                    str(path),
                    None,
                    "",
                    f"'{which}' matches {len(candidates)} scenarios: {listed}",
                    "give the whole scenario id or a trace id prefix",
                )
            ]
        )
    if not chosen:
        from agentcheck.problems import did_you_mean

        ids = [r.get("scenario_id", "") for r in results]
        raise BadInput([Problem(str(path), None, "", f"no result for '{which}'", did_you_mean(which, ids))])
    if len(chosen) > 1:  # the trials of one scenario: which did what, before each is shown in turn
        outcomes = ", ".join(f"trial {r.get('trial', 1)} {as_text(r.get('outcome')).upper()}" for r in chosen)
        console.print(Text(f"{as_text(chosen[0].get('scenario_id'))}: {len(chosen)} runs ({outcomes})"))
        console.print()
    for result in chosen:
        render_trace(result, console)
    return ExitCode.OK
