"""Tables for cyber insurance: policies held, their coverages, owner answers to underwriting questions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopguard.db.base import Base, UTCDateTime, utcnow


class InsurancePolicy(Base):
    """One cyber insurance policy the company holds."""

    __tablename__ = "insurance_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    insurer: Mapped[str] = mapped_column(String(200))
    policy_number: Mapped[str] = mapped_column(String(100), unique=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    aggregate_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    retention: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Deductible / self-insured retention, whole currency units."""
    broker: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """name, email, phone."""
    notification_window_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notification_hotline: Mapped[str] = mapped_column(String(100), default="")
    notification_email: Mapped[str] = mapped_column(String(320), default="")
    exclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coverages: Mapped[list[Coverage]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="Coverage.kind"
    )


class Coverage(Base):
    """One insuring agreement of a policy, with its limit and any sub-limits."""

    __tablename__ = "insurance_coverages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("insurance_policies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    limit: Mapped[int] = mapped_column(BigInteger)
    sublimits: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    """E.g. {"forensics": 50000, "notification": 25000}."""
    retention: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")

    policy: Mapped[InsurancePolicy] = relationship(back_populates="coverages")

    __table_args__ = (UniqueConstraint("policy_id", "kind", name="uq_insurance_coverages_policy_kind"),)


class UnderwritingAnswer(Base):
    """The owner's answer to one underwriting question (when evidence cannot answer it)."""

    __tablename__ = "insurance_underwriting_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), unique=True)
    answer: Mapped[str] = mapped_column(String(16))
    """yes, no, partial."""
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
