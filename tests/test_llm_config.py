"""The model parts of agentcheck.yaml: bad input is reported with its line, prices and back-off math."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

from agentcheck.llm.upstream import retry_after_s
from agentcheck.modelspec import DEFAULT_PRICES, ModelPrice, find_price
from tests.e2e_helpers import cli
from tests.model_helpers import FIXTURES, project

SCENARIO = 'id: s1\ninput: "hi"\n' + FIXTURES


def test_model_settings_problems_are_bad_input_with_lines(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", SCENARIO, agent="""
system_prompt_file: prompts/missing.md
routes: {default: gpt-4o-mini, rules: [after_tool_error]}
temperature: "0"
""", extra="cassettes: {secret_patterns: ['(unclosed']}")
    done = cli("validate", cwd=tmp_path)
    assert done.code == 2, done.out + done.err
    lines = done.err.splitlines()
    assert any("agents.bot.temperature" in line and "number" in line for line in lines), done.err
    assert any("agentcheck.yaml:8 at agents.bot.system_prompt_file: file not found: prompts/missing.md" in line
               for line in lines), done.err
    assert any("agents.bot.routes.rules: escalation rules need an escalation model" in line for line in lines)
    assert any("cassettes.secret_patterns[0]: not a regular expression" in line for line in lines), done.err


def test_an_openai_agent_needs_a_model(tmp_path: Path):
    project(tmp_path, "http://127.0.0.1:9/v1", SCENARIO)
    config = tmp_path / "agentcheck.yaml"
    config.write_text(config.read_text().replace("    model: gpt-4o-mini\n", ""))
    done = cli("validate", cwd=tmp_path)
    assert done.code == 2
    assert "agent 'bot' of kind openai needs a model" in done.err


def test_prices_follow_snapshots_and_bill_cached_tokens_at_their_rate():
    assert find_price("gpt-4o-mini-2024-07-18", DEFAULT_PRICES) is DEFAULT_PRICES["gpt-4o-mini"]
    assert find_price("gpt-4o-2024-08-06", DEFAULT_PRICES) is DEFAULT_PRICES["gpt-4o"]
    assert find_price("acme-1", DEFAULT_PRICES) is None
    price = ModelPrice(input=2.0, output=8.0, cached_input=0.5)
    assert price.cost(1_000_000, 0) == 2.0
    assert price.cost(1_000_000, 1_000_000, cached_tokens=1_000_000) == 8.5
    assert ModelPrice(input=2.0, output=8.0).cost(10, 0, cached_tokens=10) == 0.00002


def test_retry_after_in_seconds_or_as_a_date_else_doubling_back_off():
    assert retry_after_s("7", 1) == 7.0
    assert retry_after_s("600", 1) == 30.0  # capped
    assert 9.0 <= retry_after_s(formatdate(time.time() + 10, usegmt=True), 1) <= 10.0
    assert [retry_after_s(None, n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_after_s("soon", 2) == 1.0


def test_the_default_run_of_the_example_replays_cassettes_offline(tmp_path: Path):
    from tests.e2e_helpers import copy_example

    root = copy_example(tmp_path)
    done = cli("run", "scenarios/refunds-llm.yaml", cwd=root, env={"OPENAI_API_KEY": ""})
    assert done.code == 0, done.out + done.err
    assert "5 passed, 0 failed, 0 error" in done.out
