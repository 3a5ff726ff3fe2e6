"""How each protocol's litmus state changed over a store's last audit runs.

Every state is scored by :func:`shopguard.readiness.litmus` from what the run stored
(its check executions and the findings it saw, with their status in that run), the same
way ``shopguard audit`` printed it and the run's page shows it. Decisions taken since
(an accepted risk, a false positive) count in older runs too, as on the run's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shopguard.db.repository import store_runs
from shopguard.findings import PROTOCOL_TITLES, PROTOCOLS
from shopguard.readiness import ReadinessStatus, litmus

RUNS = 10
"""How many of the store's newest audit runs are shown."""


@dataclass(frozen=True)
class RunColumn:
    id: int
    started_at: datetime
    selector: str
    """What the audit was limited to (empty: everything)."""

    @property
    def label(self) -> str:
        only = f" (only {self.selector})" if self.selector and self.selector != "all" else ""
        return f"run {self.id}, {self.started_at:%Y-%m-%d %H:%M} UTC{only}"


@dataclass(frozen=True)
class Change:
    protocol: str
    title: str
    before: ReadinessStatus
    after: ReadinessStatus
    run_id: int


@dataclass(frozen=True)
class LitmusHistory:
    store: str
    runs: tuple[RunColumn, ...]
    """Oldest first."""
    states: dict[str, tuple[ReadinessStatus, ...]]
    """Protocol -> its state in each of ``runs``."""

    def changes(self) -> list[Change]:
        """Every run where a protocol's state differs from the run before, oldest first."""
        out = []
        for i in range(1, len(self.runs)):
            for proto in PROTOCOLS:
                before, after = self.states[proto][i - 1], self.states[proto][i]
                if before is not after:
                    out.append(Change(proto, PROTOCOL_TITLES[proto], before, after, self.runs[i].id))
        return out


def history(s: Session, store: str, runs: int = RUNS) -> LitmusHistory:
    stored = store_runs(s, store, runs)
    scored = [{row.protocol: row.status for row in litmus(run)} for run in stored]
    return LitmusHistory(
        store,
        tuple(RunColumn(r.id, r.started_at, r.selector) for r in stored),
        {p: tuple(sc[p] for sc in scored) for p in PROTOCOLS},
    )
