"""The release-decision commands: `compare`, `rejudge`, `merge`, `baseline save`.

Thin shells over agentcheck.release and agentcheck.replay, registered on the main typer app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agentcheck.cli import ConfigOpt, _guard, app, end_without_teardown
from agentcheck.exitcodes import ExitCode

baseline_app = typer.Typer(help="Save the baseline that `--baseline` and `compare` read.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")

JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Write the JUnit XML report here.")]
MdOpt = Annotated[Path | None, typer.Option("--md", help="Write the Markdown summary here.")]
BaselineOpt = Annotated[Path | None, typer.Option("--baseline", help="Compare with this results file.")]
NoJsonOpt = Annotated[bool, typer.Option("--no-json", help="Write no JSON report (keeps the last run's).")]
NoJunitOpt = Annotated[bool, typer.Option("--no-junit", help="Write no JUnit report.")]
NoMdOpt = Annotated[bool, typer.Option("--no-md", help="Write no Markdown summary, not even on GitHub.")]
KeywordOpt = Annotated[list[str] | None, typer.Option("-k", help="Select scenario ids by substring or glob.")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", "-t", help="Select scenarios with this tag.")]


def _replay_options(command: str, config: Path | None, json_path: Path | None, junit_path: Path | None,
                    md_path: Path | None, baseline: Path | None, keyword: list[str] | None = None,
                    tag: list[str] | None = None, off: tuple[bool, bool, bool] = (False, False, False)) -> object:
    """The RunOptions of a command that reports saved results; `off`: no JSON, JUnit, Markdown."""
    from agentcheck.report.console import ConsoleReporter
    from agentcheck.report.release_console import ReleaseConsoleReporter
    from agentcheck.session import RunOptions

    no_json, no_junit, no_md = off
    return RunOptions(cwd=Path.cwd(), config=config, keywords=list(keyword or []), tags=list(tag or []),
                      json_path=False if no_json else json_path, junit_path=False if no_junit else junit_path,
                      md_path=False if no_md else md_path, baseline=baseline,
                      reporters=[ConsoleReporter(command=command), ReleaseConsoleReporter()])


@app.command()
def compare(
    base: Annotated[Path, typer.Argument(help="The baseline results file.")],
    new: Annotated[Path, typer.Argument(help="The new results file.")],
    config: ConfigOpt = None,
    all_changes: Annotated[bool, typer.Option("--all", help="List every change, not the first 30.")] = False,
    md_path: MdOpt = None,
) -> None:
    """Compare two results files; exit 1 when anything counts as a regression (the project's `regressions:`)."""

    def body() -> int:
        from agentcheck.release.compare import compare_files
        from agentcheck.report.markdown import write_comparison
        from agentcheck.report.release_console import _console, print_comparison

        project = _project(config)
        comparison = compare_files(base, new, project.regressions if project else None,
                                   project.handoff_tools if project else frozenset())
        print_comparison(_console(None), comparison, all_changes=all_changes,
                         more="--all lists every one" + (f"; so does {md_path}" if md_path else ""))
        write_comparison(comparison, md_path)
        return ExitCode.GATES_FAILED if comparison.regressions else ExitCode.OK

    end_without_teardown()
    raise typer.Exit(_guard(body, after="nothing was compared"))


def _project(config: Path | None) -> Any:
    """The project when a project file is found (for its regression rules and hand-off tools)."""
    from agentcheck.collect import find_config, load_project

    path = config or find_config(Path.cwd())
    return load_project(path, cwd=Path.cwd()) if path is not None else None  # none: the default rules


@app.command()
def rejudge(
    results: Annotated[Path, typer.Argument(help="A results.json (or a run's results.jsonl) with saved traces.")],
    config: ConfigOpt = None,
    keyword: KeywordOpt = None,
    tag: TagOpt = None,
    json_path: JsonOpt = None,
    junit_path: JunitOpt = None,
    md_path: MdOpt = None,
    baseline: BaselineOpt = None,
    no_json: NoJsonOpt = False,
    no_junit: NoJunitOpt = False,
    no_md: NoMdOpt = False,
) -> None:
    """Judge saved traces against the current expectations and gates, running no agent; report as a run."""

    def body() -> int:
        from agentcheck.replay import rejudge as rejudge_results

        options = _replay_options("rejudge", config, json_path, junit_path, md_path, baseline, keyword, tag,
                                  (no_json, no_junit, no_md))

        def dropped(count: int) -> None:
            typer.echo(f"agentcheck: {count} saved result{'s' if count != 1 else ''} left out: "
                       "scenario not in the current suite or selection", err=True)

        return rejudge_results(options, results, dropped).exit_code  # type: ignore[arg-type]

    raise typer.Exit(_guard(body, after="nothing was judged"))


@app.command()
def merge(
    shards: Annotated[list[Path], typer.Argument(help="The results files of the shard jobs.")],
    config: ConfigOpt = None,
    json_path: JsonOpt = None,
    junit_path: JunitOpt = None,
    md_path: MdOpt = None,
    baseline: BaselineOpt = None,
    no_json: NoJsonOpt = False,
    no_junit: NoJunitOpt = False,
    no_md: NoMdOpt = False,
) -> None:
    """Merge the results of `run --shard i/n` jobs into one report, with the gates of a single run."""

    def body() -> int:
        from agentcheck.replay import merge as merge_results

        options = _replay_options("merge", config, json_path, junit_path, md_path, baseline, off=(no_json, no_junit,
                                                                                                   no_md))

        def missing(ids: list[str]) -> None:
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            typer.echo(f"agentcheck: warning: {len(ids)} scenario{'s' if len(ids) != 1 else ''} of the suite "
                       f"in no shard file ({shown}): was a shard job missing?", err=True)

        return merge_results(options, shards, missing).exit_code  # type: ignore[arg-type]

    end_without_teardown()
    raise typer.Exit(_guard(body, after="nothing was merged"))


@baseline_app.command("save")
def baseline_save(
    results: Annotated[Path, typer.Argument(help="The results file to keep.")] = Path("reports/results.json"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the baseline.")] = Path(
        "reports/baseline.json"
    ),
) -> None:
    """Keep a results file as the baseline (commit it, or store it as a CI artifact)."""

    def body() -> int:
        from agentcheck.release.baseline import save_baseline

        document = save_baseline(results, out)
        typer.echo(f"baseline saved: {out} (run {document.run_id or '?'})")
        return ExitCode.OK

    raise typer.Exit(_guard(body, after="no baseline was written"))
