"""Judge the tool calls an agent made against the calls the scenario expects.

Five trajectory modes (docs/matching.md): `strict` and `ordered` compare sequences; `unordered`,
`superset` and `subset` compare multisets through a maximum bipartite matching, so a loose expected
call can never steal the actual call a stricter one needed (LangChain agentevals pairs first-come,
and wrongly fails there). Arguments are always checked one way, the actual call against the expected
spec, in every mode. Every failure names the expected call, the step and the argument that differed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from agentcheck.calls import format_call, plural
from agentcheck.judge.explain import format_constraint, format_expected_call
from agentcheck.matchers import Matcher
from agentcheck.problems import did_you_mean
from agentcheck.scenario import CallExpectation, ToolExpectations, TrajectoryMode
from agentcheck.trace import ToolCallEvent
from agentcheck.verdict import CheckResult

_LIST_CAP = 25
"""Listed calls per side in an explanation; a 300-call trace must not bury the reason."""


def judge_tools(expect: ToolExpectations, calls: list[ToolCallEvent]) -> list[CheckResult]:
    """One check for the call sequence (when expected), one for forbidden tools, one per count."""
    checks: list[CheckResult] = []
    if expect.calls is not None:
        checks.append(_Judgement(expect.mode, expect.calls, calls).run())
    if expect.not_called:
        checks.append(_not_called(expect.not_called, calls))
    checks.extend(_count(tool, matcher, calls) for tool, matcher in expect.counts.items())
    return checks


def _fits(exp: CallExpectation, call: ToolCallEvent) -> bool:
    return exp.tool == call.tool and (exp.args is None or exp.args.matches(call.args))


def max_matching(rows: int, cols: int, fits: Callable[[int, int], bool]) -> list[int | None]:
    """Maximum bipartite matching (Kuhn's augmenting paths): row -> matched column or None.

    Rows are tried in order and a matched row stays matched while later rows augment, so the rows left
    unmatched are the *last* possible ones (greedy over the transversal matroid): the first unmatched
    row is the earliest one that cannot be matched together with all rows before it — the natural one
    to blame. Recursion depth is bounded by the matching size (at most the expected call count).
    """
    adjacent = [[c for c in range(cols) if fits(r, c)] for r in range(rows)]
    owner: list[int | None] = [None] * cols

    def augment(row: int, seen: set[int]) -> bool:
        for col in adjacent[row]:
            if col in seen:
                continue
            seen.add(col)
            holder = owner[col]
            if holder is None or augment(holder, seen):
                owner[col] = row
                return True
        return False

    for row in range(rows):
        augment(row, set())
    match: list[int | None] = [None] * rows
    for col, row in enumerate(owner):
        if row is not None:
            match[row] = col
    return match


class _Judgement:
    """One sequence check: holds the evidence so each mode only decides and names the failure."""

    def __init__(self, mode: TrajectoryMode, expected: Sequence[CallExpectation], calls: list[ToolCallEvent]):
        self.mode = TrajectoryMode(mode)
        self.exp = list(expected)
        self.calls = calls
        self.pairs: dict[int, int] = {}
        """expected index -> actual index, for the ok markers."""
        self.bad_exp: int | None = None
        self.bad_act: set[int] = set()
        self.notes: list[str] = []

    def run(self) -> CheckResult:
        decide = {
            TrajectoryMode.STRICT: self._strict,
            TrajectoryMode.ORDERED: self._ordered,
            TrajectoryMode.UNORDERED: self._unordered,
            TrajectoryMode.SUPERSET: self._superset,
            TrajectoryMode.SUBSET: self._subset,
        }[self.mode]
        return decide()

    # --- modes -------------------------------------------------------------------------------------

    def _strict(self) -> CheckResult:
        n, m = len(self.exp), len(self.calls)
        for i in range(min(n, m)):
            if not _fits(self.exp[i], self.calls[i]):
                self.pairs = {k: k for k in range(i)}
                self.bad_exp, self.bad_act = i, {i}
                call = self.calls[i]
                head = (
                    f"expected call {i + 1} {self._sig(i)} at step {call.step}, got {format_call(call.tool, call.args)}"
                )
                if call.tool == self.exp[i].tool:
                    return self._fail(head, i, [i])
                return self._fail(head, i, self._same_tool(i), step=call.step)
        self.pairs = {k: k for k in range(min(n, m))}
        if n > m:
            self.bad_exp = m
            return self._fail(
                f"expected call {m + 1} {self._sig(m)} but the agent made only {plural(m, 'call')}", m, []
            )
        if m > n:
            return self._extra(n, f"expected {plural(n, 'call')} in all")
        return self._pass(f"{plural(n, 'expected call')} matched in order, and no other calls")

    def _ordered(self) -> CheckResult:
        # Greedy leftmost placement is optimal for "is the expected list a subsequence?": if any
        # placement p exists, induction shows greedy puts call i at or before p[i] (greedy takes the
        # first fitting call after its previous one, and p[i] is a fitting call after p[i-1] >= greedy's),
        # so greedy never runs out of room where p did not. Whether a call fits one expectation never
        # depends on what the others took, so no loose expectation can "steal" from a later one here.
        pos = 0
        for i, exp in enumerate(self.exp):
            j = next((j for j in range(pos, len(self.calls)) if _fits(exp, self.calls[j])), None)
            if j is None:
                self.bad_exp = i
                after = f" after step {self.calls[pos - 1].step}" if i else ""
                later = [k for k in self._same_tool(i) if k >= pos]
                earlier = [k for k in self._same_tool(i) if k < pos and _fits(exp, self.calls[k])]
                if earlier and i:
                    step, placed = self.calls[earlier[-1]].step, self.calls[pos - 1].step
                    where = (
                        f"it is already taken by expected call {i}"
                        if step == placed
                        else f"it comes before step {placed}, where expected call {i} was placed"
                    )
                    self.notes.append(f"step {step} matches expected call {i + 1}, but {where}; no later call does")
                head = f"expected call {i + 1} {self._sig(i)} not found{after}"
                return self._fail(head, i, later or self._same_tool(i))
            self.pairs[i] = j
            pos = j + 1
        n, m = len(self.exp), len(self.calls)
        return self._pass(f"{plural(n, 'expected call')} matched in order ({plural(m, 'call')} made)")

    def _expected_side(self) -> list[int | None]:
        match = max_matching(len(self.exp), len(self.calls), lambda r, c: _fits(self.exp[r], self.calls[c]))
        self.pairs = {r: c for r, c in enumerate(match) if c is not None}
        return match

    def _missing(self, match: list[int | None]) -> CheckResult | None:
        """The failure for the first expected call no distinct actual call can take, if any."""
        i = next((r for r, c in enumerate(match) if c is None), None)
        if i is None:
            return None
        self.bad_exp = i
        taken = set(self.pairs.values())
        same = self._same_tool(i)
        free = [k for k in same if k not in taken]
        if same and not free:
            self.notes.append(
                f"every {self.exp[i].tool} call is already matched by another expected call "
                f"({len(same)} made, at least {len(same) + 1} expected)"
            )
        return self._fail(f"expected call {i + 1} {self._sig(i)} has no matching call", i, free or same)

    def _unordered(self) -> CheckResult:
        failure = self._missing(self._expected_side())
        if failure is not None:
            return failure
        n, m = len(self.exp), len(self.calls)
        if m > n:  # every expected call found a partner; now blame the first call nobody expected
            match = max_matching(m, n, lambda r, c: _fits(self.exp[c], self.calls[r]))
            self.pairs = {c: r for r, c in enumerate(match) if c is not None}
            return self._extra(next(r for r, c in enumerate(match) if c is None), "not among the expected calls")
        return self._pass(f"{plural(n, 'expected call')} matched in any order")

    def _superset(self) -> CheckResult:
        failure = self._missing(self._expected_side())
        if failure is not None:
            return failure
        extra = len(self.calls) - len(self.exp)
        return self._pass(f"{plural(len(self.exp), 'expected call')} matched ({plural(extra, 'other call')})")

    def _subset(self) -> CheckResult:
        n, m = len(self.exp), len(self.calls)
        match = max_matching(m, n, lambda r, c: _fits(self.exp[c], self.calls[r]))
        self.pairs = {c: r for r, c in enumerate(match) if c is not None}
        j = next((r for r, c in enumerate(match) if c is None), None)
        if j is not None:
            return self._extra(j, "matches no expected call")
        return self._pass(f"all {plural(m, 'call')} were expected ({n - m} expected not made)")

    # --- results -----------------------------------------------------------------------------------

    def _sig(self, i: int) -> str:
        return format_expected_call(self.exp[i].tool, self.exp[i].args)

    def _same_tool(self, i: int) -> list[int]:
        return [k for k, call in enumerate(self.calls) if call.tool == self.exp[i].tool]

    def _data(self) -> dict[str, Any]:
        return {
            "tool": None,
            "expected": [{"tool": e.tool, "args": e.args.describe() if e.args is not None else None} for e in self.exp],
            "actual": [{"step": c.step, "tool": c.tool, "args": c.args} for c in self.calls],
        }

    def _pass(self, message: str) -> CheckResult:
        return CheckResult(check=f"tools.{self.mode}", passed=True, message=message, **self._data())

    def _fail(self, head: str, i: int, candidates: list[int], step: int | None = None) -> CheckResult:
        """A failure blamed on expected call `i`, explained by its nearest actual candidate."""
        exp = self.exp[i]
        lines = self._listing()
        nearest = _nearest(exp, self.calls, candidates)
        message = head
        if nearest is not None:
            k, reasons = nearest
            call = self.calls[k]
            step = call.step if step is None else step
            lines.append(
                f"nearest candidate for expected call {i + 1}: step {call.step} {format_call(call.tool, call.args)}"
            )
            lines.extend(f"  {r}" for r in reasons)
            if reasons:
                more = f"; +{len(reasons) - 1} more" if len(reasons) > 1 else ""
                message += f" (step {call.step}: {reasons[0]}{more})"
        elif not self._same_tool(i):
            tools = sorted({c.tool for c in self.calls})
            hint = did_you_mean(exp.tool, tools)
            lines.append(f"{exp.tool} was never called" + (f" ({hint})" if hint else ""))
            message += f" ({exp.tool} was never called)"
        lines.extend(self.notes)
        return self._result(message, lines, step, exp.tool)

    def _extra(self, j: int, why: str) -> CheckResult:
        """A failure blamed on actual call `j`, which no expected call accounts for."""
        call = self.calls[j]
        self.bad_act.add(j)
        message = f"unexpected call at step {call.step}: {format_call(call.tool, call.args)} ({why})"
        lines = self._listing()
        taken = set(self.pairs)
        same = [i for i, e in enumerate(self.exp) if e.tool == call.tool]
        near = _nearest_expectation(call, self.exp, [i for i in same if i not in taken] or same)
        if near is not None:
            i, reasons = near
            lines.append(f"closest expected call: {i + 1}. {self._sig(i)}")
            lines.extend(f"  {r}" for r in reasons)
            if reasons:
                message += f"; vs expected call {i + 1}: {reasons[0]}"
        return self._result(message, lines, call.step, call.tool)

    def _result(self, message: str, lines: list[str], step: int | None, tool: str) -> CheckResult:
        data = self._data()
        data["tool"] = tool
        return CheckResult(
            check=f"tools.{self.mode}", passed=False, message=message, explanation="\n".join(lines), step=step, **data
        )

    def _listing(self) -> list[str]:
        """Both lists side by side in reading order, with what matched what."""
        back = {j: i for i, j in self.pairs.items()}
        lines = [f"expected calls ({self.mode}):"]
        for i in range(min(len(self.exp), _LIST_CAP)):
            mark = "!!" if i == self.bad_exp else ("ok" if i in self.pairs else "  ")
            where = f"  -> step {self.calls[self.pairs[i]].step}" if i in self.pairs else ""
            lines.append(f"  {mark} {i + 1}. {self._sig(i)}{where}")
        if len(self.exp) > _LIST_CAP:
            lines.append(f"  … {len(self.exp) - _LIST_CAP} more")
        lines.append("actual calls:" if self.calls else "actual calls: none")
        for j, call in enumerate(self.calls[:_LIST_CAP]):
            mark = "!!" if j in self.bad_act else ("ok" if j in back else "  ")
            status = "" if call.status == "ok" else f"  [{call.status}]"
            lines.append(f"  {mark} step {call.step}  {format_call(call.tool, call.args)}{status}")
        if len(self.calls) > _LIST_CAP:
            lines.append(f"  … {len(self.calls) - _LIST_CAP} more")
        return lines


def _reasons(exp: CallExpectation, call: ToolCallEvent) -> list[str]:
    return [] if exp.args is None else exp.args.mismatches(call.args)


def _nearest(exp: CallExpectation, calls: list[ToolCallEvent], candidates: list[int]) -> tuple[int, list[str]] | None:
    """The candidate call with the fewest argument mismatches; the earliest on a tie."""
    return _fewest((k, _reasons(exp, calls[k])) for k in candidates[:50])


def _nearest_expectation(
    call: ToolCallEvent, exp: list[CallExpectation], candidates: list[int]
) -> tuple[int, list[str]] | None:
    """The expected call closest to an unaccounted actual call (still actual-against-spec)."""
    return _fewest((i, _reasons(exp[i], call)) for i in candidates[:50])


def _fewest(scored: Iterable[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    return min(scored, key=lambda s: (len(s[1]), s[0]), default=None)


def _not_called(forbidden: Sequence[str], calls: list[ToolCallEvent]) -> CheckResult:
    banned = set(forbidden)
    hits = [c for c in calls if c.tool in banned]
    data = {
        "expected": list(forbidden),
        "actual": [{"step": c.step, "tool": c.tool, "args": c.args} for c in hits],
    }
    if not hits:
        return CheckResult("tools.not_called", True, f"not called: {', '.join(forbidden)}", **data)
    steps: dict[str, list[int]] = {}
    for c in hits:
        steps.setdefault(c.tool, []).append(c.step)
    where = "; ".join(
        f"{tool} at {'step' if len(s) == 1 else 'steps'} {', '.join(map(str, s))}" for tool, s in steps.items()
    )
    noun = "tool" if len(steps) == 1 else "tools"
    explanation = "\n".join(f"step {c.step}  {format_call(c.tool, c.args)}" for c in hits[:_LIST_CAP])
    return CheckResult(
        "tools.not_called", False, f"forbidden {noun} called: {where}", explanation,
        step=hits[0].step, tool=hits[0].tool, **data,
    )  # fmt: skip


def _count(tool: str, matcher: Matcher, calls: list[ToolCallEvent]) -> CheckResult:
    steps = [c.step for c in calls if c.tool == tool]
    n = len(steps)
    want = format_constraint(matcher.describe())
    passed = bool(matcher.matches(n))
    message = f"{tool} called {plural(n, 'time')}" + ("" if passed else f", expected {want}")
    explanation = "" if passed else f"{tool} calls at steps: {', '.join(map(str, steps)) or 'none'}"
    return CheckResult("tools.count", passed, message, explanation, tool=tool, expected=matcher.describe(), actual=n)
