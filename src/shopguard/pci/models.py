"""PCI tables: assessments, answers, suggestions, evidence, remediation tasks, ASV scans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopguard.db.base import Base, UTCDateTime, utcnow


class PciAssessment(Base):
    """One store's self-assessment for one year."""

    __tablename__ = "pci_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    saq: Mapped[str] = mapped_column(String(8))
    integration: Mapped[str] = mapped_column(String(32))
    saq_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Eligibility conditions: id, text, confirmed (true/false/null), source."""
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attested_by: Mapped[str] = mapped_column(String(200), default="")
    attested_title: Mapped[str] = mapped_column(String(200), default="")

    answers: Mapped[list[PciAnswer]] = relationship(back_populates="assessment", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("store", "year", name="uq_pci_assessments_store_year"),)


class PciAnswer(Base):
    """A person's answer to one requirement (the only thing the AoC counts)."""

    __tablename__ = "pci_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("pci_assessments.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str] = mapped_column(Text, default="")
    person: Mapped[str] = mapped_column(String(200))
    answered_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    """manual, suggestion (a confirmed auto-evidence suggestion) or import."""
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Fingerprints of the findings this answer rests on."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment: Mapped[PciAssessment] = relationship(back_populates="answers")

    __table_args__ = (
        UniqueConstraint("assessment_id", "requirement_id", name="uq_pci_answers_assessment_req"),
    )


class PciSuggestion(Base):
    """What ShopGuard's own findings say about a requirement; never an answer by itself."""

    __tablename__ = "pci_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("pci_assessments.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[str] = mapped_column(String(16))
    suggestion: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("assessment_id", "requirement_id", name="uq_pci_suggestions_assessment_req"),
    )


class PciEvidence(Base):
    """An evidence file a person attached to a requirement. Files are never overwritten."""

    __tablename__ = "pci_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("pci_assessments.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(1000))
    """Relative to the evidence folder."""
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploader: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class PciTask(Base):
    """Remediation for a requirement answered Not in Place."""

    __tablename__ = "pci_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("pci_assessments.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200), default="")
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("assessment_id", "requirement_id", name="uq_pci_tasks_assessment_req"),
    )


class PciAsvScan(Base):
    """An external scan report from an Approved Scanning Vendor, uploaded by the merchant."""

    __tablename__ = "pci_asv_scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(200), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    """``2026-Q3``: the calendar quarter the scan counts for."""
    scan_date: Mapped[date] = mapped_column(Date)
    vendor: Mapped[str] = mapped_column(String(200))
    passed: Mapped[bool] = mapped_column(Boolean)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploader: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
