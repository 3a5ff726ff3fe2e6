"""Runs, check executions and findings: the foundation's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopguard.db.base import Base, UTCDateTime, utcnow
from shopguard.findings import Triage


class RunRecord(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="audit")
    selector: Mapped[str] = mapped_column(String(500), default="")
    stores: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(16), default="running")
    """running, finished, interrupted, failed"""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tool_version: Mapped[str] = mapped_column(String(32), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    hostname: Mapped[str] = mapped_column(String(255), default="")

    executions: Mapped[list[CheckExecution]] = relationship(
        back_populates="run", cascade="all, delete-orphan"
    )


class CheckExecution(Base):
    __tablename__ = "check_executions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    store: Mapped[str] = mapped_column(String(200))
    check_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[RunRecord] = relationship(back_populates="executions")

    __table_args__ = (Index("ix_check_executions_store_check", "store", "check_id"),)


class FindingRecord(Base):
    """One problem across runs: identified by (store, fingerprint)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str] = mapped_column(String(200))
    source_check: Mapped[str] = mapped_column(String(200))
    """The registered check that yields it: a run of that check that does not
    see the finding resolves it."""
    protocol: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(500), default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remediation: Mapped[str] = mapped_column(Text, default="")
    refs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="new")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
    )
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    triage: Mapped[str] = mapped_column(String(32), default="none")
    triage_reason: Mapped[str] = mapped_column(Text, default="")
    triage_by: Mapped[str] = mapped_column(String(200), default="")
    triage_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    triage_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When an accepted risk lapses: from then on the finding counts as open again
    (evaluated when read, see ``shopguard.db.triage``; the decision itself stays on record)."""
    assignee: Mapped[str] = mapped_column(String(320), default="", server_default="")
    """Email of the dashboard user who should deal with it; empty: nobody."""

    @property
    def effective_triage(self) -> Triage:
        """The triage that holds now: an accepted risk past its expiry counts as none."""
        return Triage.NONE if self.triage_lapsed else Triage(self.triage)

    @property
    def triage_lapsed(self) -> bool:
        return (
            self.triage == Triage.ACCEPTED_RISK.value
            and self.triage_expires_at is not None
            and self.triage_expires_at <= utcnow()
        )

    __table_args__ = (
        UniqueConstraint("store", "fingerprint", name="uq_findings_store_fingerprint"),
        Index("ix_findings_store_status", "store", "status"),
        Index("ix_findings_source_check", "store", "source_check"),
    )


class RunFinding(Base):
    """Which findings a run saw (or resolved), with the status they had in it."""

    __tablename__ = "run_findings"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))

    finding: Mapped[FindingRecord] = relationship()


class FindingComment(Base):
    """One message in a finding's discussion thread (the dashboard's comments)."""

    __tablename__ = "finding_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)
