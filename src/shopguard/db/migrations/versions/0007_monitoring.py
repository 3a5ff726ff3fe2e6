"""monitoring: monitor state, results, rollups, incidents, alert outbox, daemon liveness

Revision ID: 0007_monitoring
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0007_monitoring"
down_revision = "0004_web"
branch_labels = None
depends_on = None

T = shopguard.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "monitor_state",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("announced", sa.String(length=16), nullable=False),
        sa.Column("since", T(timezone=True), nullable=True),
        sa.Column("fails", sa.Integer(), nullable=False),
        sa.Column("oks", sa.Integer(), nullable=False),
        sa.Column("first_fail_at", T(timezone=True), nullable=True),
        sa.Column("last_check_at", T(timezone=True), nullable=True),
        sa.Column("last_message", sa.Text(), nullable=False),
        sa.Column("last_alert_at", T(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_beat_at", T(timezone=True), nullable=True),
        sa.Column("updated_at", T(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_monitor_state")),
    )
    op.create_table(
        "monitor_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", T(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("maintenance", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_results")),
    )
    with op.batch_alter_table("monitor_results", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_results_key_at", ["key", "at"], unique=False)
        batch_op.create_index("ix_monitor_results_at", ["at"], unique=False)
    op.create_table(
        "monitor_rollups",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("hour", T(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("n_up", sa.Integer(), nullable=False),
        sa.Column("n_down", sa.Integer(), nullable=False),
        sa.Column("n_excluded", sa.Integer(), nullable=False),
        sa.Column("lat_n", sa.Integer(), nullable=False),
        sa.Column("lat_p50", sa.Float(), nullable=True),
        sa.Column("lat_p95", sa.Float(), nullable=True),
        sa.Column("lat_p99", sa.Float(), nullable=True),
        sa.Column("lat_max", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("key", "hour", name=op.f("pk_monitor_rollups")),
    )
    op.create_table(
        "monitor_incidents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("monitor", sa.String(length=100), nullable=False),
        sa.Column("started_at", T(timezone=True), nullable=False),
        sa.Column("ended_at", T(timezone=True), nullable=True),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("end_note", sa.Text(), nullable=False),
        sa.Column("suppressed", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_incidents")),
    )
    with op.batch_alter_table("monitor_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_incidents_key"), ["key"], unique=False)
    op.create_table(
        "monitor_alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("monitor", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", T(timezone=True), nullable=False),
        sa.Column("sent_at", T(timezone=True), nullable=True),
        sa.Column("delivered", sa.JSON(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alerts")),
    )
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_alerts_key"), ["key"], unique=False)
    op.create_table(
        "monitor_daemon",
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", T(timezone=True), nullable=False),
        sa.Column("last_seen", T(timezone=True), nullable=False),
        sa.Column("monitors", sa.Integer(), nullable=False),
        sa.Column("stores", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hostname", name=op.f("pk_monitor_daemon")),
    )


def downgrade() -> None:
    op.drop_table("monitor_daemon")
    op.drop_table("monitor_alerts")
    op.drop_table("monitor_incidents")
    op.drop_table("monitor_rollups")
    op.drop_table("monitor_results")
    op.drop_table("monitor_state")
