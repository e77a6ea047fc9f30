"""The run layer: gateway order, fixtures, budgets enforced mid-run, and every way an agent can end."""

from __future__ import annotations

import asyncio
import time

from agentcheck.runner.execute import execute
from agentcheck.runner.signals import ToolCallError
from agentcheck.scenario import Budget
from agentcheck.trace import StopKind, ToolStatus
from tests.run_helpers import AsyncFuncAgent, FuncAgent, error, fixture, scenario, setup, value


def run(sc, agent, **kw):
    return asyncio.run(execute(sc, setup(agent, **kw)))


def test_tool_calls_go_through_fixtures_and_are_recorded_in_order():
    def agent(task, tools, ctx):
        a = tools.lookup(id="A1")
        b = tools.call("refund", id="A1", amount=a["amount"])
        return f"{a['amount']} {b['ok']}"

    sc = scenario(
        fixtures={
            "lookup": fixture("lookup", rules=[({"id": "A1"}, value({"amount": 5}))]),
            "refund": fixture("refund", default=value({"ok": True})),
        }
    )
    trace = run(sc, FuncAgent(agent))
    assert trace.stop is None
    assert trace.output == "5 True"
    calls = trace.tool_calls()
    assert [(c.step, c.tool, c.status) for c in calls] == [(1, "lookup", ToolStatus.OK), (2, "refund", ToolStatus.OK)]
    assert calls[1].args == {"id": "A1", "amount": 5}
    assert calls[0].result == {"amount": 5}
    assert trace.totals.tool_calls == 2 and trace.totals.steps == 2
    assert len(trace.trace_id) == 32 and trace.agent == "a" and trace.agent_version == "1.2"


def test_first_matching_rule_wins_then_sequence_then_default():
    seen = []

    def agent(task, tools, ctx):
        for _ in range(4):
            try:
                seen.append(tools.lookup(id="Z"))
            except ToolCallError as exc:
                seen.append(exc.error_class)
        seen.append(tools.lookup(id="A1"))
        return "ok"

    sc = scenario(
        fixtures={
            "lookup": fixture(
                "lookup",
                rules=[({"id": "A1"}, value("rule"))],
                sequence=[value("first"), error("Throttled", "slow down", 429)],
                default=value("default"),
            )
        }
    )
    trace = run(sc, FuncAgent(agent))
    # sequence counts every call of the tool, including the rule-matched one at the end
    assert seen == ["first", "Throttled", "default", "default", "rule"]
    assert trace.tool_calls()[1].status is ToolStatus.ERROR
    assert trace.tool_calls()[1].error.status == 429


def test_missing_fixture_stops_the_run_with_a_named_call():
    def agent(task, tools, ctx):
        try:
            tools.refund(order_id="A9")
        except Exception:  # a broad except must not swallow the stop
            return "carried on"
        return "unreachable"

    trace = run(scenario(), FuncAgent(agent))
    assert trace.stop.kind is StopKind.NO_FIXTURE
    assert trace.stop.message == 'no fixture for refund(order_id="A9")'
    assert trace.output is None


def test_arguments_outside_the_schema_are_a_structured_error_and_a_violation():
    def agent(task, tools, ctx):
        try:
            tools.lookup(id=5)
        except ToolCallError as exc:
            return exc.to_payload()
        return "no error"

    sc = scenario(fixtures={"lookup": fixture("lookup", default=value(1))})
    trace = run(sc, FuncAgent(agent))
    call = trace.tool_calls()[0]
    assert call.status is ToolStatus.INVALID_ARGS
    assert "id" in call.violation and "string" in call.violation
    assert trace.output["error"]["type"] == "InvalidArguments"
    assert trace.output["error"]["status"] == 400


def test_unknown_and_invisible_tools_are_refused():
    def agent(task, tools, ctx):
        out = []
        for name in ("nope", "refund"):
            try:
                tools.call(name)
            except ToolCallError as exc:
                out.append(exc.error_class)
        return out

    trace = run(scenario(), FuncAgent(agent), tools=("lookup",))
    assert trace.output == ["UnknownTool", "UnknownTool"]
    assert all(c.status is ToolStatus.UNKNOWN_TOOL for c in trace.tool_calls())


def test_tool_call_cap_stops_the_run_before_the_extra_call():
    def agent(task, tools, ctx):
        for _ in range(10):
            tools.lookup(id="A1")
        return "done"

    sc = scenario(fixtures={"lookup": fixture("lookup", default=value(1))}, budget=Budget(max_tool_calls=3))
    trace = run(sc, FuncAgent(agent))
    assert trace.stop.kind is StopKind.BUDGET_EXCEEDED
    assert "max_tool_calls 3" in trace.stop.message
    assert trace.totals.tool_calls == 3
    assert trace.tool_calls()[-1].status is ToolStatus.STOPPED


def test_token_and_cost_caps_stop_after_the_model_call_that_crossed_them():
    def agent(task, tools, ctx):
        for _ in range(5):
            ctx.record_model_call("m", input_tokens=400, output_tokens=100, cost_usd=0.01)
        return "done"

    trace = run(scenario(budget=Budget(max_total_tokens=1200)), FuncAgent(agent))
    assert trace.stop.kind is StopKind.BUDGET_EXCEEDED
    assert "max_total_tokens" in trace.stop.message
    assert trace.totals.model_calls == 3 and trace.totals.total_tokens == 1500
    assert round(trace.totals.cost_usd, 6) == 0.03


def test_simulated_latency_uses_the_virtual_clock():
    def agent(task, tools, ctx):
        tools.lookup(id="A1")
        ctx.sleep(30)  # a 30 s back-off
        tools.lookup(id="A1")
        return "ok"

    sc = scenario(fixtures={"lookup": fixture("lookup", default=value(1, latency_ms=2000))})
    started = time.perf_counter()
    trace = run(sc, FuncAgent(agent))
    assert time.perf_counter() - started < 10  # real sleeps would take 34 s
    assert trace.tool_calls()[0].latency_ms >= 2000
    assert trace.tool_calls()[1].at_ms >= 32000
    assert trace.totals.wall_time_ms >= 34000
    assert trace.totals.virtual_wait_ms == 34000


def test_virtual_waits_count_against_the_wall_time_budget():
    def agent(task, tools, ctx):
        ctx.sleep(10)
        tools.lookup(id="A1")
        return "ok"

    sc = scenario(fixtures={"lookup": fixture("lookup", default=value(1))}, budget=Budget(max_wall_time_s=5))
    trace = run(sc, FuncAgent(agent))
    assert trace.stop.kind is StopKind.BUDGET_EXCEEDED
    assert "max_wall_time_s" in trace.stop.message


def test_crashing_agent_is_an_error_with_its_traceback():
    def agent(task, tools, ctx):
        raise ValueError("boom")

    trace = run(scenario(), FuncAgent(agent))
    assert trace.stop.kind is StopKind.CRASHED
    assert trace.stop.message == "the agent raised ValueError: boom"
    assert "ValueError: boom" in trace.stop.detail and "Traceback" in trace.stop.detail


def test_hanging_sync_agent_times_out_without_blocking():
    def agent(task, tools, ctx):
        time.sleep(5)
        return "late"

    started = time.perf_counter()
    trace = run(scenario(timeout_s=0.2), FuncAgent(agent))
    assert time.perf_counter() - started < 2
    assert trace.stop.kind is StopKind.TIMEOUT
    assert "0.2s" in trace.stop.message


def test_hanging_async_agent_times_out():
    async def agent(task, tools, ctx):
        await asyncio.sleep(10)

    trace = run(scenario(timeout_s=0.1), AsyncFuncAgent(agent))
    assert trace.stop.kind is StopKind.TIMEOUT


def test_garbage_output_is_an_error():
    trace = run(scenario(), FuncAgent(lambda t, tools, c: object()))
    assert trace.stop.kind is StopKind.BAD_OUTPUT
    assert "not JSON data" in trace.stop.message
    trace = run(scenario(), FuncAgent(lambda t, tools, c: None))
    assert trace.stop.kind is StopKind.BAD_OUTPUT
    assert "returned None" in trace.stop.message


def test_agent_mutating_a_result_does_not_change_the_fixture():
    def agent(task, tools, ctx):
        first = tools.lookup(id="A1")
        first["amount"] = 999
        return tools.lookup(id="A1")["amount"]

    sc = scenario(fixtures={"lookup": fixture("lookup", default=value({"amount": 5}))})
    assert run(sc, FuncAgent(agent)).output == 5


def test_sys_exit_and_keyboard_interrupt_from_an_agent_are_crashes_of_that_run():
    import sys

    for exc in (SystemExit(0), KeyboardInterrupt()):

        def agent(task, tools, ctx, exc=exc):
            raise exc

        trace = run(scenario(), FuncAgent(agent))
        assert trace.stop.kind is StopKind.CRASHED
        assert type(exc).__name__ in trace.stop.message
    assert sys.exc_info() == (None, None, None)


def test_crash_traceback_shows_the_agent_frames_not_the_harness():
    def agent(task, tools, ctx):
        return tools.lookup(id=5)  # invalid arguments raise ToolCallError the agent does not catch

    trace = run(scenario(fixtures={"lookup": fixture("lookup", default=value(1))}), FuncAgent(agent))
    assert trace.stop.kind is StopKind.CRASHED
    assert "InvalidArguments" in trace.stop.message
    assert "test_run_execute.py" in trace.stop.detail
    assert "agentcheck/" not in trace.stop.detail and "threading.py" not in trace.stop.detail


def test_outputs_that_are_not_json_data():
    nested: list = []
    cursor = nested
    for _ in range(100_000):
        cursor.append([])
        cursor = cursor[0]
    for output, words in (
        (nested, "nested too deeply"),
        (float("nan"), "not JSON data"),
        ({"x": float("inf")}, "not JSON"),
    ):
        trace = run(scenario(), FuncAgent(lambda t, tools, c, o=output: o))
        assert trace.stop.kind is StopKind.BAD_OUTPUT, output
        assert words in trace.stop.message


def test_positional_tool_arguments_get_a_clear_message():
    def agent(task, tools, ctx):
        tools.lookup("A1")

    trace = run(scenario(), FuncAgent(agent))
    assert "takes keyword arguments only" in trace.stop.message


def test_negative_usage_and_sleep_are_refused():
    def agent(task, tools, ctx):
        ctx.record_model_call("m", input_tokens=-5)

    assert "needs tokens, cost and latency >= 0" in run(scenario(), FuncAgent(agent)).stop.message

    def sleeper(task, tools, ctx):
        ctx.sleep(-1)

    assert "seconds >= 0" in run(scenario(), FuncAgent(sleeper)).stop.message
