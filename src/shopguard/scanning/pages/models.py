"""The approved payment-page inventory (PCI DSS 6.4.3): what may run on the checkout
and basket, why, who said so, and the security headers the page had then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopguard.db.base import Base, UTCDateTime, utcnow


class PageApproval(Base):
    """One authorised item on one payment page."""

    __tablename__ = "page_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(200))
    page: Mapped[str] = mapped_column(String(32))
    """checkout or basket"""
    kind: Mapped[str] = mapped_column(String(32))
    """script, inline-script, iframe, destination, headers"""
    identifier: Mapped[str] = mapped_column(String(2000))
    """Script URL without query, inline script hash (sha256-...), iframe URL, request origin."""
    sha256: Mapped[str] = mapped_column(String(100), default="")
    """Content hash of an external script when approved (changes are findings)."""
    justification: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """For ``headers``: the security headers as approved."""

    __table_args__ = (UniqueConstraint("store", "page", "kind", "identifier", name="uq_page_approvals_item"),)


class PageRejection(Base):
    """An item someone reviewed and refused: it must come off the page (the monitor keeps
    reporting it while it is there). Approving the item later removes the rejection."""

    __tablename__ = "page_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(200))
    page: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    identifier: Mapped[str] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(Text, default="")
    rejected_by: Mapped[str] = mapped_column(String(200), default="")
    rejected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("store", "page", "kind", "identifier", name="uq_page_rejections_item"),
    )
