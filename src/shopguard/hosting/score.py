"""The hardening score: one number per host, with its formula shown to the reader."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shopguard.findings import Finding, Severity

PENALTY: dict[Severity, int] = {
    Severity.CRITICAL: 25,
    Severity.HIGH: 10,
    Severity.MEDIUM: 4,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
UNCHECKED_PENALTY = 2

SCORE_FORMULA = (
    "score = max(0, 100 - 25*critical - 10*high - 4*medium - 1*low - 2*checks_not_completed); "
    "info findings cost nothing"
)
"""Shown next to every score. A check that could not complete costs points too, so a
host that hides everything (permission denied everywhere) cannot score 100."""


@dataclass(frozen=True)
class HardeningScore:
    score: int
    counts: dict[str, int]
    checks_not_completed: int
    formula: str = SCORE_FORMULA

    def describe(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return (
            f"Hardening score {self.score}/100 ({parts or 'no findings'}; "
            f"{self.checks_not_completed} check(s) not completed). Formula: {self.formula}"
        )


def hardening_score(findings: Iterable[Finding], checks_not_completed: int = 0) -> HardeningScore:
    """Score the ``hosting.*`` findings of one host (others are ignored)."""
    counts = {s.value: 0 for s in sorted(PENALTY, reverse=True)}
    total = 0
    for f in findings:
        if f.protocol != "hosting":
            continue
        counts[f.severity.value] += 1
        total += PENALTY[f.severity]
    total += UNCHECKED_PENALTY * checks_not_completed
    return HardeningScore(max(0, 100 - total), counts, checks_not_completed)
