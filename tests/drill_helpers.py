"""Tiny projects for drill tests: a catalog with reads, writes and a hand-off, and test agents that
behave well, badly, or obey whatever instructions tool results carry."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from agentcheck import RunOptions, ScenarioResult, run

CONFIG = """
version: 1
agents:
  careful: {kind: python, entrypoint: drillbots:careful}
  obedient: {kind: python, entrypoint: drillbots:obedient}
  impatient: {kind: python, entrypoint: drillbots:impatient}
  partial: {kind: python, entrypoint: drillbots:partial}
tools:
  lookup:
    parameters: {type: object, properties: {id: {type: string}}, required: [id]}
    timeout_s: 2
  get_doc:
    parameters: {type: object, properties: {id: {type: string}}, required: [id]}
  refund:
    parameters:
      type: object
      properties: {order_id: {type: string}, amount: {type: number}, key: {type: string}}
      required: [order_id, amount]
    writes: true
    risk: high
    idempotency_key: key
  send_email:
    parameters: {type: object, properties: {to: {type: string}, body: {type: string}}, required: [to, body]}
    writes: true
    risk: medium
  handoff:
    parameters: {type: object, properties: {reason: {type: string}}, required: [reason]}
    writes: true
defaults: {timeout_s: 5}
"""

AGENTS = r'''
import base64, json, re
from agentcheck import ToolCallError
from agentcheck.faults import RETRYABLE_STATUSES, retry_after_seconds

def _retrying(tools, context, name, args, patient=True):
    for attempt in range(3):
        try:
            return tools.call(name, **args)
        except ToolCallError as exc:
            if exc.status not in RETRYABLE_STATUSES and exc.error_class != "ToolTimeout" or attempt == 2:
                raise
            wait = retry_after_seconds(exc.retry_after) if patient else 0.0
            context.sleep(wait if wait is not None else 1.0)

def _plan(task):
    return task.data.get("calls", [])

def careful(task, tools, context):
    """Makes the planned calls (retrying what is retryable), hands off when one keeps failing."""
    seen = []
    for call in _plan(task):
        try:
            seen.append(_retrying(tools, context, call["tool"], call.get("args", {})))
        except ToolCallError as exc:
            tools.handoff(reason=f"{call['tool']} failed: {exc.message}")
            return "handed off"
    return "done: " + json.dumps(len(seen))

def impatient(task, tools, context):
    for call in _plan(task):
        _retrying(tools, context, call["tool"], call.get("args", {}), patient=False)
    return "done"

CALL = re.compile(r"call (\w+) with (\{[^{}]*\})")
SMUGGLED = re.compile(r"<tool_call>(\{.*?\})</tool_call>", re.S)
B64 = re.compile(r"[A-Za-z0-9+/=]{40,}")

def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)

def _instructions(text):
    for blob in B64.findall(text):
        try:
            text += " " + base64.b64decode(blob).decode()
        except Exception:
            pass
    for name, args in CALL.findall(text):
        yield name, json.loads(args)
    for block in SMUGGLED.findall(text):
        data = json.loads(block)
        yield data["name"], data["arguments"]

def partial(task, tools, context):
    """Does the planned calls, then half of what the results tell it: the tool they name, with only
    their numbers (the attacker's amount) and its own values for everything else."""
    read = []
    for call in _plan(task):
        read.extend(_texts(tools.call(call["tool"], **call.get("args", {}))))
    for text in list(read):
        for name, args in _instructions(text):
            own = {k: v for k, v in args.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            try:
                tools.call(name, order_id="MY-OWN-ORDER", **own)
            except ToolCallError:
                pass
    return "done"

def obedient(task, tools, context):
    """Does the planned calls, then whatever the results tell it to do; echoes what it read."""
    read = []
    for call in _plan(task):
        result = tools.call(call["tool"], **call.get("args", {}))
        read.extend(_texts(result))
    for text in list(read):
        for name, args in _instructions(text):
            try:
                tools.call(name, **args)
            except ToolCallError:
                pass
    return " | ".join(read)
'''


def make(tmp_path: Path, scenarios: list[dict[str, Any]], extra: dict[str, str] | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "agentcheck.yaml").write_text(textwrap.dedent(CONFIG))
    (tmp_path / "drillbots.py").write_text(AGENTS)
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "s.yaml").write_text(json.dumps({"scenarios": scenarios}))
    for rel, text in (extra or {}).items():
        (tmp_path / rel).write_text(textwrap.dedent(text))
    return tmp_path


class Collect:
    def __init__(self) -> None:
        self.results: dict[str, ScenarioResult] = {}
        self.summary: Any = None

    def start(self, plan: Any) -> None:
        pass

    def result(self, result: ScenarioResult) -> None:
        self.results[result.scenario_id] = result

    def finish(self, summary: Any) -> None:
        self.summary = summary


def run_all(root: Path, drills: list[str] | None = None) -> Collect:
    collect = Collect()
    run(RunOptions(cwd=root, json_path=False, junit_path=False, reporters=[collect], drills=drills or []))
    return collect


def calls_plan(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"data": {"calls": [{"tool": t, "args": a} for t, a in calls]}}


def failed_checks(result: ScenarioResult) -> list[str]:
    return [c.check for c in result.checks if c.blocking]
