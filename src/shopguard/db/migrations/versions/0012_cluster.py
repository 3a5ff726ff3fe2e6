"""cluster: task id -> run id, attempts (idempotent, retry-safe Celery tasks)

Revision ID: 0012_cluster
Revises: 0010_response
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopguard.db.base

revision = "0012_cluster"
down_revision = "0011_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_tasks",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stores", sa.Text(), nullable=False),
        sa.Column("selector", sa.String(length=500), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("enqueued_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", shopguard.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_cluster_tasks_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_cluster_tasks")),
    )
    op.create_index(
        "ix_cluster_tasks_status_finished", "cluster_tasks", ["status", "finished_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_cluster_tasks_status_finished", table_name="cluster_tasks")
    op.drop_table("cluster_tasks")
