"""The least-privilege report: what each agent was granted against what it needs and used.

`lint(project)` reads the policy alone (`agentcheck policy lint`); `lint(project, usage)` adds what
a run actually used (the report written after `agentcheck run`). Severe findings — a wildcard admin
scope, a high-tier tool reachable with no approval — make `policy lint` exit 1.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from agentcheck.policy.engine import scope_matches
from agentcheck.policy.spec import Decision, Policy, Principal, ToolPolicy
from agentcheck.project import Project, RiskTier

SEVERE, WARNING, INFO = "severe", "warning", "info"
_ORDER = {SEVERE: 0, WARNING: 1, INFO: 2}
_TEMPLATE = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    code: str
    message: str
    agent: str | None = None
    tool: str | None = None
    source: str | None = None


@dataclass(slots=True)
class AgentScopes:
    agent: str
    owner: str
    granted: list[str]
    used: list[str] | None
    """None when no run was observed (lint only)."""
    unused: list[str] | None


@dataclass(slots=True)
class LeastPrivilegeReport:
    agents: list[AgentScopes]
    findings: list[Finding]

    @property
    def severe(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == SEVERE]

    def to_data(self) -> dict[str, Any]:
        return {
            "agents": [asdict(a) for a in self.agents],
            "findings": [asdict(f) for f in self.findings],
            "counts": {s: sum(f.severity == s for f in self.findings) for s in (SEVERE, WARNING, INFO)},
        }


def _reaches(principal: Principal, spec: ToolPolicy) -> bool:
    """Whether the agent's grants and lists let it call the tool at all (ignoring expiry)."""
    if spec.name in principal.block or (principal.allow is not None and spec.name not in principal.allow):
        return False
    needed = [_TEMPLATE.sub("x", s) for s in spec.scopes]
    return all(any(scope_matches(g.scope, n) for g in principal.scopes) for n in needed)


def _is_admin_wildcard(scope: str) -> bool:
    parts = scope.split(":")
    return scope == "*" or all(p == "*" for p in parts) or ("*" in scope and "admin" in parts)


def lint(project: Project, usage: dict[str, set[str]] | None = None) -> LeastPrivilegeReport:
    policy = project.policy or Policy()
    findings: list[Finding] = []
    agents: list[AgentScopes] = []
    for name in project.agents:
        if name not in policy.agents:
            findings.append(
                Finding(
                    WARNING,
                    "no-principal",
                    f"agent '{name}' is not a principal: every call it makes is denied",
                    agent=name,
                )
            )
    for principal in policy.agents.values():
        granted = [g.scope for g in principal.scopes]
        used = sorted(usage.get(principal.name, set())) if usage is not None else None
        unused = None
        if used is not None:
            unused = [g for g in granted if not any(scope_matches(g, u) for u in used)]
            for scope in unused:
                findings.append(
                    Finding(
                        INFO,
                        "unused-scope",
                        f"agent '{principal.name}': scope '{scope}' was granted but no call in the run used it",
                        agent=principal.name,
                    )
                )
        agents.append(AgentScopes(principal.name, principal.owner, granted, used, unused))
        for grant in principal.scopes:
            if _is_admin_wildcard(grant.scope):
                findings.append(
                    Finding(
                        SEVERE,
                        "admin-wildcard",
                        f"agent '{principal.name}': scope '{grant.scope}' grants everything",
                        agent=principal.name,
                        source=str(grant.source) if grant.source else None,
                    )
                )
            elif "*" in grant.scope:
                findings.append(
                    Finding(
                        WARNING,
                        "wildcard-scope",
                        f"agent '{principal.name}': wildcard scope '{grant.scope}': name the concrete resources "
                        "instead",
                        agent=principal.name,
                        source=str(grant.source) if grant.source else None,
                    )
                )
        findings.extend(_unattended(policy, principal))
    for spec in policy.tools.values():
        if spec.writes and spec.idempotency_key is None:
            findings.append(
                Finding(
                    WARNING,
                    "no-idempotency-key",
                    f"write tool '{spec.name}' requires no idempotency key (a retry can act twice)",
                    tool=spec.name,
                    source=str(spec.source) if spec.source else None,
                )
            )
    for name in project.tools:
        if name not in policy.tools:
            findings.append(
                Finding(
                    INFO,
                    "unmentioned-tool",
                    f"tool '{name}' is not in the policy: every call is denied (fail closed)",
                    tool=name,
                )
            )
    findings.sort(key=lambda f: (_ORDER[f.severity], f.agent or "", f.tool or "", f.code))
    return LeastPrivilegeReport(agents, findings)


def _unattended(policy: Policy, principal: Principal) -> list[Finding]:
    """High-tier tools this agent reaches that a rule allows without approval, or with a single one."""
    out = []
    for spec in policy.tools.values():
        if spec.risk is not RiskTier.HIGH or not _reaches(principal, spec):
            continue
        for rule in policy.rules:
            if (rule.tools and spec.name not in rule.tools) or (rule.agents and principal.name not in rule.agents):
                continue
            where = str(rule.source) if rule.source else None
            if rule.decision is Decision.ALLOWED:
                out.append(
                    Finding(
                        SEVERE,
                        "high-risk-unattended",
                        f"high-tier tool '{spec.name}' is allowed without approval by rule '{rule.id}'",
                        principal.name,
                        spec.name,
                        where,
                    )
                )
            elif rule.decision is Decision.APPROVAL_REQUIRED and rule.approvals < 2:
                out.append(
                    Finding(
                        WARNING,
                        "high-risk-single-approval",
                        f"high-tier tool '{spec.name}' needs only "
                        f"one approval under rule '{rule.id}' (use approvals: 2)",
                        principal.name,
                        spec.name,
                        where,
                    )
                )
    return out


def to_markdown(report: LeastPrivilegeReport) -> str:
    lines = ["# Least-privilege report", "", "| agent | owner | granted | used | unused |", "|---|---|---|---|---|"]
    for a in report.agents:
        used = ", ".join(a.used) if a.used is not None else "(not run)"
        unused = ", ".join(a.unused) if a.unused is not None else "(not run)"
        lines.append(f"| {a.agent} | {a.owner} | {', '.join(a.granted)} | {used} | {unused} |")
    lines += ["", "## Findings", ""]
    if not report.findings:
        lines.append("None.")
    for f in report.findings:
        where = f" ({f.source})" if f.source else ""
        lines.append(f"- **{f.severity}** `{f.code}`: {f.message}{where}")
    return "\n".join(lines) + "\n"


def to_text(report: LeastPrivilegeReport | dict[str, Any]) -> list[str]:
    """Console lines, most severe first; also from a report read back from its JSON file."""
    data = report.to_data() if isinstance(report, LeastPrivilegeReport) else report
    lines = []
    for a in data["agents"]:
        used = f"; used: {', '.join(a['used']) or 'none'}" if a["used"] is not None else ""
        unused = f"; unused: {', '.join(a['unused'])}" if a.get("unused") else ""
        lines.append(f"agent {a['agent']}: granted {', '.join(a['granted']) or 'nothing'}{used}{unused}")
    for f in data["findings"]:
        where = f" ({f['source']})" if f["source"] else ""
        lines.append(f"{f['severity']}: {f['code']}: {f['message']}{where}")
    return lines
