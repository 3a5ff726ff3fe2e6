"""Score each protocol from what its checks found in a run.

A protocol is *not assessed* when none of its checks completed, has *gaps* when an
open, untriaged finding of medium severity or higher remains, and is *ready* only
when its checks ran and left nothing at medium or above. Nothing passes by
default: a protocol with no working check is never "ready".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from shopguard.checks import Outcome
from shopguard.db.repository import StoredFinding, StoredRun
from shopguard.findings import PROTOCOL_TITLES, PROTOCOLS, Severity, protocol_of

GAP_THRESHOLD = Severity.MEDIUM
MAX_ACTIONS = 3


class ReadinessStatus(StrEnum):
    READY = "ready"
    GAPS = "gaps"
    NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class LitmusRow:
    protocol: str
    title: str
    status: ReadinessStatus
    counts: dict[str, int]
    """Open, untriaged findings per severity."""
    checks_ok: int
    checks_failed: int
    actions: tuple[str, ...]
    """The next things to do, most severe first."""

    def to_dict(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "title": self.title,
            "status": self.status.value,
            "counts": self.counts,
            "checks_ok": self.checks_ok,
            "checks_failed": self.checks_failed,
            "actions": list(self.actions),
        }


def _action(sf: StoredFinding) -> str:
    f = sf.finding
    fix = f.remediation.strip().splitlines()[0] if f.remediation.strip() else ""
    text = f"{f.title}" + (f" — {fix}" if fix else "")
    return text if len(text) <= 200 else text[:197] + "..."


def litmus(run: StoredRun) -> list[LitmusRow]:
    rows: list[LitmusRow] = []
    for proto in PROTOCOLS:
        execs = [e for e in run.executions if protocol_of(e[1]) == proto]
        ok = sum(1 for e in execs if e[2] == Outcome.OK.value)
        failed = len(execs) - ok
        open_findings = [sf for sf in run.findings if sf.finding.protocol == proto and sf.counts_as_open]
        counts = Counter(sf.finding.severity.value for sf in open_findings)
        ordered = sorted(open_findings, key=lambda sf: (-sf.finding.severity.rank, sf.finding.title))
        actions: list[str] = []
        for sf in ordered:
            if sf.finding.severity < Severity.LOW:
                break
            a = _action(sf)
            if a not in actions:
                actions.append(a)
            if len(actions) == MAX_ACTIONS:
                break
        if ok == 0:
            status = ReadinessStatus.NOT_ASSESSED
            if failed:
                actions.insert(0, f"{failed} check(s) could not run; see the check errors")
            elif not actions:
                actions.append("Not checked yet: no ShopGuard check for this protocol ran")
        elif any(sf.finding.severity >= GAP_THRESHOLD for sf in open_findings):
            status = ReadinessStatus.GAPS
        else:
            status = ReadinessStatus.READY
            if failed:
                # Some evidence is missing: do not claim readiness on partial data.
                status = ReadinessStatus.GAPS
                actions.insert(0, f"{failed} check(s) could not run; readiness is unproven until they do")
        rows.append(
            LitmusRow(
                protocol=proto,
                title=PROTOCOL_TITLES[proto],
                status=status,
                counts={s.value: counts.get(s.value, 0) for s in reversed(Severity)},
                checks_ok=ok,
                checks_failed=failed,
                actions=tuple(actions[:MAX_ACTIONS]),
            )
        )
    return rows
