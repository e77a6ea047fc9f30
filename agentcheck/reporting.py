"""A session's reports around the run: their paths checked before anything runs (and any money is
spent), and every reporter finished at the end, even if one fails — some, on merge, in worker
processes alongside the others (agentcheck.forked)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeGuard

from agentcheck.atomicfile import destination, written_in_place
from agentcheck.problems import Problem
from agentcheck.report.base import Reporter, ReportListingReporter, defined_at_or_below
from agentcheck.report.stream import ResultLog
from agentcheck.verdict import RunSummary


def output_problems(outputs: dict[str, Path]) -> list[Problem]:
    """Report paths that cannot be written, found before any scenario runs (and any money is spent)."""
    problems: list[Problem] = []
    seen: dict[Path, str] = {}
    for kind, path in outputs.items():
        where = path.resolve()
        if where in seen:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "",
                    f"the {kind} and {seen[where]} reports would overwrite each other",
                    "give them different paths",
                )
            )
            continue
        seen[where] = kind
        if path.is_dir():
            problems.append(Problem(str(path), None, "", f"the {kind} path is a folder", "give a file path"))
            continue
        if written_in_place(path):  # a pipe or a device (/dev/stdout): written straight into
            continue
        folder = destination(path).parent  # (a symbolic link: the file it points to is replaced)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "",
                    f"cannot create the folder for the {kind}: {exc.strerror or exc}",
                    "check the reports settings or flags",
                )
            )
            continue
        try:  # reports are written beside their path first, then moved into place: try exactly that
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            problems.append(Problem(str(path), None, "", f"cannot write in the folder for the {kind}: "
                                    f"{exc.strerror or exc}", "give a path in a folder you can write to"))
    return problems


def _wait_for(workers: list[tuple[Reporter, Any]], summary: RunSummary, failures: list[BaseException]) -> None:
    """Wait for the reporters finishing in workers (emptying `workers`); one that failed is not listed
    among the written reports, as when it fails here."""
    from agentcheck.forked import wait

    while workers:
        reporter, worker = workers.pop(0)
        try:
            wait(worker)
        except Exception as exc:
            failures.append(exc)
            kind = getattr(reporter, "kind", None)
            if kind is not None:
                summary.reports.pop(kind, None)


def _finished(finish: Callable[[RunSummary], None], summary: RunSummary, failures: list[BaseException]) -> None:
    try:
        finish(summary)
    except Exception as exc:
        failures.append(exc)


def _lists_reports(reporter: Reporter) -> TypeGuard[ReportListingReporter]:
    """Whether `reporter`'s finish comes in two parts (ReportListingReporter), and is not overridden
    whole below the class that splits it."""
    return isinstance(reporter, ReportListingReporter) and defined_at_or_below(reporter, "finish_unlisted", "finish")


def _rows_encoded_once(summary: RunSummary, reporters: list[Reporter]) -> Callable[[Reporter], RunSummary]:
    """The summary each reporter is given: the reporters that only write it out as JSON (the results
    stream's last line and the JSON report: `summary_as_json` in their own class) share one encoding
    of its scenario rows (9 MB for 20 000 scenarios: encoded twice, it was a tenth of a large merge),
    in a copy of it that holds them as their text; every other reporter gets the summary itself."""
    writers = [r for r in reporters if type(r).__dict__.get("summary_as_json")]  # (a subclass says so itself)
    release = summary.release
    if len(writers) < 2 or release is None:
        return lambda reporter: summary
    from dataclasses import replace

    from agentcheck.serialize import Encoded

    try:
        rows = Encoded(release.scenarios)
    except Exception:  # (then each encodes them as before, and says what is wrong, in its own turn)
        return lambda reporter: summary
    copy = replace(summary, release=replace(release, scenarios=rows))  # type: ignore[arg-type]
    chosen = {id(r) for r in writers}  # (the copy shares `reports` with the summary: what they add shows)
    return lambda reporter: copy if id(reporter) in chosen else summary


def finish_all(reporters: list[Reporter], summary: RunSummary, background: list[Reporter] | None = None,
                concurrent: list[Reporter] | None = None) -> None:
    """Every reporter gets to finish even if one fails (a full disk must not hide the console
    summary); the first failure is raised afterwards, as an internal error. The `background`
    reporters (files written from the result lines alone: merge's JSON report) finish in worker
    processes (agentcheck.forked), started first on the sealed results stream; only the `concurrent`
    reporters (the other report files) finish meanwhile: the rest (the console, an API user's own)
    finish after them, as they would in one process, seeing which reports were written. A reporter
    whose end lists the reports (ReportListingReporter: the console) does the part of its finish that
    lists none in its turn, and the rest after every other reporter: the console's verdict line is
    the last thing a CI log shows, after the release tables."""
    for reporter in reporters:
        path = getattr(reporter, "path", None)
        kind = getattr(reporter, "kind", None)
        if path is not None and kind is not None:
            summary.reports[kind] = str(path)
    failures: list[BaseException] = []
    workers: list[tuple[Reporter, Any]] = []
    written = _rows_encoded_once(summary, reporters)
    if background:
        from agentcheck.forked import forked_call

        for reporter in reporters:
            if isinstance(reporter, ResultLog):
                reporter.seal()
        for reporter in background:
            with contextlib.suppress(OSError):  # (no fork to be had: finished here, in its turn)
                workers.append((reporter, forked_call(partial(reporter.finish, written(reporter)))))
    aside = {id(reporter) for reporter, _ in workers}
    alongside = {id(reporter) for reporter in concurrent or ()}
    listing: list[Reporter] = []
    try:
        for reporter in reporters:
            if id(reporter) in aside:
                continue
            if id(reporter) not in alongside and _lists_reports(reporter):
                _finished(reporter.finish_unlisted, summary, failures)  # (meanwhile, if reports are still written)
                listing.append(reporter)
                continue
            if workers and id(reporter) not in alongside:
                _wait_for(workers, summary, failures)
            _finished(reporter.finish, written(reporter), failures)
        _wait_for(workers, summary, failures)
        for reporter in listing:  # the lists of reports, and the console's verdict line, come last
            _finished(reporter.finish, written(reporter), failures)
    finally:
        for _, worker in workers:  # (Ctrl-C meanwhile: stopped, and waited for)
            worker.close()
    if failures:
        raise failures[0]
