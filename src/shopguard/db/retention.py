"""Retention: prune runs older than ``keep_days`` in batches, on SQLite and PostgreSQL.

What goes: old runs (not ``running``), with their check executions, their run-finding
links and the ``cluster_tasks`` rows of their Celery tasks; and findings that were
resolved before the cutoff, not seen since, and not triaged.

What always stays, whatever its age:

* findings that are new or open, or triaged (accepted risk / false positive): their
  lifecycle goes on, so the next run still reports them as open, never as new;
* findings another table refers to (an incident's findings, for instance);
* the last run of every finding that stays (``findings.last_run_id``), with its links:
  the evidence of where an open finding was last seen.

Every table with a foreign key to ``runs`` or ``findings`` is found from the models'
metadata, so a feature adding such a table is handled without a change here: rows of
``ON DELETE CASCADE`` keys are deleted with their run, ``SET NULL`` keys are cleared.
Each batch is one transaction, so a long prune never holds a long lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Column, Delete, Table, Update, and_, delete, exists, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import Base, utcnow
from shopguard.db.models import FindingRecord, RunFinding, RunRecord
from shopguard.findings import FindingStatus, Triage

DEFAULT_BATCH = 500


@dataclass
class PruneResult:
    cutoff: datetime
    runs: int = 0
    findings: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    """Rows deleted (or cleared) per other table."""

    def add(self, table: str, n: int) -> None:
        if n:
            self.rows[table] = self.rows.get(table, 0) + n


def _references(target: Table) -> list[tuple[Table, Column[object], str]]:
    """``(table, column, ondelete)`` of every foreign key pointing at ``target``."""
    from shopguard.db.registry import import_all_models

    import_all_models()
    out = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target:
                out.append((table, fk.parent, (fk.ondelete or "").upper()))
    return out


def _count(s: Session, statement: Delete | Update) -> int:
    """Rows a DELETE or UPDATE touched."""
    result = s.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _prune_findings(s: Session, cutoff: datetime, batch: int, result: PruneResult) -> int:
    """One batch of resolved, untriaged findings not seen since the cutoff."""
    conds = [
        FindingRecord.status == FindingStatus.RESOLVED.value,
        FindingRecord.triage == Triage.NONE.value,
        FindingRecord.resolved_at.is_not(None),
        FindingRecord.resolved_at < cutoff,
        FindingRecord.last_seen < cutoff,
    ]
    findings = FindingRecord.__table__
    assert isinstance(findings, Table)
    for table, col, _ in _references(findings):
        if table is not RunFinding.__table__:  # e.g. an incident's findings: keep them
            conds.append(~exists().where(col == FindingRecord.id))
    query = select(FindingRecord.id).where(and_(*conds)).order_by(FindingRecord.id).limit(batch)
    ids = list(s.scalars(query))
    if not ids:
        return 0
    result.add("run_findings", _count(s, delete(RunFinding).where(RunFinding.finding_id.in_(ids))))
    s.execute(delete(FindingRecord).where(FindingRecord.id.in_(ids)))
    result.findings += len(ids)
    return len(ids)


def _prune_runs(s: Session, cutoff: datetime, batch: int, result: PruneResult) -> int:
    """One batch of old runs that no remaining finding has as its last run."""
    ended = func.coalesce(RunRecord.finished_at, RunRecord.started_at)
    ids = list(
        s.scalars(
            select(RunRecord.id)
            .where(
                RunRecord.status != "running",
                ended < cutoff,
                ~exists().where(FindingRecord.last_run_id == RunRecord.id),
            )
            .order_by(RunRecord.id)
            .limit(batch)
        )
    )
    if not ids:
        return 0
    runs = RunRecord.__table__
    assert isinstance(runs, Table)
    for table, col, ondelete in _references(runs):
        # A task's idempotency record goes with its run: a task that old is never redelivered.
        if ondelete == "CASCADE" or table.name == "cluster_tasks":
            result.add(table.name, _count(s, delete(table).where(col.in_(ids))))
        else:  # SET NULL (or no action): the row stays, without the run
            cleared = _count(s, update(table).where(col.in_(ids)).values({col.name: None}))
            result.add(f"{table.name}.{col.name} cleared", cleared)
    s.execute(delete(RunRecord).where(RunRecord.id.in_(ids)))
    result.runs += len(ids)
    return len(ids)


def prune_runs(
    db: sessionmaker[Session],
    keep_days: float,
    *,
    now: datetime | None = None,
    batch: int = DEFAULT_BATCH,
) -> PruneResult:
    """Delete runs older than ``keep_days`` (see the module docstring for what stays)."""
    if keep_days <= 0:
        raise ValueError(f"keep_days must be positive, got {keep_days:g}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    result = PruneResult(cutoff=cutoff)
    # Findings first: a deleted finding no longer pins its last run.
    while True:
        with db.begin() as s:
            if _prune_findings(s, cutoff, batch, result) < batch:
                break
    while True:
        with db.begin() as s:
            if _prune_runs(s, cutoff, batch, result) < batch:
                break
    return result


__all__ = ["DEFAULT_BATCH", "PruneResult", "prune_runs"]
