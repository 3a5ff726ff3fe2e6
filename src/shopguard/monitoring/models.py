"""Monitoring tables: current state, raw results, hourly rollups, incidents, alert outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopguard.db.base import Base, UTCDateTime, utcnow


class MonitorStateRecord(Base):
    """One row per monitor (key ``store/name``): what the daemon needs after a restart."""

    __tablename__ = "monitor_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    store: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500), default="")
    severity: Mapped[str] = mapped_column(String(16), default="high")
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    announced: Mapped[str] = mapped_column(String(16), default="")
    """The state last announced to people: '', up, down, flapping."""
    since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fails: Mapped[int] = mapped_column(Integer, default=0)
    oks: Mapped[int] = mapped_column(Integer, default=0)
    first_fail_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_message: Mapped[str] = mapped_column(Text, default="")
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    incident_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    changes: Mapped[list[float]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_beat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitorResultRecord(Base):
    """Raw check results (kept ``raw_retention_days``, then rolled up per hour)."""

    __tablename__ = "monitor_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(String(300), default="")
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_monitor_results_key_at", "key", "at"), Index("ix_monitor_results_at", "at"))


class MonitorRollupRecord(Base):
    """One hour of one monitor's results after the raw rows are gone."""

    __tablename__ = "monitor_rollups"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    n_up: Mapped[int] = mapped_column(Integer, default=0)
    n_down: Mapped[int] = mapped_column(Integer, default=0)
    n_excluded: Mapped[int] = mapped_column(Integer, default=0)
    """Maintenance, skipped and config-error results (not counted in uptime)."""
    lat_n: Mapped[int] = mapped_column(Integer, default=0)
    lat_p50: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat_p95: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat_p99: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat_max: Mapped[float | None] = mapped_column(Float, nullable=True)


class MonitorIncidentRecord(Base):
    """A period of confirmed downtime: start, end and cause."""

    __tablename__ = "monitor_incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    store: Mapped[str] = mapped_column(String(200))
    monitor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cause: Mapped[str] = mapped_column(Text, default="")
    end_note: Mapped[str] = mapped_column(Text, default="")
    suppressed: Mapped[str] = mapped_column(String(32), default="")
    """Why no alert was sent when it started: maintenance, dependency, flapping."""


class MonitorAlertRecord(Base):
    """Alert outbox: written before sending, marked sent after; restart-safe."""

    __tablename__ = "monitor_alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    store: Mapped[str] = mapped_column(String(200))
    monitor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered: Mapped[list[str]] = mapped_column(JSON, default=list)
    failed: Mapped[list[str]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MonitorDaemonRecord(Base):
    """Liveness of ``shopguard monitor`` processes (one row per host)."""

    __tablename__ = "monitor_daemon"

    hostname: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    monitors: Mapped[int] = mapped_column(Integer, default=0)
    stores: Mapped[str] = mapped_column(Text, default="")


class MaintenanceRecord(Base):
    """A one-off maintenance window planned in the dashboard (config windows live in
    shopguard.toml). The daemon re-reads these every few seconds; ending one early sets
    ``end_at`` to the moment it was ended."""

    __tablename__ = "monitor_maintenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(200))
    monitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Only these monitors of the store (empty: all of them)."""
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by: Mapped[str] = mapped_column(String(320), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_monitor_maintenance_end_at", "end_at"),)
