"""dash-response: alert channels added in the dashboard (their URLs are vault secrets)

Revision ID: 0013_dash_response
Revises: 0012_cluster
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0013_dash_response"
down_revision = "0012_cluster"
branch_labels = None
depends_on = None

_DT = shopguard.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_alert_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=False),
        sa.Column("secret_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("last_test_at", _DT, nullable=True),
        sa.Column("last_test_ok", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_alert_channels")),
        sa.UniqueConstraint("name", name="uq_web_alert_channels_name"),
    )


def downgrade() -> None:
    op.drop_table("web_alert_channels")
