"""The `agentcheck` command: a thin shell over the library API in `agentcheck.session`.

It parses flags, picks reporters, and maps outcomes to exit codes (docs/exit-codes.md): bad input
is printed as one line per problem and exits 2, never as a traceback; an internal error prints one
line, saves the traceback under reports/, and exits 3. Heavy modules load inside the commands so
`agentcheck --help` starts fast.
"""

from __future__ import annotations

import atexit
import gc
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from agentcheck.exitcodes import ExitCode

app = typer.Typer(
    name="agentcheck",
    help="Replay scenarios against an agent with mocked tools, judge its tool trace, apply release gates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

def _print_version(value: bool) -> None:
    if value:
        from agentcheck import __version__

        typer.echo(f"agentcheck {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", "-V", is_eager=True, callback=_print_version,
                                          help="Print agentcheck's version and exit.")] = False,
) -> None:
    """Replay scenarios against an agent with mocked tools, judge its tool trace, apply release gates."""


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Project file (default: agentcheck.yaml here or in a parent folder).",
        envvar="AGENTCHECK_CONFIG",
    ),
]


def _guard(action: Callable[[], int], *, after: str = "nothing was run") -> int:
    """Run a command body, turning bad input and internal errors into their exit codes. `after` says
    what bad input left undone, in the problem count's line."""
    from agentcheck.problems import BadInput

    try:
        return action()
    except BadInput as exc:
        count = len(exc.problems)
        for problem in exc.problems:
            typer.echo(f"error: {problem.render()}", err=True)
        typer.echo(f"agentcheck: {count} problem{'s' if count != 1 else ''} found; {after}.", err=True)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        typer.echo("agentcheck: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except OSError as exc:
        if not exc.filename:  # not about a path the user gave: a fault of ours, below
            return _internal_error(exc)
        typer.echo(f"error: {exc.filename}: {exc.strerror or exc}", err=True)
        typer.echo("agentcheck: cannot read or write that path; give another (a file, in a folder you can write to).",
                   err=True)
        return ExitCode.BAD_INPUT
    except Exception as exc:
        return _internal_error(exc)


_without_teardown = False
"""Set by `end_without_teardown`; read by `main` when the command is over."""


def end_without_teardown() -> None:
    """Let this command's process end without the interpreter's teardown, which frees every object
    still alive one by one (0.04 s after a 2 x 10 000 merge) only for the process's end to free them
    anyway. For commands that run only agentcheck's own code on files (merge, compare): their
    files are closed and their workers waited for before they return, and no user code has left exit
    handlers to run (`run`, whose Python agents may have, ends as usual). mypy ends the same way."""
    global _without_teardown
    _without_teardown = True


def _end_now(code: object) -> None:
    """`sys.exit(code)` without the teardown: standard output and error flushed, then `os._exit`. If
    flushing fails (a closed pipe), returns, and the usual exit reports it as it always does."""
    import os

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(status)


def _internal_error(exc: Exception) -> int:
    saved = _save_traceback()
    typer.echo(f"agentcheck: internal error: {type(exc).__name__}: {exc}", err=True)
    typer.echo(f"agentcheck: the traceback is in {saved}; please report it.", err=True)
    return ExitCode.INTERNAL_ERROR


def _save_traceback() -> str:
    """Beside the project's reports when a project is found, else in the temp folder (never a new
    `reports/` folder wherever the command happened to run)."""
    import tempfile

    from agentcheck.collect import find_config

    try:
        config = find_config(Path.cwd())
    except Exception:
        config = None
    folder = config.parent / "reports" if config is not None else Path(tempfile.gettempdir())
    path = folder / "agentcheck-internal-error.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc(), encoding="utf-8")
        return str(path)
    except OSError:
        sys.stderr.write(traceback.format_exc())
        return "<stderr>"


@app.command()
def run(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Scenario files or folders (default: from the project).")
    ] = None,
    config: ConfigOpt = None,
    keyword: Annotated[
        list[str] | None, typer.Option("-k", help="Select scenario ids by substring or glob (repeatable).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Select scenarios with this tag (repeatable).")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-j", min=1, help="Scenarios run at once.", envvar="AGENTCHECK_CONCURRENCY"),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.001, help="Per-run timeout in seconds.", envvar="AGENTCHECK_TIMEOUT"),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", "-x", help="Start no new scenario after a failure.")
    ] = False,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here.", envvar="AGENTCHECK_JSON")
    ] = None,
    no_json: Annotated[bool, typer.Option("--no-json", help="Write no JSON report.")] = False,
    junit_path: Annotated[
        Path | None, typer.Option("--junit", help="Write the JUnit XML report here.", envvar="AGENTCHECK_JUNIT")
    ] = None,
    no_junit: Annotated[bool, typer.Option("--no-junit", help="Write no JUnit report.")] = False,
    junit_strict: Annotated[
        bool | None,
        typer.Option(
            "--junit-strict/--junit-rich", help="JUnit form: strict junit-10.xsd, or rich (file, line, properties)."
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Show passing checks too.")] = 0,
    drill: Annotated[
        list[str] | None,
        typer.Option("--drill", help="Also run each scenario under a drill: throttle, timeout, outage, stale, "
                     "injection (repeatable; see docs/drills.md)."),
    ] = None,
    trials: Annotated[
        int | None, typer.Option("--trials", "-n", min=1, max=1000, help="Run each scenario N times (pass^k, flaky).")
    ] = None,
    shard: Annotated[
        str | None, typer.Option("--shard", help="Run only shard i of n (i/n, stable by scenario id).")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Compare with this results file (regressions, max_regressions).")
    ] = None,
    md_path: Annotated[
        Path | None, typer.Option("--md", help="Write the Markdown summary here (also $GITHUB_STEP_SUMMARY when set).")
    ] = None,
    no_md: Annotated[bool, typer.Option("--no-md", help="Write no Markdown summary, not even on GitHub.")] = False,
    record: Annotated[
        str | None,
        typer.Option(
            "--record",
            help="Model cassettes: --record re-records every one used; --record=missing records only misses.",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", envvar="AGENTCHECK_OFFLINE",
                     help="Replay model cassettes only: a call with no recording is a cassette miss, never a real "
                          "request (for CI)."),
    ] = False,
) -> None:
    """Run scenarios, judge their traces, apply the release gates; exit 0 when every gate passes."""

    def body() -> int:
        from agentcheck.modelspec import RECORD_MODES
        from agentcheck.problems import BadInput, Problem
        from agentcheck.release.shard import parse_shard

        if record is not None and record not in RECORD_MODES:
            raise BadInput([Problem(None, None, "--record", f"unknown record mode '{record}'",
                                    "use --record (all) or --record=missing")])
        if offline and record is not None:
            raise BadInput([Problem(None, None, "--offline", "--offline replays cassettes only; --record calls the "
                                    "model", "leave one of them out (AGENTCHECK_OFFLINE may set --offline)")])
        from agentcheck.report.console import ConsoleReporter
        from agentcheck.report.release_console import ReleaseConsoleReporter
        from agentcheck.session import RunOptions
        from agentcheck.session import run as run_suite

        options = RunOptions(
            cwd=Path.cwd(),
            config=config,
            paths=list(paths or []),
            keywords=list(keyword or []),
            tags=list(tag or []),
            concurrency=concurrency,
            timeout_s=timeout,
            fail_fast=fail_fast,
            json_path=False if no_json else json_path,
            junit_path=False if no_junit else junit_path,
            junit_strict=junit_strict,
            reporters=[ConsoleReporter(verbose=verbose), ReleaseConsoleReporter(verbose=verbose)],
            drills=list(drill or []),
            trials=trials,
            shard=parse_shard(shard) if shard is not None else None,
            baseline=baseline,
            md_path=False if no_md else md_path,
            record="offline" if offline else record or "none",
        )
        return run_suite(options).exit_code

    raise typer.Exit(_guard(body))


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Scenario files or folders (default: from the project).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Check every project, scenario and fixture file and resolve references; run nothing."""

    def body() -> int:
        from agentcheck.calls import plural
        from agentcheck.session import RunOptions, build_setup, load_suite

        project, scenarios = load_suite(RunOptions(cwd=Path.cwd(), config=config, paths=list(paths or [])))
        build_setup(project, scenarios)
        files = len({s.source.file for s in scenarios})
        typer.echo(
            f"ok: {plural(len(scenarios), 'scenario')} in {plural(files, 'file')}, "
            f"{plural(len(project.agents), 'agent')}, {plural(len(project.tools), 'tool')}, "
            f"{plural(len(project.gates), 'gate')}"
        )
        return ExitCode.OK

    raise typer.Exit(_guard(body))


@app.command()
def schema(
    kind: Annotated[
        str | None, typer.Argument(help="project, scenario, fixtures, policy or results (default: scenario).")
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write this kind's schema (default: project, scenario, fixtures and policy) "
                                     "into this folder."),
    ] = None,
) -> None:
    """Print the JSON Schema of a file kind, for editors and CI checks."""

    def body() -> int:
        import json

        from agentcheck.collect.schema import json_schema, write_schemas
        from agentcheck.problems import BadInput, Problem, did_you_mean

        kinds = ("project", "scenario", "fixtures", "policy", "results")
        if write is not None and kind is None:
            write_schemas(write)
            typer.echo(f"wrote schemas to {write}")
            return ExitCode.OK
        kind_ = kind or "scenario"
        if kind_ not in kinds:
            raise BadInput(
                [
                    Problem(
                        None,
                        None,
                        "",
                        f"unknown schema kind '{kind_}'",
                        did_you_mean(kind_, kinds) or f"one of {', '.join(kinds)}",
                    )
                ]
            )
        if kind_ == "results":
            data: Any = json.loads((Path(__file__).parent / "schemas" / "results.schema.json").read_text())
        else:
            data = json_schema(kind_)
        if write is not None:  # just this kind's file, as `--write` alone writes it
            from agentcheck.collect.schema import SCHEMA_FILES, render

            write.mkdir(parents=True, exist_ok=True)
            target = write / SCHEMA_FILES.get(kind_, f"{kind_}.schema.json")
            target.write_text(render(kind_) if kind_ in SCHEMA_FILES else json.dumps(data, indent=2) + "\n",
                              encoding="utf-8")
            typer.echo(f"wrote {target}")
            return ExitCode.OK
        typer.echo(json.dumps(data, indent=2))
        return ExitCode.OK

    raise typer.Exit(_guard(body))


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
) -> None:
    """Scaffold a project (config, an example agent, scenarios, fixtures) that passes `agentcheck run`."""

    def body() -> int:
        from agentcheck.scaffold import scaffold

        written = scaffold(directory)
        for path in written:
            typer.echo(f"created {path}")
        here = Path(directory).resolve() == Path.cwd().resolve()
        typer.echo("next: agentcheck run" if here else f"next: cd {directory} && agentcheck run")
        return ExitCode.OK

    raise typer.Exit(_guard(body))


@app.command()
def show(
    which: Annotated[str | None, typer.Argument(help="Scenario id or trace id (prefix) to show; omit to list.")] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            "--results", "-r", help="results.jsonl or results.json (default: the latest run under reports/runs)."
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Render one run's trace in the terminal: steps, calls, results, decisions, checks."""

    def body() -> int:
        from agentcheck.showcmd import show_results

        return show_results(which, results, config, Path.cwd())

    raise typer.Exit(_guard(body))


policy_app = typer.Typer(help="Inspect the tool-use policy (docs/policy.md).", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("lint")
def policy_lint(
    config: ConfigOpt = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the findings as Markdown.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the findings as JSON.")] = None,
) -> None:
    """Least-privilege findings of the policy, without running anything; exit 1 on a severe one."""

    def body() -> int:
        from agentcheck.policycmd import lint_command

        return lint_command(config, Path.cwd(), markdown, json_path)

    raise typer.Exit(_guard(body))


@policy_app.command("report")
def policy_report(config: ConfigOpt = None) -> None:
    """Print the least-privilege report of the last run: scopes granted vs used, and the findings."""

    def body() -> int:
        from agentcheck.policycmd import report_command

        return report_command(config, Path.cwd())

    raise typer.Exit(_guard(body))


from agentcheck import cli_release  # noqa: E402,F401  (registers compare, rejudge, merge, baseline)


def main() -> None:
    for stream in (sys.stdout, sys.stderr):
        # A console that cannot encode a character (cp1252 and ✗) must not turn a report into a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    # A bare `--record` means "re-record everything"; typer options always take a value.
    sys.argv = [("--record=all" if arg == "--record" else arg) for arg in sys.argv]
    # The interpreter's last act is a full cyclic collection over every object still alive: after a
    # merge of 2 x 10 000 results, 0.4 s spent proving garbage that the process's end frees anyway.
    # Frozen objects are left out of it (files are still flushed and closed: they are not in cycles).
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        app()
    except SystemExit as done:
        if _without_teardown:
            _end_now(done.code)
        raise
