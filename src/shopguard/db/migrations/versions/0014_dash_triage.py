"""dash-triage: accepted risks expire, findings get an assignee and comments; rejected
payment-page items

Revision ID: 0014_dash_triage
Revises: 0013_dash_response
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0014_dash_triage"
down_revision = "0013_dash_response"
branch_labels = None
depends_on = None

_DT = shopguard.db.base.UTCDateTime(timezone=True)
LEGACY_DAYS = 365
"""Accepted risks recorded before expiries existed lapse a year after they were accepted."""


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("triage_expires_at", _DT, nullable=True))
        batch_op.add_column(sa.Column("assignee", sa.String(length=320), nullable=False, server_default=""))
    findings = sa.table(
        "findings",
        sa.column("id", sa.Integer()),
        sa.column("triage", sa.String()),
        sa.column("triage_at", _DT),
        sa.column("triage_expires_at", _DT),
    )
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = conn.execute(
        sa.select(findings.c.id, findings.c.triage_at).where(findings.c.triage == "accepted_risk")
    ).all()
    for fid, at in rows:
        expires = (at or now) + timedelta(days=LEGACY_DAYS)
        conn.execute(findings.update().where(findings.c.id == fid).values(triage_expires_at=expires))
    op.create_table(
        "finding_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("at", _DT, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_finding_comments_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_comments")),
    )
    op.create_index(op.f("ix_finding_comments_finding_id"), "finding_comments", ["finding_id"], unique=False)
    op.create_table(
        "page_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("page", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("identifier", sa.String(length=2000), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rejected_by", sa.String(length=200), nullable=False),
        sa.Column("rejected_at", _DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_rejections")),
        sa.UniqueConstraint("store", "page", "kind", "identifier", name="uq_page_rejections_item"),
    )


def downgrade() -> None:
    op.drop_table("page_rejections")
    op.drop_index(op.f("ix_finding_comments_finding_id"), table_name="finding_comments")
    op.drop_table("finding_comments")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_column("assignee")
        batch_op.drop_column("triage_expires_at")
