"""The JUnit report's gates suite: one testcase per release gate, failed when the gate failed, its
checks (measured against threshold) as the failure's text or the passing case's output."""

from __future__ import annotations

from agentcheck.report.junit_xml import element, open_tag, xml_text
from agentcheck.report.show import fmt_number, one_line
from agentcheck.verdict import GateResult

GATES_SUITE = "agentcheck gates"
GATES_CLASSNAME = "agentcheck.gates"


def gates_suite(gates: list[GateResult]) -> str:
    """The `<testsuite>` of the gates (CI test tabs show a failed gate as a failed test, beside the
    scenarios that made it fail)."""
    failed = sum(not g.passed for g in gates)
    attrs = [
        ("name", GATES_SUITE),
        ("tests", len(gates)),
        ("failures", failed),
        ("errors", 0),
        ("skipped", 0),
        ("time", "0.000"),
    ]
    cases = []
    for gate in gates:
        lines = [f"{gate.name}: {gate.selected} runs selected"]
        for check in gate.checks:
            verdict = "ok" if check.passed else "FAILED"
            lines.append(
                f"{check.metric}: {fmt_number(check.measured)} vs {check.op} {fmt_number(check.threshold)}"
                f"  {verdict}"
            )
        case_attrs = [("name", gate.name), ("classname", GATES_CLASSNAME), ("time", "0.000")]
        if gate.passed:
            inner = f"      <system-out>{xml_text(chr(10).join(lines))}</system-out>\n"
        else:
            failing = [c.metric for c in gate.checks if not c.passed]
            message = one_line(gate.message) or (
                f"gate '{gate.name}' failed: {', '.join(failing)}" if failing else f"gate '{gate.name}' failed"
            )
            failure = element("failure", [("message", message), ("type", "gate")], xml_text("\n".join(lines)))
            inner = f"      {failure}\n"
        cases.append("    " + element("testcase", case_attrs, "\n" + inner + "    ") + "\n")
    return f"  {open_tag('testsuite', attrs)}\n" + "".join(cases) + "  </testsuite>\n"
