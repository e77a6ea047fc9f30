"""The python adapter: entrypoints that load, ones that do not, and every call signature."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from agentcheck.agents.base import AgentLoadError, build_agent
from agentcheck.project import AgentSpec
from agentcheck.runner.execute import RunSetup, execute
from agentcheck.runner.gateway import ToolCatalog
from tests.run_helpers import CATALOG, fixture, scenario, value


def write_module(tmp_path, name, body):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))


def run_agent(tmp_path, entry, sc=None):
    spec = AgentSpec("a", "python", entry)
    agent = build_agent(spec, tmp_path)
    setup = RunSetup(ToolCatalog(CATALOG), {"a": agent}, {"a": spec}, 5.0)
    return asyncio.run(execute(sc or scenario(text="hi"), setup))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("def run(task): return task.text.upper()", "HI"),
        ("def run(task, tools): return len(tools.names)", 2),
        ("def run(task, tools, context): return context.scenario_id", "s1"),
        ("async def run(task, tools, context):\n    return context.trial", 1),
        ("class A:\n    async def __call__(self, task, tools, ctx):\n        return 'async-callable'\nrun = A()",
         "async-callable"),
    ],
)
def test_every_supported_signature(tmp_path, monkeypatch, body, expected):
    name = f"mod_{abs(hash(body))}"
    write_module(tmp_path, name, body)
    trace = run_agent(tmp_path, f"{name}:run")
    assert trace.stop is None, trace.stop
    assert trace.output == expected


def test_async_agent_can_await_tools(tmp_path):
    write_module(tmp_path, "asyncagent", """
        async def run(task, tools):
            return await tools.acall("lookup", id="A1")
    """)
    sc = scenario(fixtures={"lookup": fixture("lookup", default=value({"ok": 1}))})
    assert run_agent(tmp_path, "asyncagent:run", sc).output == {"ok": 1}


def test_entrypoint_shape_is_checked(tmp_path):
    with pytest.raises(AgentLoadError, match="module:function"):
        build_agent(AgentSpec("a", "python", "no_colon"), tmp_path)


def test_import_error_names_the_file_and_line(tmp_path):
    write_module(tmp_path, "broken_agent", "x = 1\nimport does_not_exist_anywhere\n")
    with pytest.raises(AgentLoadError) as info:
        build_agent(AgentSpec("a", "python", "broken_agent:run"), tmp_path)
    assert "does not import" in info.value.message
    assert "ModuleNotFoundError" in info.value.message
    assert "broken_agent.py:2" in info.value.message
    with pytest.raises(AgentLoadError) as missing:
        build_agent(AgentSpec("a", "python", "no_such_agent_module:run"), tmp_path)
    assert "No module named 'no_such_agent_module'" in missing.value.message
    assert "frozen" not in missing.value.message and "__init__.py" not in missing.value.message  # no importlib line


def test_missing_attribute_and_unknown_kind(tmp_path):
    write_module(tmp_path, "noattr", "def other(): pass\ndef rnu(): pass\n")
    with pytest.raises(AgentLoadError, match="has no attribute 'run'") as missing:
        build_agent(AgentSpec("a", "python", "noattr:run"), tmp_path)
    assert missing.value.hint == "did you mean 'rnu'?"
    with pytest.raises(AgentLoadError) as unlike:
        build_agent(AgentSpec("a", "python", "noattr:zzz"), tmp_path)
    assert unlike.value.hint == "it defines: other, rnu"
    with pytest.raises(AgentLoadError, match="unknown agent kind 'rust'"):
        build_agent(AgentSpec("a", "rust", "x:y"), tmp_path)


def test_sys_exit_at_import_is_a_load_error(tmp_path):
    write_module(tmp_path, "exits_on_import", "import sys\nsys.exit(7)\n")
    with pytest.raises(AgentLoadError, match=r"called sys.exit\(7\) while importing"):
        build_agent(AgentSpec("a", "python", "exits_on_import:run"), tmp_path)


def test_an_async_agent_that_blocks_still_times_out(tmp_path):
    import time

    write_module(tmp_path, "blocking_async", """
        import time
        async def run(task):
            time.sleep(3)
            return "late"
    """)
    spec = AgentSpec("a", "python", "blocking_async:run", timeout_s=0.2)
    setup = RunSetup(ToolCatalog(CATALOG), {"a": build_agent(spec, tmp_path)}, {"a": spec}, 5.0)
    started = time.perf_counter()
    trace = asyncio.run(execute(scenario(), setup))
    assert time.perf_counter() - started < 2
    assert trace.stop.kind.value == "timeout"
