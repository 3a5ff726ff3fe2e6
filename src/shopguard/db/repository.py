"""Writes runs and findings; applies the finding lifecycle.

Each check's result is committed in its own transaction as it arrives, and the
"resolved" sweep happens in one transaction at the end of a run. A run killed in
between stays ``running`` until the next run marks it ``interrupted``: nothing is
half-written and the next run works.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard import __version__
from shopguard.checks import CheckRun, Outcome
from shopguard.config import FindingsSettings
from shopguard.db.base import utcnow
from shopguard.db.models import CheckExecution, FindingRecord, RunFinding, RunRecord
from shopguard.findings import Finding, FindingStatus, Refs, Severity, Triage


class NotFound(LookupError):
    pass


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_stale_runs(db: sessionmaker[Session]) -> int:
    """Runs left ``running`` by a process that is gone become ``interrupted``."""
    host = socket.gethostname()
    n = 0
    with db.begin() as s:
        for run in s.scalars(select(RunRecord).where(RunRecord.status == "running")):
            if run.hostname == host and not _pid_alive(run.pid):
                run.status = "interrupted"
                run.finished_at = run.finished_at or utcnow()
                n += 1
    return n


def begin_run(db: sessionmaker[Session], stores: Sequence[str], selector: str, kind: str = "audit") -> int:
    mark_stale_runs(db)
    with db.begin() as s:
        run = RunRecord(
            kind=kind,
            selector=selector,
            stores=",".join(stores),
            status="running",
            tool_version=__version__,
            pid=os.getpid(),
            hostname=socket.gethostname(),
        )
        s.add(run)
        s.flush()
        return run.id


def record_check(db: sessionmaker[Session], run_id: int, result: CheckRun) -> None:
    """Store one check's execution and upsert its findings (one transaction)."""
    now = utcnow()
    with db.begin() as s:
        s.add(
            CheckExecution(
                run_id=run_id,
                store=result.store,
                check_id=result.check_id,
                outcome=result.outcome.value,
                message=result.message[:4000],
                duration_s=result.duration_s,
                finished_at=now,
            )
        )
        seen: set[str] = set()
        for f in result.findings:
            fp = f.fingerprint
            if fp in seen:  # a check reporting the same thing twice counts once
                continue
            seen.add(fp)
            rec = s.scalar(
                select(FindingRecord).where(
                    FindingRecord.store == result.store, FindingRecord.fingerprint == fp
                )
            )
            if rec is None:
                rec = FindingRecord(
                    store=result.store,
                    fingerprint=fp,
                    source_check=result.check_id,
                    status=FindingStatus.NEW.value,
                    first_seen=now,
                    first_run_id=run_id,
                )
                s.add(rec)
            else:
                rec.status = FindingStatus.OPEN.value
                rec.resolved_at = None
                rec.source_check = result.check_id
            _copy_content(rec, f)
            rec.last_seen = now
            rec.last_run_id = run_id
            s.flush()
            s.merge(RunFinding(run_id=run_id, finding_id=rec.id, status=rec.status, severity=rec.severity))


def _copy_content(rec: FindingRecord, f: Finding) -> None:
    rec.check_id = f.check_id
    rec.protocol = f.protocol
    rec.severity = f.severity.value
    rec.title = f.title
    rec.detail = f.detail
    rec.location = f.location
    rec.evidence = dict(f.evidence)
    rec.remediation = f.remediation
    rec.refs = f.refs.to_dict()
    rec.key = f.key


def finish_run(db: sessionmaker[Session], run_id: int, status: str = "finished") -> None:
    """Resolve findings whose check ran cleanly in this run without seeing them."""
    with db.begin() as s:
        finish_run_in(s, run_id, status)


def finish_run_in(s: Session, run_id: int, status: str = "finished") -> None:
    """:func:`finish_run` inside the caller's transaction (the cluster marks its task
    finished in the same commit)."""
    now = utcnow()
    run = s.get(RunRecord, run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist")
    if status == "finished":
        # One query for every (store, check) that ran cleanly in this run, not one per
        # pair: a monitor batch holds hundreds of them.
        clean_here = (
            select(CheckExecution.id)
            .where(
                CheckExecution.run_id == run_id,
                CheckExecution.outcome == Outcome.OK.value,
                CheckExecution.store == FindingRecord.store,
                CheckExecution.check_id == FindingRecord.source_check,
            )
            .exists()
        )
        # "Not seen in this run" is asked of the run's own links, not of last_run_id: a
        # concurrent run of the same check (an audit next to a monitor batch, on
        # cluster workers) may have seen the finding after this one, and this run saw
        # it too, so it must neither resolve it nor link it twice.
        seen_here = (
            select(RunFinding.finding_id)
            .where(RunFinding.run_id == run_id, RunFinding.finding_id == FindingRecord.id)
            .exists()
        )
        stale = s.scalars(
            select(FindingRecord).where(
                clean_here, ~seen_here, FindingRecord.status != FindingStatus.RESOLVED.value
            )
        )
        for rec in stale:
            rec.status = FindingStatus.RESOLVED.value
            rec.resolved_at = now
            s.add(RunFinding(run_id=run_id, finding_id=rec.id, status=rec.status, severity=rec.severity))
    run.status = status
    run.finished_at = now


def set_triage(
    db: sessionmaker[Session],
    store: str,
    fingerprint: str,
    triage: Triage,
    reason: str,
    by: str,
    expires: date | None = None,
    settings: FindingsSettings | None = None,
) -> FindingRecord:
    """Mark a finding accepted-risk (until ``expires``, default per ``settings``) or
    false-positive, or clear it; survives later runs."""
    from shopguard.db.triage import TriageError, apply_triage

    with db.begin() as s:
        rec = s.scalar(
            select(FindingRecord).where(
                FindingRecord.store == store, FindingRecord.fingerprint.startswith(fingerprint)
            )
        )
        if rec is None:
            raise NotFound(f"no finding {fingerprint!r} for store {store!r}")
        try:
            apply_triage(rec, triage, reason, by, settings or FindingsSettings(), expires)
        except TriageError as exc:
            if exc.field == "reason":
                raise ValueError("a reason is required to accept a risk or mark a false positive") from None
            raise
        return rec


@dataclass(frozen=True)
class StoredFinding:
    """A finding as a report shows it: content, status in the run, triage."""

    finding: Finding
    store: str
    status: FindingStatus
    triage: Triage
    """The decision that holds now (an accepted risk past its expiry is NONE)."""
    triage_reason: str
    first_seen: datetime
    last_seen: datetime
    triage_expires_at: datetime | None = None
    triage_lapsed: bool = False
    """An accepted risk whose expiry passed: it counts as open again."""

    @property
    def counts_as_open(self) -> bool:
        return self.status is not FindingStatus.RESOLVED and self.triage is Triage.NONE


@dataclass(frozen=True)
class StoredRun:
    id: int
    kind: str
    selector: str
    stores: tuple[str, ...]
    status: str
    started_at: datetime
    finished_at: datetime | None
    tool_version: str
    executions: tuple[tuple[str, str, str, str], ...]
    """(store, check_id, outcome, message)"""
    findings: tuple[StoredFinding, ...]

    @property
    def checks_run(self) -> int:
        return len(self.executions)

    @property
    def check_errors(self) -> int:
        return sum(1 for e in self.executions if e[2] != Outcome.OK.value)


def to_finding(rec: FindingRecord, severity: str | None = None) -> Finding:
    return Finding(
        check_id=rec.check_id,
        severity=Severity(severity or rec.severity),
        title=rec.title,
        location=rec.location,
        detail=rec.detail,
        remediation=rec.remediation,
        evidence=rec.evidence or {},
        refs=Refs.from_dict(rec.refs),
        key=rec.key,
    )


def _stored_finding(rf: RunFinding, rec: FindingRecord) -> StoredFinding:
    """A finding as one run saw it: its severity and status then, the triage that holds now."""
    return StoredFinding(
        finding=to_finding(rec, rf.severity),
        store=rec.store,
        status=FindingStatus(rf.status),
        triage=rec.effective_triage,
        triage_reason=rec.triage_reason,
        first_seen=rec.first_seen,
        last_seen=rec.last_seen,
        triage_expires_at=rec.triage_expires_at,
        triage_lapsed=rec.triage_lapsed,
    )


def _stored_run(
    run: RunRecord,
    execs: tuple[tuple[str, str, str, str], ...],
    found: tuple[StoredFinding, ...],
    stores: tuple[str, ...] | None = None,
) -> StoredRun:
    return StoredRun(
        id=run.id,
        kind=run.kind,
        selector=run.selector,
        stores=stores if stores is not None else tuple(x for x in run.stores.split(",") if x),
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        tool_version=run.tool_version,
        executions=execs,
        findings=found,
    )


def load_run(db: sessionmaker[Session], run_id: int | None = None) -> StoredRun:
    """A stored run (the newest when run_id is None) with its findings."""
    with db() as s:
        if run_id is None:
            run = s.scalar(select(RunRecord).order_by(RunRecord.id.desc()).limit(1))
            if run is None:
                raise NotFound("no run stored yet: run `shopguard audit` first")
        else:
            run = s.get(RunRecord, run_id)
            if run is None:
                raise NotFound(f"run {run_id} does not exist")
        execs = tuple(
            (e.store, e.check_id, e.outcome, e.message)
            for e in s.scalars(
                select(CheckExecution).where(CheckExecution.run_id == run.id).order_by(CheckExecution.id)
            )
        )
        rows = s.execute(
            select(RunFinding, FindingRecord)
            .join(FindingRecord, RunFinding.finding_id == FindingRecord.id)
            .where(RunFinding.run_id == run.id)
        ).all()
        return _stored_run(run, execs, tuple(_stored_finding(rf, rec) for rf, rec in rows))


def store_runs(s: Session, store: str, limit: int, kind: str = "audit") -> list[StoredRun]:
    """The newest ``limit`` finished runs of ``kind`` that checked ``store`` (oldest first),
    each cut down to that store's executions and findings: enough to score its litmus."""
    ids = list(
        s.scalars(
            select(RunRecord.id)
            .where(
                RunRecord.status == "finished",
                RunRecord.kind == kind,
                select(CheckExecution.id)
                .where(CheckExecution.run_id == RunRecord.id, CheckExecution.store == store)
                .exists(),
            )
            .order_by(RunRecord.id.desc())
            .limit(limit)
        )
    )
    if not ids:
        return []
    execs: dict[int, list[tuple[str, str, str, str]]] = {i: [] for i in ids}
    for e in s.scalars(
        select(CheckExecution)
        .where(CheckExecution.run_id.in_(ids), CheckExecution.store == store)
        .order_by(CheckExecution.id)
    ):
        execs[e.run_id].append((e.store, e.check_id, e.outcome, e.message))
    found: dict[int, list[StoredFinding]] = {i: [] for i in ids}
    for rf, rec in s.execute(
        select(RunFinding, FindingRecord)
        .join(FindingRecord, RunFinding.finding_id == FindingRecord.id)
        .where(RunFinding.run_id.in_(ids), FindingRecord.store == store)
    ):
        found[rf.run_id].append(_stored_finding(rf, rec))
    runs = {r.id: r for r in s.scalars(select(RunRecord).where(RunRecord.id.in_(ids)))}
    return [_stored_run(runs[i], tuple(execs[i]), tuple(found[i]), (store,)) for i in sorted(ids)]
