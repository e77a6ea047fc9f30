"""Review of the vouch-and-skip redaction path (session.redact / Redactor.leaves_json_alone) and of
the shallow grounding lookup. Every test states the contract: when `leaves_json_alone` says True for
a result's JSON, the old path (`inplace`) would have changed nothing. A failing test is a leak."""

from __future__ import annotations

import copy
import dataclasses
import sys
from enum import Enum

import orjson
import pytest

from agentcheck.redact import MASK, Redactor
from agentcheck.serialize import dumps
from agentcheck.trace import ModelCallEvent, ToolCallEvent, ToolStatus, Trace
from agentcheck.verdict import CheckResult, Outcome, ScenarioResult
from tests.e2e_helpers import MINI_CONFIG, write

KEY = "sk-proj-abcdefghijklmnop1234567890"
CARD = "4242 4242 4242 4242"


def _result(*, result=None, args=None, output=None, message="", checks=(), model="m") -> ScenarioResult:
    trace = Trace("t", "s", 1, "bot", None, "2026-01-01T00:00:00Z")
    trace.events.append(ToolCallEvent(1, "call_1", "lookup", args if args is not None else {"id": "A1"},
                                      ToolStatus.OK, result=result))
    trace.events.append(ModelCallEvent(2, model))
    trace.output = output
    return ScenarioResult(0, "s", "a.yaml", 1, "bot", (), Outcome.PASSED, message, list(checks), trace)


def _vouched_but_walk_would_mask(redactor: Redactor, result: ScenarioResult) -> bool:
    """The session's decision (vouch on the orjson text) vs what the old path (always inplace) did."""
    from types import SimpleNamespace

    from agentcheck.session import _Session

    walked = redactor.inplace(copy.deepcopy(result))
    vouched = _Session.redact(SimpleNamespace(redactor=redactor), result) is not None  # type: ignore[arg-type]
    return vouched and repr(walked) != repr(result)


# --- leaks -------------------------------------------------------------------------------------------


def test_a_project_key_with_a_dot_is_not_vouched_for():
    """`redact: keys: [account.pin]` (custom keys keep vouching). `_sensitive` masks the literal key
    `account.pin`, but the JSON check replaces `.` by `"` in the text and not in the key's regex, so
    `"account"pin"` never matches `"account\\.pin"`: vouched, unwalked, the PIN is written out."""
    r = Redactor(keys=["account.pin"])
    assert r.data({"account.pin": "9876"}) == {"account.pin": MASK}
    assert not r.leaves_json_alone('{"account.pin":"9876"}')
    assert not _vouched_but_walk_would_mask(r, _result(result={"account.pin": "9876"}))


def test_a_project_key_with_a_dot_reaches_the_results_stream(tmp_path, monkeypatch):
    from agentcheck.session import RunOptions, run

    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG + "redact:\n  keys: [account.pin]\n",
        "bot.py": """
            def run(task, tools):
                tools.lookup(id="A1")
                return "done"
        """,
        "scenarios/a.yaml": """
            id: pin
            input: hi
            fixtures:
              lookup: [{returns: {name: Ada, account.pin: "9876-secret-pin"}}]
        """,
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    summary = run(RunOptions(cwd=tmp_path, junit_path=False))
    sys.modules.pop("bot", None)
    written = [p.read_text() for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert written and summary.run_id
    for text in written:
        assert "9876-secret-pin" not in text


def test_an_escaped_slash_in_saved_json_is_not_vouched_for():
    """merge vouches on the text of saved results files. JSON may write `/` as `\\/` (any encoder but
    orjson/json does; a hand-fixed or foreign shard file): only `\\u` is refused, so a project key
    containing `/` is missed while `data` would mask it."""
    r = Redactor(keys=["x/pin"])
    text = '{"x\\/pin":"9876"}'
    assert orjson.loads(text) == {"x/pin": "9876"}
    assert r.data(orjson.loads(text)) == {"x/pin": MASK}
    assert not r.leaves_json_alone(text)


@dataclasses.dataclass
class Card:
    holder: str
    _number: str  # orjson leaves out attributes whose names start with `_`; inplace walks every field


def test_values_from_python_code_are_recorded_as_plain_json_with_every_field():
    """A fixture handler or an agent may hand the gateway any Python object; orjson would leave out a
    dataclass's `_` fields, so the text a run vouches for could hide what a walk would mask. The trace
    therefore records such values as plain JSON data with every field (see the end-to-end test below)."""
    from agentcheck.serialize import as_plain_json

    assert as_plain_json(Card("Ada", CARD)) == {"holder": "Ada", "_number": CARD}
    assert as_plain_json({"cards": [Card("Ada", CARD)], "n": (1, 2)}) == {
        "cards": [{"holder": "Ada", "_number": CARD}],
        "n": [1, 2],
    }
    plain = {"id": "A1", "n": [1, 2.5, None, True]}
    assert as_plain_json(plain) is plain  # plain data is kept as it is, not copied
    assert as_plain_json(("done", KEY)) == ["done", KEY]
    r = Redactor()
    result = _result(result=as_plain_json(Card("Ada", CARD)))
    assert not _vouched_but_walk_would_mask(r, result)


def test_reporters_get_a_handler_dataclass_masked(tmp_path, monkeypatch):
    from agentcheck.session import RunOptions, run

    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": """
            def run(task, tools):
                tools.lookup(id="A1")
                return "done"
        """,
        "cards.py": """
            import dataclasses

            @dataclasses.dataclass
            class Card:
                holder: str
                _number: str

            def answer(args, tables):
                return Card("Ada", "4242 4242 4242 4242")
        """,
        "scenarios/a.yaml": """
            id: card
            input: hi
            fixtures:
              lookup: {handler: "cards:answer"}
        """,
    })
    seen: list[str] = []

    class Spy:
        def start(self, plan): pass
        def result(self, result): seen.append(repr(result))
        def finish(self, summary): pass

    monkeypatch.syspath_prepend(str(tmp_path))
    run(RunOptions(cwd=tmp_path, json_path=False, junit_path=False, reporters=[Spy()]))
    sys.modules.pop("bot", None)
    sys.modules.pop("cards", None)
    assert seen and CARD not in seen[0]


# --- tried, fine (the check is at least as strict as the walk) ---------------------------------------


@pytest.mark.parametrize("data", [
    {"API-KEY": "v"}, {"api_\u212aey": "v"}, {"Authorization": "v"}, {"args.api_key": "v"}, {"a.b.Token": "v"},
    {"x-api-key": "v"}, {"SET-COOKIE": "v"}, {"token": 0}, {"nested": [{"cvv": "1"}]},
    {"k": f"\n{CARD}"}, {"k": f"\t{CARD}\r"}, {"k": CARD.replace(" ", "-")}, {"k": "4242424242424242"},
    {"k": "\u0664\u0662\u0664\u0662" * 4}, {"k": "\uff14\uff12\uff14\uff12" * 4}, {"k": f"\u00e9 {CARD} \u2028"},
    {"k": "Bearer abcdefgh"}, {"k": "BEARER\u2028abcdefgh"}, {"k": "x\x00" + KEY}, {"k": KEY},
    {"k": "AKIA" + "A" * 16}, {"k": "ghp_" + "a" * 30}, {"k": "xoxb-" + "a" * 10},
    {"k": "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"},
    {"k": (KEY,)}, {"k": [("x", KEY)]}, {1: KEY}, {"k": 2**70, "s": KEY},
])
def test_the_check_is_never_laxer_than_the_walk(data):
    r = Redactor()
    assert not _vouched_but_walk_would_mask(r, _result(result=data))
    assert not _vouched_but_walk_would_mask(r, _result(args=data))


class Mixed(str, Enum):  # noqa: UP042 - the str-mixin idiom on purpose: str() differs from StrEnum
    TOKEN = "token"


def test_enum_and_str_subclass_keys_and_values():
    r = Redactor()
    for data in ({Mixed.TOKEN: "v"}, {"k": Mixed.TOKEN}, {type("S", (str,), {})("token"): "v"}):
        assert not _vouched_but_walk_would_mask(r, _result(result=data))


def test_message_checks_and_model_calls():
    r = Redactor()
    check = CheckResult("output.contains", False, "m", explanation=f"got {KEY}", actual={"password": "p"})
    for result in (_result(message=f"crashed: {KEY}"), _result(checks=[check]), _result(model=KEY),
                   _result(output={"Token": "x"})):
        assert not _vouched_but_walk_would_mask(r, result)


def test_project_patterns_never_vouch_and_plain_project_keys_do():
    assert not Redactor(patterns=[r"cust-\d+"]).can_vouch
    r = Redactor(keys=["Customer-Email"])
    assert r.can_vouch and not r.leaves_json_alone(dumps({"customer_email": "a@b.c"}))


# --- pre-existing (not from today's commits, same on the old path) --------------------------------------


def test_the_run_summary_does_not_carry_an_unmasked_message(tmp_path, monkeypatch):
    """`_Session.deliver` builds RunMetrics (with `message=result.message`) *before* redacting; inplace
    then rebinds result.message to a masked copy, but the metrics keep the original string, which
    the release report writes to results.json `scenarios[].message` and the stream's summary line."""

    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": f"""
            def run(task, tools):
                raise RuntimeError("auth failed for {KEY}")
        """,
        "scenarios/a.yaml": """
            id: crash
            input: hi
        """,
    })
    _assert_reports_never_hold(KEY, tmp_path, monkeypatch)


def test_console_one_line_does_not_assemble_a_card():
    """`one_line` collapses whitespace runs to one space after redaction: a card written with
    newlines or double spaces is no card to `_CARD` but becomes `4242 4242 4242 4242` on the console."""
    from agentcheck.redact import activate, reset_redactor
    from agentcheck.report.show import one_line

    r = Redactor()
    token = activate(r)  # as a run does while it judges and reports
    try:
        assert CARD not in one_line(r.text("card 4242\n4242\n4242\n4242 on file"))
    finally:
        reset_redactor(token)


def test_an_agent_returning_a_tuple_or_a_str_subclass_is_masked(tmp_path, monkeypatch):
    """`_check_output` accepts any JSON-encodable value, so `trace.output` may be a tuple or a str
    subclass; `inplace` walks only exact `str`/`dict`/`list` fields (tuples are "names"), so neither
    is masked, on the old path as on the new."""

    write(tmp_path, {
        "agentcheck.yaml": MINI_CONFIG,
        "bot.py": f"""
            class Text(str):
                pass

            def run(task, tools):
                return ("done", "{KEY}") if task.text == "tuple" else Text("done {KEY}")
        """,
        "scenarios/a.yaml": """
            scenarios:
              - {id: as_tuple, input: tuple}
              - {id: as_subclass, input: sub}
        """,
    })
    _assert_reports_never_hold(KEY, tmp_path, monkeypatch)


def _assert_reports_never_hold(secret: str, root, monkeypatch) -> None:
    """Run the project at `root` (its agent is `bot.py`) and check no report or trace file holds `secret`."""
    from agentcheck.session import RunOptions, run

    monkeypatch.syspath_prepend(str(root))
    run(RunOptions(cwd=root, junit_path=False))
    sys.modules.pop("bot", None)
    for path in (root / "reports").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(), path.name
