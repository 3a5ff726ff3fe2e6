"""dashboard monitoring: maintenance windows planned in the dashboard

Revision ID: 0015_dash_monitor
Revises: 0014_dash_triage
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0015_dash_monitor"
down_revision = "0014_dash_triage"
branch_labels = None
depends_on = None

T = shopguard.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "monitor_maintenance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("monitors", sa.JSON(), nullable=False),
        sa.Column("start_at", T(timezone=True), nullable=False),
        sa.Column("end_at", T(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", T(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=320), nullable=False),
        sa.Column("ended_at", T(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_maintenance")),
    )
    op.create_index("ix_monitor_maintenance_end_at", "monitor_maintenance", ["end_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_monitor_maintenance_end_at", table_name="monitor_maintenance")
    op.drop_table("monitor_maintenance")
