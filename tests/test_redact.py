"""Secrets and PII are masked before any report sees them; judging still sees the real values."""

from __future__ import annotations

import pytest

from agentcheck.redact import MASK, Redactor
from tests.e2e_helpers import MINI_CONFIG, cli, write

KEY = "sk-proj-abcdefghijklmnop1234567890"
CARD = "4242 4242 4242 4242"


def test_default_patterns_keys_and_cards():
    r = Redactor()
    assert r.text(f"use {KEY} now") == f"use {MASK} now"
    assert r.text("Authorization: Bearer abc.def-ghi_123") == f"Authorization: {MASK}"
    assert r.text(f"card {CARD} ok") == "card [REDACTED card …4242] ok"
    assert r.text("order 1234 5678 9012 3456") == "order 1234 5678 9012 3456"  # fails Luhn: not a card
    data = r.data({"api_key": "x", "API-Key": "y", "nested": [{"password": "p", "note": KEY}], "amount": 42})
    assert data == {"api_key": MASK, "API-Key": MASK, "nested": [{"password": MASK, "note": MASK}], "amount": 42}


def test_project_patterns_and_keys_and_turning_defaults_off():
    r = Redactor(patterns=[r"(?i)cust-\d+"], keys=["email"])
    assert r.text("CUST-77 wrote") == f"{MASK} wrote"
    assert r.data({"Email": "a@b.c"}) == {"Email": MASK}
    bare = Redactor(defaults=False)
    assert bare.text(KEY) == KEY and bare.data({"password": "p"}) == {"password": "p"}


def test_nothing_secret_reaches_any_report(tmp_path):
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG + """
redact:
  keys: [customer_email]
""",
        "bot.py": f"""
            def run(task, tools):
                tools.lookup(id="{CARD}", customer_email="ada@example.com", token="{KEY}")
                return "charged {CARD} with key {KEY}"
        """,
        "scenarios/a.yaml": f"""
            id: leaky
            input: hi
            fixtures:
              lookup: [{{returns: {{secret: "{KEY}"}}}}]
            expect:
              tools:
                calls:
                  - lookup: {{id: "{CARD}"}}
              output: {{contains: ["{KEY}", "nope"]}}
        """,
    })
    done = cli("run", "-v", cwd=tmp_path)
    assert done.code == 1  # the output check for "nope" fails, so there is failure text to leak into
    written = [p.read_text() for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert len(written) >= 3  # results.jsonl, results.json, junit.xml
    for text in [*written, done.out, done.err]:
        assert KEY not in text
        assert CARD not in text
        assert "ada@example.com" not in text
    assert "[REDACTED card …4242]" in written[0] + written[1]


@pytest.mark.parametrize("prefix", [45, 65, 185, 300])
def test_secrets_are_masked_before_long_values_are_shortened(tmp_path, prefix):
    """Whatever length a message cuts a value at, no prefix of a secret survives."""
    long_body = "x" * prefix + f" {CARD} and {KEY} end"
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": f"""
            def run(task, tools):
                tools.lookup(id="{long_body}")
                return "{long_body}"
        """,
        "scenarios/a.yaml": """
            id: long
            input: hi
            fixtures:
              lookup: [{returns: 1}]
            expect:
              tools:
                calls:
                  - lookup: {id: {$contains: Ada}}
              output: {equals: nope}
        """,
    })
    done = cli("run", "-vv", cwd=tmp_path)
    assert done.code == 1
    texts = [p.read_text() for p in (tmp_path / "reports").rglob("*") if p.is_file()] + [done.out]
    for text in texts:
        assert "4242 4242 42" not in text  # not even a prefix of the card survives shortening
        assert "sk-proj-abcdefgh" not in text


def test_results_with_nothing_to_mask_are_streamed_as_they_are_and_others_are_masked(tmp_path, monkeypatch):
    """A run skips walking a result whose JSON text provably holds nothing to mask; the stream then
    carries exactly that text. A result with a secret under a sensitive key is still walked and masked."""
    import sys

    import orjson

    from agentcheck.session import RunOptions, run

    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": """
            def run(task, tools):
                found = tools.lookup(id=task.data["id"])
                return f"found {found['name']}"
        """,
        "scenarios/a.yaml": """
            scenarios:
              - id: clean
                input: {data: {id: "A1"}}
                fixtures: {lookup: [{returns: {name: Ada}}]}
              - id: keyed
                input: {data: {id: "B2"}}
                fixtures: {lookup: [{returns: {name: Bo, Access-Token: "plain-looking-value"}}]}
        """,
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    walked: list[str] = []
    original = Redactor.inplace

    def spy(self, obj):
        if type(obj).__name__ == "ScenarioResult":
            walked.append(obj.scenario_id)
        return original(self, obj)

    monkeypatch.setattr(Redactor, "inplace", spy)
    summary = run(RunOptions(cwd=tmp_path, json_path=False, junit_path=False))
    sys.modules.pop("bot", None)
    assert walked == ["keyed"]  # only the result with something to mask was walked
    stream = tmp_path / "reports" / "runs" / summary.run_id / "results.jsonl"
    lines = [orjson.loads(line) for line in stream.open("rb")]
    results = {r["result"]["scenario_id"]: r["result"] for r in lines if r["type"] == "result"}
    clean_call = results["clean"]["trace"]["events"][0]
    assert clean_call["result"] == {"name": "Ada"} and results["clean"]["outcome"] == "passed"
    keyed_call = results["keyed"]["trace"]["events"][0]
    assert keyed_call["result"] == {"name": "Bo", "Access-Token": MASK}
    assert "plain-looking-value" not in stream.read_text()


def test_a_sensitive_key_at_the_end_of_a_dotted_path_is_masked_too():
    """A policy decision records the values its condition read by path (`args.api_key`); the value
    is the argument's, so it is masked as the argument is."""
    r = Redactor()
    assert r.data({"values": {"args.api_key": "k-123", "args.amount": 5, "token.kind": "x"}}) == {
        "values": {"args.api_key": MASK, "args.amount": 5, "token.kind": "x"}
    }
    assert not r.leaves_json_alone('{"values":{"args.api_key":"k-123"}}')
    assert r.leaves_json_alone('{"values":{"args.amount":5,"args.order_id":"A1"}}')


PASSWORD = "Tr0ub4dorPW-never-shown"


def test_values_under_sensitive_keys_never_reach_a_report_written_out_as_text(tmp_path):
    """A call written as text (`login(password="...")` in a no-fixture error, a trajectory diff's
    actual calls), a key ending in a sensitive name (`db_password`, `newPassword`), a secret used as a
    dict key, and a str Enum the agent returns: masked in every report, annotation and console line."""
    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG.replace("tools:", "tools:\n  login: {parameters: {type: object}}"),
        "bot.py": f"""
            import enum

            class Kind(str, enum.Enum):
                KEY = "{KEY}"

            def run(task, tools):
                if task.text == "enum":
                    return Kind.KEY
                if task.text == "keys":
                    tools.lookup(id="A1", db_password="{PASSWORD}", newPassword="{PASSWORD}")
                    return {{"{KEY}": "as a key"}}
                tools.login(username="ada", password="{PASSWORD}", api_key="{PASSWORD}")
                return "done"
        """,
        "scenarios/a.yaml": """
            scenarios:
              - {id: no-fixture, input: login}
              - id: other-call
                input: login
                fixtures: {login: [{returns: {ok: true}}]}
                expect: {tools: {calls: [{login: {username: bob}}]}}
              - id: keys
                input: keys
                fixtures: {lookup: [{returns: {ok: true}}]}
                expect: {output: {equals: nope}}
              - {id: enum, input: enum, expect: {output: {equals: nope}}}
        """,
    })
    done = cli("run", "-v", "--md", "reports/summary.md", cwd=tmp_path,
               env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)})
    assert done.code == 1, done.out + done.err
    assert "ERROR no-fixture" in done.out and "FAILED other-call" in done.out and "FAILED enum" in done.out
    assert 'password="[REDACTED]"' in done.out  # the call is still readable, its secret is not there
    written = [p.read_text() for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert len(written) >= 4  # results.jsonl, results.json, junit.xml, summary.md
    for text in [*written, done.out, done.err]:
        assert PASSWORD not in text and KEY not in text


def test_jwts_and_url_credentials_are_masked_and_never_vouched_for():
    import json

    r = Redactor()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    assert r.text(f"session {jwt} ok") == f"session {MASK} ok"
    assert r.text("postgres://admin:hunter2@db:5432/app") == f"postgres://{MASK}@db:5432/app"
    assert r.text("see https://example.com/a@b") == "see https://example.com/a@b"  # no user:password
    for value in (jwt, "postgres://admin:hunter2@db"):
        assert not r.leaves_json_alone(json.dumps({"note": value}))
