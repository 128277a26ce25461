"""conformance tables: runs, results, one-live-run-per-workspace locks

Revision ID: 0001_conformance
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_conformance"
down_revision = None
branch_labels = ("conformance",)
depends_on = "0001_platform"

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conformance_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("run_workspace", sa.String(64), nullable=False),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("suite_version", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("inputs", JSONType, nullable=False),
        sa.Column("selected", JSONType, nullable=False),
        sa.Column("options", JSONType, nullable=False),
        sa.Column("rerun_of", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("pending", JSONType, nullable=True),
        sa.Column("current_test", sa.String(200), nullable=False, server_default=""),
        sa.Column("done_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("report", sa.LargeBinary, nullable=True),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_conformance_runs_ws_created", "conformance_runs", ["run_workspace", "created_at"])
    op.create_table(
        "conformance_results",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("test_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("data", JSONType, nullable=False),
    )
    op.create_table(
        "conformance_locks",
        sa.Column("workspace_name", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conformance_locks")
    op.drop_table("conformance_results")
    op.drop_index("ix_conformance_runs_ws_created", "conformance_runs")
    op.drop_table("conformance_runs")
