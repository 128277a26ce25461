"""platform tables: workspaces, personas, evidence, faults

Revision ID: 0001_platform
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_platform"
down_revision = None
branch_labels = ("platform",)
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", JSONType, nullable=False),
    )
    op.create_table(
        "personas",
        sa.Column("workspace", sa.String(64),
                  sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                name="fk_personas_workspace_workspaces"),
                  primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("data", JSONType, nullable=False),
    )
    op.create_index("ix_personas_ws_kind_ordinal", "personas", ["workspace", "kind", "ordinal"])
    op.create_table(
        "evidence_bodies",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("truncated", sa.Boolean, nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "exchanges",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("protocol", sa.String(10), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(120), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("correlation_id", sa.String(120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("summary", JSONType, nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=True),
        sa.Column("response_sha256", sa.String(64), nullable=True),
    )
    op.create_index("ix_exchanges_ws_started", "exchanges", ["workspace", "started_at"])
    op.create_index("ix_exchanges_correlation", "exchanges", ["correlation_id"])
    op.create_table(
        "faults",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64),
                  sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                name="fk_faults_workspace_workspaces"),
                  nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("times", sa.Integer, nullable=True),
        sa.Column("ratio", sa.Float, nullable=True),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("fired", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_faults_workspace", "faults", ["workspace"])


def downgrade() -> None:
    for table in ("faults", "exchanges", "evidence_bodies", "personas", "workspaces"):
        op.drop_table(table)
