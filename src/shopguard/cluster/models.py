"""One row per Celery task id: makes a redelivered task finish into the same run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopguard.db.base import Base, UTCDateTime, utcnow


class ClusterTask(Base):
    __tablename__ = "cluster_tasks"

    task_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="audit")
    stores: Mapped[str] = mapped_column(Text, default="")
    selector: Mapped[str] = mapped_column(String(500), default="")
    queue: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="started")
    """started, finished, poisoned"""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Deliveries that reached the start of the work (a crash counts)."""
    worker: Mapped[str] = mapped_column(String(255), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_cluster_tasks_status_finished", "status", "finished_at"),)
