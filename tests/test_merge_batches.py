"""Merge hands the reporters scenarios run once a batch at a time (`saved_prepared_batch`): each batch
gives exactly what handing the same scenarios over one by one (`saved_prepared`) gives, whatever the
batch boundaries, and a subclass that overrides the one-by-one method still has it called."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import orjson
import pytest
from report_helpers import make_result, make_summary
from rich.console import Console

from agentcheck.report.console import LARGE_SUITE, ConsoleReporter
from agentcheck.report.junit import JUnitReporter
from agentcheck.report.stream import ResultLog
from agentcheck.saved_shards import InOrder, _batch_method
from agentcheck.serialize import dumps_bytes
from agentcheck.verdict import Outcome, RunPlan, ScenarioResult


def _mixed_results() -> list[ScenarioResult]:
    """Passing runs (within and past the table's limit), failures, errors, skips, a run whose line rich
    must print (a tab), two files taking turns, and one scenario id twice in a file (a name clash)."""
    results = [make_result(0, "plain"), make_result(1, "bad", Outcome.FAILED, message="no"),
               make_result(2, "ta\tb", Outcome.FAILED, message="tab"), make_result(3, "err", Outcome.ERROR),
               make_result(4, "skip", Outcome.SKIPPED, message="later", trace=False)]
    results += [make_result(10 + i, f"pad{i}", file="scenarios/a.yaml" if i % 3 else "scenarios/b.yaml")
                for i in range(LARGE_SUITE + 20)]
    results += [make_result(200, "again"), make_result(201, "again"), make_result(202, "ta\tok"),
                make_result(203, "late", Outcome.FAILED, message="late failure"), make_result(204, "wide 中🎉")]
    return results


def _items(reporter: object, results: list[ScenarioResult]) -> list[tuple[object, object, None]]:
    items = []
    for result in results:
        raw = dumps_bytes(result)
        items.append((reporter.prepare_saved(orjson.loads(raw)), partial(orjson.loads, raw), None))  # type: ignore[attr-defined]
    return items


def _fed(reporter: object, items: list, batch: int | None) -> None:
    if batch is None:
        for item in items:
            reporter.saved_prepared(*item)  # type: ignore[attr-defined]
    else:
        for start in range(0, len(items), batch):
            reporter.saved_prepared_batch(items[start:start + batch])  # type: ignore[attr-defined]


@pytest.mark.parametrize("batch", [1, 2, 7, 64, 1000])
@pytest.mark.parametrize("record", [False, True])
def test_console_batches_print_what_one_by_one_prints(batch: int, record: bool):
    results = _mixed_results()
    outputs = []
    for size in (None, batch):
        out = io.StringIO()
        reporter = ConsoleReporter(Console(file=out, width=160, soft_wrap=True, record=record), command="merge")
        reporter.start(RunPlan("r", "t", "/", "/", [], 1))
        _fed(reporter, _items(reporter, results), size)
        counted = (dict(reporter._counts), reporter._seen)  # (what a progress bar and the table read)
        reporter.finish(make_summary(results, gates=[]))
        outputs.append((out.getvalue(), counted))
    assert outputs[0] == outputs[1]
    assert outputs[0][1] == ({"passed": len(results) - 5, "failed": 3, "error": 1, "skipped": 1}, len(results))
    outputs = [text for text, _ in outputs]
    assert f"{len(results) - 5} passed, 3 failed, 1 error, 1 skipped" in outputs[0]
    assert "FAILED late" in outputs[0] and "PASSED pad60" in outputs[0]


def _spooled(reporter: JUnitReporter) -> dict[str, tuple[int, int, int, int, float, bytes, bytes]]:
    """Each suite's counts and the bytes of its testcases and properties, as the document would hold them."""
    spool = reporter._spool
    assert spool is not None
    spool.file.flush()

    def read(ranges: list[tuple[int, int]]) -> bytes:
        chunks = []
        for offset, size in ranges:
            spool.file.seek(offset)
            chunks.append(spool.file.read(size))
        return b"".join(chunks)

    return {name: (s.tests, s.failures, s.errors, s.skipped, s.time_ms, read(s.cases), read(s.props))
            for name, s in spool.suites.items()}


@pytest.mark.parametrize("batch", [1, 3, 64])
@pytest.mark.parametrize("strict", [False, True])
def test_junit_batches_spool_what_one_by_one_spools(tmp_path: Path, batch: int, strict: bool):
    results = _mixed_results()
    spooled = []
    for size in (None, batch):
        reporter = JUnitReporter(tmp_path / "j.xml", ResultLog(tmp_path / "r.jsonl"), strict=strict,
                                 project_root=tmp_path)
        _fed(reporter, _items(reporter, results), size)
        spooled.append(_spooled(reporter))
    assert spooled[0] == spooled[1]
    suites = spooled[0]
    assert sum(s[0] for s in suites.values()) == len(results) and set(suites) == {
        "scenarios/refunds.yaml", "scenarios/a.yaml", "scenarios/b.yaml"}
    assert suites["scenarios/refunds.yaml"][5].count(b'name="again') == 2  # the clash renamed, not lost


def test_a_subclass_overriding_the_one_by_one_method_is_not_handed_batches(tmp_path: Path):
    """A reporter subclass that overrides `saved_prepared` (what its author wrote) gets it called for
    every scenario: merge does not hand it batches that would bypass it."""
    seen: list[str] = []

    class Mine(JUnitReporter):
        def saved_prepared(self, piece, load, stats) -> None:  # type: ignore[no-untyped-def]
            seen.append(piece[1])
            super().saved_prepared(piece, load, stats)

    mine = Mine(tmp_path / "j.xml", ResultLog(tmp_path / "r.jsonl"), project_root=tmp_path)
    plain = JUnitReporter(tmp_path / "k.xml", ResultLog(tmp_path / "s.jsonl"), project_root=tmp_path)
    assert _batch_method(mine) is None and _batch_method(plain) is not None
    results = [make_result(i, f"s{i}") for i in range(5)]
    order = InOrder({}, [mine], [mine])
    from agentcheck.release.decode import metrics_from_data

    for result in results:
        raw = dumps_bytes(result)
        order.add(metrics_from_data(orjson.loads(raw)), raw, (mine.prepare_saved(orjson.loads(raw)),))
    order.finish()
    assert seen == [f"s{i}" for i in range(5)]


def test_in_order_hands_over_in_batches_and_everything_by_finish(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Scenarios run once wait in batches of PREPARED_BATCH; a scenario with several runs hands the
    waiting ones over first (each reader gets the scenarios in collection order); finish hands the rest."""
    from agentcheck import saved_shards
    from agentcheck.release.decode import metrics_from_data

    monkeypatch.setattr(saved_shards, "PREPARED_BATCH", 3)
    calls: list[tuple[str, list[str]]] = []

    class Reader:
        def prepare_saved(self, data: dict) -> str:
            return str(data["scenario_id"])

        def saved_prepared(self, piece, load, stats) -> None:  # type: ignore[no-untyped-def]
            calls.append(("one", [piece]))

        def saved_prepared_batch(self, items: list) -> None:
            calls.append(("batch", [piece for piece, _, _ in items]))

        def saved_scenario(self, runs: list[dict], stats) -> None:  # type: ignore[no-untyped-def]
            calls.append(("runs", [f"{runs[0]['scenario_id']} x{len(runs)}"]))

    reader = Reader()
    order = InOrder({}, [reader], [reader])  # type: ignore[list-item]
    runs = [make_result(i, f"s{i}") for i in range(5)]
    runs += [make_result(5, "t", trial=1), make_result(5, "t", trial=2)]
    runs += [make_result(6, "s6")]
    for result in runs:
        raw = dumps_bytes(result)
        data = orjson.loads(raw)
        order.add(metrics_from_data(data), raw, (reader.prepare_saved(data),) if result.index != 5 else None)
    stats = order.finish()
    assert calls == [("batch", ["s0", "s1", "s2"]), ("batch", ["s3", "s4"]), ("runs", ["t x2"]), ("batch", ["s6"])]
    assert [s.scenario_id for s in stats] == ["s0", "s1", "s2", "s3", "s4", "t", "s6"]
