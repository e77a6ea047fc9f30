"""Repeated trials in JUnit: one testcase per scenario, not per trial, so CI test tabs stay readable.

`grouped` folds the trials of a scenario (consecutive results with the same index) into one result
record whose outcome is the scenario's own verdict (its `min_pass_rate` criterion over the trials;
see agentcheck.release.trials), built on a representative trial: the first passing one when the
scenario passed, else the first with the scenario's outcome. The record carries `trials` (one line
per trial) for <system-out>, and the rich form adds Surefire's `<flakyFailure>`/`<flakyError>` (a passed
scenario with failing or erroring trials; Jenkins and mikepenz/action-junit-report read them) or
`<rerunFailure>`/`<rerunError>` (the further non-passing trials of a failed scenario). The strict form
lists the trials only in <system-out>.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from agentcheck.reliability import ScenarioStats

_TRIAL_KEYS = ("trial", "outcome", "message", "duration_ms")


def grouped(results: Iterable[dict[str, Any]], stats: Mapping[int, ScenarioStats]) -> Iterator[dict[str, Any]]:
    """Results in index order, each scenario's trials folded into one record (see the module doc)."""
    for _, runs in itertools.groupby(results, key=lambda r: r.get("index")):
        group = list(runs)
        if len(group) == 1 and group[0].get("trial", 1) == 1:
            yield group[0]
        else:
            yield fold(group, stats.get(group[0].get("index")))  # type: ignore[arg-type]


def fold(group: list[dict[str, Any]], stats: ScenarioStats | None) -> dict[str, Any]:
    outcomes = [r.get("outcome") for r in group]
    verdict = stats.outcome.value if stats is not None else _verdict(outcomes)
    base = next((r for r in group if r.get("outcome") == verdict), group[0])
    passed = outcomes.count("passed")
    judged = sum(o in ("passed", "failed", "error") for o in outcomes)
    folded = dict(base)
    folded["trial"] = 1  # the scenario's testcase, named by its id whichever trial stands for it (CI history)
    folded["outcome"] = verdict
    note = f"{passed}/{judged} trials passed"
    if stats is not None and stats.required_pass_rate < 1:
        note += f" (needs {stats.required_pass_rate:.0%})"
    folded["message"] = f"{note}: {base.get('message')}" if base.get("message") else note
    folded["duration_ms"] = sum(float(r.get("duration_ms") or 0) for r in group)
    folded["trials"] = [
        {**{k: r.get(k) for k in _TRIAL_KEYS}, "trace_id": (r.get("trace") or {}).get("trace_id"),
         "representative": r is base}
        for r in group
    ]
    return folded


def _verdict(outcomes: list[Any]) -> str:
    judged = [o for o in outcomes if o in ("passed", "failed", "error")]
    if not judged:
        return "skipped"
    if all(o == "passed" for o in judged):
        return "passed"
    return "failed" if "failed" in judged else "error"


def trial_lines(result: Mapping[str, Any]) -> list[str]:
    trials = result.get("trials")
    if not isinstance(trials, list):
        return []
    lines = [f"trials: {sum(t.get('outcome') == 'passed' for t in trials)}/{len(trials)} passed"]
    for t in trials:
        message = f" - {t.get('message')}" if t.get("message") else ""
        lines.append(f"  trial {t.get('trial')}: {t.get('outcome')}{message} (trace {t.get('trace_id') or '-'})")
    return lines


def extra_failures(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(element, message, type) for the rich form, per non-passing trial: Surefire's flakyFailure /
    flakyError (a passed scenario) or rerunFailure / rerunError, failures before errors (the order
    Surefire's schema sequences them in)."""
    trials = result.get("trials")
    if not isinstance(trials, list):
        return []
    family = "flaky" if result.get("outcome") == "passed" else "rerun"
    found = [
        (f"{family}{'Error' if t.get('outcome') == 'error' else 'Failure'}",
         f"trial {t.get('trial')}: {t.get('message') or t.get('outcome')}", str(t.get("outcome")))
        for t in trials
        if t.get("outcome") in ("failed", "error") and not t.get("representative")
    ]
    return sorted(found, key=lambda item: item[0].endswith("Error"))  # (stable: trial order within each)
