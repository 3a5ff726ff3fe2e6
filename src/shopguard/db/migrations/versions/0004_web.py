"""web: approved payment-page inventory

Revision ID: 0004_web
Revises: 0010_response (re-chained after merging main)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0004_web"
down_revision = "0010_response"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("page", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("identifier", sa.String(length=2000), nullable=False),
        sa.Column("sha256", sa.String(length=100), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_approvals")),
        sa.UniqueConstraint("store", "page", "kind", "identifier", name="uq_page_approvals_item"),
    )


def downgrade() -> None:
    op.drop_table("page_approvals")
