"""Tables for policies (documents and their versions), people, acknowledgements, training."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history

from shopguard.db.base import Base, UTCDateTime, utcnow


class PolicyDocument(Base):
    """One policy in the library (e.g. "access-control"), across all its versions."""

    __tablename__ = "policy_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    applies_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Roster roles that must acknowledge it; empty means everyone."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PolicyVersion]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="PolicyVersion.number"
    )


class PolicyVersion(Base):
    """draft -> approved -> published -> retired. Published text never changes."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("policy_documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[str] = mapped_column(String(200), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Last annual review that kept the text unchanged (PCI DSS 12.1.2)."""

    document: Mapped[PolicyDocument] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_policy_versions_doc_number"),)


class ImmutableVersionError(Exception):
    """Someone tried to change the text of an approved, published or retired version."""


@event.listens_for(PolicyVersion, "before_update")
def _guard_text(_mapper: Any, _conn: Any, target: PolicyVersion) -> None:
    """Last line of defence: text and hash are frozen once a version leaves draft."""
    for attr in ("text", "text_hash"):
        hist = get_history(target, attr)
        if hist.has_changes() and hist.deleted:
            previous_status = get_history(target, "status").deleted
            status = previous_status[0] if previous_status else target.status
            if status != "draft":
                raise ImmutableVersionError(
                    f"version {target.number} is {status}: its text cannot change; make a new version"
                )


class Person(Base):
    """Someone on the roster: staff, contractors, the owner."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    """Set when the person leaves; they then owe nothing."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def active(self) -> bool:
        return self.end_date is None


class Acknowledgement(Base):
    """A person read and accepted one published version (identified by its text hash)."""

    __tablename__ = "policy_acknowledgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"), index=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(32), default="cli")
    """cli, web, email, paper."""
    note: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[Person] = relationship()
    version: Mapped[PolicyVersion] = relationship()


class TrainingRecord(Base):
    """A course someone took (PCI DSS 12.6.3: security awareness at least every 12 months)."""

    __tablename__ = "training_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(300))
    completed_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(32), default="passed")
    """passed, failed, attended."""
    expires_on: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()


class Vendor(Base):
    """The small vendor register of the Vendor and Third-Party Management policy."""

    __tablename__ = "policy_vendors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    service: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="")
    """What data of ours they see or hold."""
    pci_attestation: Mapped[date | None] = mapped_column(Date, nullable=True)
    """Date of their latest PCI DSS Attestation of Compliance, when they touch card data."""
    contact: Mapped[str] = mapped_column(String(300), default="")
