"""foundation: runs, check executions, findings

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25 09:28:51.296258
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("selector", sa.String(length=500), nullable=False),
        sa.Column("stores", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tool_version", sa.String(length=32), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "check_executions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("finished_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_check_executions_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_executions")),
    )
    with op.batch_alter_table("check_executions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_executions_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_check_executions_store_check", ["store", "check_id"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("source_check", sa.String(length=200), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_seen", shopguard.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", shopguard.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("triage", sa.String(length=32), nullable=False),
        sa.Column("triage_reason", sa.Text(), nullable=False),
        sa.Column("triage_by", sa.String(length=200), nullable=False),
        sa.Column("triage_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["runs.id"], name=op.f("fk_findings_first_run_id_runs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["runs.id"], name=op.f("fk_findings_last_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("store", "fingerprint", name="uq_findings_store_fingerprint"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_source_check", ["store", "source_check"], unique=False)
        batch_op.create_index("ix_findings_store_status", ["store", "status"], unique=False)

    op.create_table(
        "run_findings",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_run_findings_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_findings_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "finding_id", name=op.f("pk_run_findings")),
    )


def downgrade() -> None:
    op.drop_table("run_findings")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_store_status")
        batch_op.drop_index("ix_findings_source_check")

    op.drop_table("findings")
    with op.batch_alter_table("check_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_check_executions_store_check")
        batch_op.drop_index(batch_op.f("ix_check_executions_run_id"))

    op.drop_table("check_executions")
    op.drop_table("runs")
